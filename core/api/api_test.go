package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/execute"
	"github.com/lethehq/lethe/core/store"
)

// tokenAuthority accepts "token:<scope>,<scope>" as a token: enough to test
// the routing and scope checks, which do not depend on how tokens are
// made (core/auth has its own tests, tests/e2e runs the real one).
type tokenAuthority struct{}

func (tokenAuthority) Token(context.Context, string, string) (string, time.Duration, error) {
	return "", 0, ErrInvalidClient
}

func (tokenAuthority) Verify(_ context.Context, tok string) (Principal, error) {
	scopes, ok := strings.CutPrefix(tok, "token:")
	if !ok {
		return Principal{}, ErrInvalidToken
	}
	return Principal{ClientID: "test", Scopes: strings.Split(scopes, ",")}, nil
}

func (tokenAuthority) CreateClient(context.Context, Principal, []string) (string, string, error) {
	return "", "", ErrScopeEscalation
}

func (tokenAuthority) DeleteClient(context.Context, Principal, string) error {
	return store.ErrNotFound
}

func testServer(t testing.TB) *Server {
	t.Helper()
	s, _ := newServer(t, `
policy "access" {
  rule "all" {
    action  = "access"
    targets = ["user"]
    storage = "local"
  }
}
`)
	return s
}

// newServer serves the configuration hcl (a server block with state_dir
// and a local storage are added) with a real store and no plugins.
func newServer(tb testing.TB, hcl string) (*Server, *store.Bolt) {
	tb.Helper()
	return newServerWith(tb, hcl, nil)
}

// newServerWith is newServer with mod changing the options first.
func newServerWith(tb testing.TB, hcl string, mod func(*Options)) (*Server, *store.Bolt) {
	tb.Helper()
	dir := tb.TempDir()
	if !strings.Contains(hcl, "server {") {
		hcl = "server {\n}\n" + hcl
	}
	hcl = strings.Replace(hcl, "server {\n", "server {\n  state_dir = \""+dir+"\"\n", 1)
	hcl += "storage \"local\" {\n  plugin = \"local\"\n  config = { dir = \"" + dir + "\" }\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o600); err != nil {
		tb.Fatal(err)
	}
	cfg, diags := config.Load(dir)
	if !diags.HasErrors() {
		diags = append(diags, cfg.Validate()...)
	}
	if diags.HasErrors() {
		tb.Fatal(diags.Error())
	}
	metrics := NewMetrics()
	st, err := store.Open(filepath.Join(dir, "state"), store.Options{Key: make([]byte, 32), OnStatus: metrics.ObserveStatus})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	eng, err := execute.New(execute.Options{Config: cfg, Store: st, Plugins: noPlugins{}})
	if err != nil {
		tb.Fatal(err)
	}
	o := Options{Config: cfg, Store: st, Engine: eng, Runner: NewRunner(eng, st, 1, nil), Auth: tokenAuthority{}, Metrics: metrics}
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		tb.Fatal(err)
	}
	return s, st
}

type noPlugins struct{}

func (noPlugins) Connector(string) (execute.Connector, error) { return nil, store.ErrNotFound }
func (noPlugins) Storage(string) (execute.Storage, error)     { return nil, store.ErrNotFound }

// TestEveryRouteDeclaresAScope: the table is the single place scopes are
// declared; a route without one is refused.
func TestEveryRouteDeclaresAScope(t *testing.T) {
	s := testServer(t)
	for _, rt := range s.Routes() {
		if rt.Scope == "" || rt.Summary == "" {
			t.Errorf("%s %s: scope %q, summary %q", rt.Method, rt.Path, rt.Scope, rt.Summary)
		}
	}
	bad := &Server{o: s.o, mux: http.NewServeMux()}
	if err := bad.register(append(s.table(), Route{Method: "GET", Path: "/api/v1/unscoped", handle: s.health})); err == nil || !strings.Contains(err.Error(), "declares no scope") {
		t.Errorf("a route without a scope was accepted: %v", err)
	}
}

// TestOpenAPIMatchesRouter: every operation of the OpenAPI document is
// served (never 404 or 405 from the router), and every route is in the
// document.
func TestOpenAPIMatchesRouter(t *testing.T) {
	s := testServer(t)
	doc := s.OpenAPI()
	paths := doc["paths"].(map[string]map[string]any)
	n := 0
	for p, ops := range paths {
		for method := range ops {
			n++
			req := httptest.NewRequest(strings.ToUpper(method), strings.NewReplacer("{id}", "x", "{key}", "x").Replace(p), nil)
			_, pattern := s.mux.Handler(req)
			if pattern == "" {
				t.Errorf("%s %s is in the document but not routed", method, p)
			}
		}
	}
	if n != len(s.Routes()) {
		t.Errorf("%d operations in the document, %d routes", n, len(s.Routes()))
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got["openapi"] != "3.0.3" {
		t.Errorf("served document: %v %v", err, got["openapi"])
	}
}

func TestScopes(t *testing.T) {
	s := testServer(t)
	for _, tc := range []struct {
		token string
		code  int
	}{
		{"", 401},
		{"garbage", 401},
		{"token:policy:read", 403},
		{"token:privacy-request:read", 200},
	} {
		req := httptest.NewRequest("GET", "/api/v1/privacy-request", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tc.code {
			t.Errorf("token %q: %d, want %d: %s", tc.token, rec.Code, tc.code, rec.Body)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	s := testServer(t)
	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`[{"identity": {"email": "a@b.c"}, "policy_key": "access", "extra": true}]`, 400, `unknown field \"extra\"`},
		{`[{"identity": 5}]`, 400, "identity: expected"},
		{`[`, 400, "malformed JSON"},
		{``, 400, "needs a JSON body"},
		{`[] {}`, 400, "more than one JSON value"},
		{`"` + strings.Repeat("x", MaxBodyBytes) + `"`, 413, "larger than"},
	} {
		req := httptest.NewRequest("POST", "/api/v1/privacy-request", strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer token:privacy-request:create")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("body %.40q: %d %s, want %d %q", tc.body, rec.Code, rec.Body, tc.code, tc.want)
		}
	}
}
