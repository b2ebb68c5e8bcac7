package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lethehq/lethe/core/store"
)

// Health is the answer of /health. Without a token holding health:read it
// holds only Status: "ok" when the daemon is ready (its store answers),
// else "unavailable" with 503.
type Health struct {
	Status  string            `json:"status"` // ok, degraded or unavailable
	Store   string            `json:"store,omitempty"`
	Plugins map[string]string `json:"plugins,omitempty"`
}

// HealthScope is the scope that shows /health's details.
const HealthScope = "health:read"

func (s *Server) health(w http.ResponseWriter, r *http.Request, _ Principal) error {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	ready, storeState := true, "ok"
	if p, ok := s.o.Store.(interface{ Ping(context.Context) error }); ok {
		if err := p.Ping(ctx); err != nil {
			ready, storeState = false, "unavailable: "+err.Error()
		}
	}
	code, h := http.StatusOK, Health{Status: "ok"}
	if !ready {
		code, h.Status = http.StatusServiceUnavailable, "unavailable"
	}
	// Details only for a token with health:read; any other caller (no
	// token, a bad one, one without the scope) learns readiness alone.
	if token, ok := bearer(r); ok {
		if p, err := s.o.Auth.Verify(ctx, token); err == nil && p.Has(HealthScope) {
			h.Store = storeState
			if s.o.Health != nil {
				h.Plugins = s.o.Health(ctx)
				for _, st := range h.Plugins {
					if st != "ok" && h.Status == "ok" {
						h.Status = "degraded"
					}
				}
			}
		}
	}
	writeJSON(w, code, h)
	return nil
}

// MetricsScope is the scope /metrics needs on the API's listener.
const MetricsScope = "metrics:read"

// Metrics collects what /metrics serves. A scrape reads only memory: the
// requests by status are counted once at start (InitStatusCounts) and then
// kept up to date by ObserveStatus, which the store calls on every change
// of status (store.Options.OnStatus).
type Metrics struct {
	mu       sync.Mutex
	http     map[string]int64 // "route\x00code" -> count
	created  int64
	nodes    map[string]*histogram  // phase -> node durations
	restarts func() map[string]int  // plugin -> restarts
	statuses map[store.Status]int64 // nil until InitStatusCounts
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{http: map[string]int64{}, nodes: map[string]*histogram{}}
}

// InitStatusCounts counts the stored requests by status, once (later calls
// do nothing). Changes reported to ObserveStatus before it are ignored:
// the count includes them.
func (m *Metrics) InitStatusCounts(ctx context.Context, st store.Store) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.statuses != nil {
		return nil
	}
	counts := make(map[store.Status]int64, len(store.AllStatuses))
	for _, status := range store.AllStatuses {
		_, total, err := st.List(ctx, store.Filter{Statuses: []store.Status{status}, Size: 1})
		if err != nil {
			return fmt.Errorf("count requests by status: %w", err)
		}
		counts[status] = int64(total)
	}
	m.statuses = counts
	return nil
}

// ObserveStatus records that a request moved from one status to another
// (from is "" for a new request).
func (m *Metrics) ObserveStatus(from, to store.Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.statuses == nil || from == to {
		return
	}
	if from != "" && m.statuses[from] > 0 {
		m.statuses[from]--
	}
	m.statuses[to]++
}

// SetPluginRestarts sets the source of the plugin restart counts.
func (m *Metrics) SetPluginRestarts(f func() map[string]int) {
	m.mu.Lock()
	m.restarts = f
	m.mu.Unlock()
}

func (m *Metrics) observeHTTP(route string, code int, _ time.Duration) {
	m.mu.Lock()
	m.http[route+"\x00"+fmt.Sprint(code)]++
	m.mu.Unlock()
}

func (m *Metrics) requestCreated() {
	m.mu.Lock()
	m.created++
	m.mu.Unlock()
}

// ObserveNode records a finished node's duration.
func (m *Metrics) ObserveNode(phase string, d time.Duration) {
	m.mu.Lock()
	h := m.nodes[phase]
	if h == nil {
		h = newHistogram()
		m.nodes[phase] = h
	}
	h.observe(d.Seconds())
	m.mu.Unlock()
}

var bucketBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

type histogram struct {
	counts []int64
	sum    float64
	n      int64
}

func newHistogram() *histogram { return &histogram{counts: make([]int64, len(bucketBounds))} }

func (h *histogram) observe(v float64) {
	for i, b := range bucketBounds {
		if v <= b {
			h.counts[i]++
		}
	}
	h.sum += v
	h.n++
}

// MetricsHandler serves /metrics without a token, for its own listener
// (server.metrics_listen).
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if err := s.metrics(w, r, Principal{}); err != nil {
			writeError(w, errInternal)
		}
	})
	return mux
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request, _ Principal) error {
	var b strings.Builder
	b.WriteString("# HELP lethe_privacy_requests Privacy requests by status.\n# TYPE lethe_privacy_requests gauge\n")
	m := s.o.Metrics
	m.mu.Lock()
	for _, st := range store.AllStatuses {
		fmt.Fprintf(&b, "lethe_privacy_requests{status=%q} %d\n", st, m.statuses[st])
	}
	fmt.Fprintf(&b, "# HELP lethe_privacy_requests_created_total Privacy requests created through the API since start.\n# TYPE lethe_privacy_requests_created_total counter\nlethe_privacy_requests_created_total %d\n", m.created)
	b.WriteString("# HELP lethe_http_requests_total HTTP requests by route and status code.\n# TYPE lethe_http_requests_total counter\n")
	keys := make([]string, 0, len(m.http))
	for k := range m.http {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		route, code, _ := strings.Cut(k, "\x00")
		fmt.Fprintf(&b, "lethe_http_requests_total{route=%q,code=%q} %d\n", route, code, m.http[k])
	}
	b.WriteString("# HELP lethe_node_duration_seconds Duration of finished nodes by phase.\n# TYPE lethe_node_duration_seconds histogram\n")
	phases := make([]string, 0, len(m.nodes))
	for p := range m.nodes {
		phases = append(phases, p)
	}
	sort.Strings(phases)
	for _, p := range phases {
		h := m.nodes[p]
		for i, bound := range bucketBounds {
			fmt.Fprintf(&b, "lethe_node_duration_seconds_bucket{phase=%q,le=\"%g\"} %d\n", p, bound, h.counts[i])
		}
		fmt.Fprintf(&b, "lethe_node_duration_seconds_bucket{phase=%q,le=\"+Inf\"} %d\n", p, h.n)
		fmt.Fprintf(&b, "lethe_node_duration_seconds_sum{phase=%q} %g\nlethe_node_duration_seconds_count{phase=%q} %d\n", p, h.sum, p, h.n)
	}
	restarts := m.restarts
	m.mu.Unlock()
	b.WriteString("# HELP lethe_plugin_restarts_total Plugin restarts after crashes.\n# TYPE lethe_plugin_restarts_total counter\n")
	if restarts != nil {
		rs := restarts()
		names := make([]string, 0, len(rs))
		for n := range rs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "lethe_plugin_restarts_total{plugin=%q} %d\n", n, rs[n])
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, err := w.Write([]byte(b.String()))
	return err
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// OpenAPI builds the OpenAPI 3 document of the route table.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": strings.ToLower(rt.Method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(rt.Path),
			"responses": map[string]any{
				"200":     map[string]any{"description": orDefault(rt.Response, "OK")},
				"default": map[string]any{"description": "an error: {\"error\": {\"code\", \"message\", \"details\"}}"},
			},
			"x-lethe-scope": rt.Scope,
		}
		if rt.Scope != Public {
			op["security"] = []map[string][]string{{"oauth2": {rt.Scope}}}
		} else {
			op["security"] = []map[string][]string{}
		}
		var params []map[string]any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Body != "" {
			op["requestBody"] = map[string]any{"description": rt.Body, "content": map[string]any{"application/json": map[string]any{}}}
		}
		if paths[rt.Path] == nil {
			paths[rt.Path] = map[string]any{}
		}
		paths[rt.Path][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "Lethe API", "version": "1"},
		"paths":   paths,
		"components": map[string]any{"securitySchemes": map[string]any{"oauth2": map[string]any{
			"type": "oauth2", "flows": map[string]any{"clientCredentials": map[string]any{"tokenUrl": "/api/v1/oauth/token", "scopes": map[string]string{}}},
		}}},
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request, _ Principal) error {
	writeJSON(w, http.StatusOK, s.OpenAPI())
	return nil
}
