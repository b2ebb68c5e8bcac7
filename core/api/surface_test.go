package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lethehq/lethe/core/store"
)

func get(s http.Handler, path, token, host string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if host != "" {
		req.Host = host
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// TestHealthSaysLittleWithoutScope: /health without a token (or with one
// lacking health:read) says only whether the daemon is ready.
func TestHealthSaysLittleWithoutScope(t *testing.T) {
	s, st := newServerWith(t, "", func(o *Options) {
		o.Health = func(context.Context) map[string]string {
			return map[string]string{"connector-postgres": "failed: dial tcp 10.0.0.5:5432: connection refused"}
		}
	})
	for _, tok := range []string{"", "garbage", "token:policy:read"} {
		rec := get(s, "/health", tok, "")
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
			t.Errorf("token %q: %d %s, want only {\"status\":\"ok\"}", tok, rec.Code, rec.Body)
		}
	}
	rec := get(s, "/health", "token:health:read", "")
	var h Health
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil || rec.Code != 200 || h.Status != "degraded" || h.Store != "ok" || len(h.Plugins) != 1 {
		t.Errorf("with health:read: %d %s", rec.Code, rec.Body)
	}
	// Not ready: 503, and still no detail without the scope.
	st.Close()
	rec = get(s, "/health", "", "")
	if rec.Code != http.StatusServiceUnavailable || strings.TrimSpace(rec.Body.String()) != `{"status":"unavailable"}` {
		t.Errorf("store closed, no token: %d %s", rec.Code, rec.Body)
	}
	rec = get(s, "/health", "token:health:read", "")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"store":"unavailable`) {
		t.Errorf("store closed, health:read: %d %s", rec.Code, rec.Body)
	}
}

// countingStore counts the calls that read many requests.
type countingStore struct {
	store.Store
	scans atomic.Int64
}

func (c *countingStore) List(ctx context.Context, f store.Filter) ([]*store.Request, int, error) {
	c.scans.Add(1)
	return c.Store.List(ctx, f)
}

func (c *countingStore) Unfinished(ctx context.Context, st ...store.Status) ([]*store.Request, error) {
	c.scans.Add(1)
	return c.Store.Unfinished(ctx, st...)
}

// TestMetricsNeedScopeAndScanNothing: /metrics needs metrics:read on the
// API (its own listener serves it without one), and a scrape reads counts
// kept in memory: no store scan, whatever the number of requests.
func TestMetricsNeedScopeAndScanNothing(t *testing.T) {
	var cs *countingStore
	s, _ := newServerWith(t, "server {\n  require_manual_approval = true\n}\n"+shopConfig, func(o *Options) {
		cs = &countingStore{Store: o.Store}
		o.Store = cs
	})
	if rec := get(s, "/metrics", "", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", rec.Code)
	}
	if rec := get(s, "/metrics", "token:policy:read", ""); rec.Code != http.StatusForbidden {
		t.Errorf("without metrics:read: %d", rec.Code)
	}
	for range 3 {
		req := httptest.NewRequest("POST", "/api/v1/privacy-request", strings.NewReader(`[{"identity": {"email": "a@example.com"}, "policy_key": "access"}]`))
		req.Header.Set("Authorization", "Bearer token:privacy-request:create,privacy-request:review")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"failed":[]`) {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
	}
	list, _, err := cs.Store.List(context.Background(), store.Filter{})
	if err != nil || len(list) != 3 {
		t.Fatalf("%d requests, %v", len(list), err)
	}
	req := httptest.NewRequest("PATCH", "/api/v1/privacy-request/administrate/deny", strings.NewReader(`{"request_ids": ["`+list[0].ID+`"]}`))
	req.Header.Set("Authorization", "Bearer token:privacy-request:review")
	s.ServeHTTP(httptest.NewRecorder(), req)

	before := cs.scans.Load()
	for _, h := range []http.Handler{s, s.MetricsHandler()} {
		rec := get(h, "/metrics", "token:metrics:read", "")
		if rec.Code != 200 {
			t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
		}
		body := rec.Body.String()
		for _, want := range []string{`lethe_privacy_requests{status="pending"} 2`, `lethe_privacy_requests{status="denied"} 1`, `lethe_privacy_requests{status="complete"} 0`} {
			if !strings.Contains(body, want) {
				t.Errorf("the scrape lacks %s:\n%s", want, body)
			}
		}
	}
	if n := cs.scans.Load() - before; n != 0 {
		t.Errorf("two scrapes scanned the store %d times, want 0", n)
	}
	if rec := get(s.MetricsHandler(), "/metrics", "", ""); rec.Code != 200 {
		t.Errorf("the metrics listener without a token: %d", rec.Code)
	}
}

// TestDRPDiscoveryIgnoresHost: api_base never comes from the Host header:
// drp.api_base when set, else a path.
func TestDRPDiscoveryIgnoresHost(t *testing.T) {
	const hostile = "evil.example:443"
	for _, tc := range []struct{ hcl, want string }{
		{"", "/api/v1/drp"},
		{"drp {\n  api_base = \"https://privacy.example.com/api/v1/drp\"\n}\n", "https://privacy.example.com/api/v1/drp"},
	} {
		s, _ := newServer(t, tc.hcl)
		rec := get(s, "/.well-known/data-rights.json", "", hostile)
		var doc DRPDiscovery
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if doc.APIBase != tc.want || strings.Contains(rec.Body.String(), "evil") {
			t.Errorf("api_base %q with Host %s, want %q", doc.APIBase, hostile, tc.want)
		}
	}
}

// shopConfig is a connection, a dataset and an access policy; with no
// plugins, a request on it fails at its first node.
const shopConfig = `
connection "db" {
  plugin = "sqlite"
  access = "write"
  config = { path = "x.db" }
}
dataset "shop" {
  connection = "db"
  collection "customers" {
    field "id" {
      primary_key = true
      categories  = ["user.unique_id"]
    }
    field "email" {
      type       = "string"
      categories = ["user.contact.email"]
      identity   = "email"
    }
  }
}
policy "access" {
  rule "all" {
    action  = "access"
    targets = ["user"]
    storage = "local"
  }
}
`
