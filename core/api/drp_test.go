package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/execute"
	"github.com/lethehq/lethe/core/store"
)

const (
	drpAgentToken = "agent-token-0123456789abcdef"
	drpJWTSecret  = "drp-jwt-secret-0123456789abcdef0123456789"
)

// drpClock is a settable clock shared by the API and the store.
type drpClock struct{ ns atomic.Int64 }

func (c *drpClock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *drpClock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *drpClock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newDRPClock(t time.Time) *drpClock { c := &drpClock{}; c.set(t); return c }

// drpServer serves access and deletion DRP policies to one agent, requests
// kept pending (nothing runs), with clock as the API's and the store's time.
func drpServer(t *testing.T, clock *drpClock, drpExtra string) (*httptest.Server, *store.Bolt) {
	t.Helper()
	dir := t.TempDir()
	hcl := fmt.Sprintf(`
server {
  state_dir               = %q
  require_manual_approval = true
}
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
storage "local" {
  plugin = "local"
  config = { dir = %q }
}
drp {
  jwt_secret = %q
  %s
  agent "agent" {
    token = %q
  }
}
policy "access" {
  drp_action = "access"
  rule "all" {
    action  = "access"
    targets = ["user"]
    storage = "local"
  }
}
policy "erasure" {
  drp_action = "deletion"
  rule "all" {
    action  = "erasure"
    targets = ["user"]
    masking {
      strategy = "null_rewrite"
    }
  }
}
`, dir, dir, drpJWTSecret, drpExtra, drpAgentToken)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(dir)
	if !diags.HasErrors() {
		diags = append(diags, cfg.Validate()...)
	}
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	st, err := store.Open(filepath.Join(dir, "state"), store.Options{Key: make([]byte, 32), Clock: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng, err := execute.New(execute.Options{Config: cfg, Store: st, Plugins: noPlugins{}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Config: cfg, Store: st, Engine: eng, Runner: NewRunner(eng, st, 1, nil), Auth: tokenAuthority{}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, st
}

// drpToken signs claims as the reference agent and the certification
// tools do: only what is given, no jti, iat or exp unless asked.
func drpToken(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(drpJWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type drpAnswer struct {
	code int
	body map[string]any
	raw  string
}

func drpExercise(t *testing.T, srv *httptest.Server, body map[string]any) drpAnswer {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/drp/exercise", bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+drpAgentToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	a := drpAnswer{code: resp.StatusCode, raw: buf.String()}
	_ = json.Unmarshal(buf.Bytes(), &a.body)
	return a
}

func drpBodyFor(action, token string, extra map[string]any) map[string]any {
	b := map[string]any{"meta": map[string]string{"version": "0.5"}, "regime": "ccpa", "exercise": []string{action}, "identity": token}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func mustExercise(t *testing.T, srv *httptest.Server, body map[string]any) string {
	t.Helper()
	a := drpExercise(t, srv, body)
	id, _ := a.body["request_id"].(string)
	if a.code != http.StatusOK || id == "" {
		t.Fatalf("exercise: %d %s", a.code, a.raw)
	}
	return id
}

// TestDRPReplayKeyedOnAction reproduces issue 13 item 5: a consumer's
// identity token without jti, iat or exp is the same for every request,
// and a deletion after an access with that token must be a request of its
// own, not the access request answered again.
func TestDRPReplayKeyedOnAction(t *testing.T) {
	clock := newDRPClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	srv, st := drpServer(t, clock, "")
	tok := drpToken(t, jwt.MapClaims{"email": "jane@example.com"}) // no jti, iat, exp

	access := mustExercise(t, srv, drpBodyFor("access", tok, nil))
	deletion := mustExercise(t, srv, drpBodyFor("deletion", tok, nil))
	if deletion == access {
		t.Fatalf("the deletion was answered with the access request %s", access)
	}
	for id, pol := range map[string]string{access: "access", deletion: "erasure"} {
		r, err := st.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Policy != pol {
			t.Errorf("request %s has policy %s, want %s", id, r.Policy, pol)
		}
	}
	// The same request again (an agent's retry) is the same request.
	if again := mustExercise(t, srv, drpBodyFor("deletion", tok, nil)); again != deletion {
		t.Errorf("a replay of the deletion made a new request %s, want %s", again, deletion)
	}
	// What makes a different request: another regime, another agent
	// request id; another status_callback or relationships do not.
	tests := []struct {
		name  string
		body  map[string]any
		fresh bool
	}{
		{"voluntary regime", drpBodyFor("deletion", tok, map[string]any{"regime": "voluntary"}), true},
		{"omitted regime is voluntary", func() map[string]any {
			b := drpBodyFor("deletion", tok, nil)
			delete(b, "regime")
			return b
		}(), false},
		{"agent request id", drpBodyFor("deletion", tok, map[string]any{"agent_request_id": "agent-req-2"}), true},
		{"relationships", drpBodyFor("access", tok, map[string]any{"relationships": []string{"customer"}}), false},
	}
	seen := map[string]string{"access/ccpa": access, "deletion/ccpa": deletion}
	for _, tc := range tests {
		id := mustExercise(t, srv, tc.body)
		known := false
		for _, prev := range seen {
			known = known || prev == id
		}
		if tc.fresh == known {
			t.Errorf("%s: request %s, new=%v, want new=%v", tc.name, id, !known, tc.fresh)
		}
		seen[tc.name] = id
	}
}

// TestDRPReplayWindow: a replay returns the same request only within the
// replay window (drp.replay_window, or the token's exp when sooner); after
// it the same token and action make a new request.
func TestDRPReplayWindow(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	t.Run("configured window", func(t *testing.T) {
		clock := newDRPClock(start)
		srv, _ := drpServer(t, clock, `replay_window = "2h"`)
		tok := drpToken(t, jwt.MapClaims{"email": "jane@example.com"})
		first := mustExercise(t, srv, drpBodyFor("deletion", tok, nil))
		clock.add(2*time.Hour - time.Second)
		if id := mustExercise(t, srv, drpBodyFor("deletion", tok, nil)); id != first {
			t.Errorf("within the window: new request %s, want %s", id, first)
		}
		clock.add(time.Second)
		second := mustExercise(t, srv, drpBodyFor("deletion", tok, nil))
		if second == first {
			t.Fatalf("after the window the replay still answers %s", first)
		}
		if id := mustExercise(t, srv, drpBodyFor("deletion", tok, nil)); id != second {
			t.Errorf("a replay after the new request: %s, want %s", id, second)
		}
	})
	t.Run("default window is 24h", func(t *testing.T) {
		clock := newDRPClock(start)
		srv, _ := drpServer(t, clock, "")
		tok := drpToken(t, jwt.MapClaims{"email": "jane@example.com"})
		first := mustExercise(t, srv, drpBodyFor("access", tok, nil))
		clock.add(24*time.Hour - time.Second)
		if id := mustExercise(t, srv, drpBodyFor("access", tok, nil)); id != first {
			t.Errorf("within 24h: new request %s, want %s", id, first)
		}
		clock.add(time.Second)
		if id := mustExercise(t, srv, drpBodyFor("access", tok, nil)); id == first {
			t.Errorf("after 24h the replay still answers %s", first)
		}
	})
	t.Run("exp bounds the window", func(t *testing.T) {
		clock := newDRPClock(start)
		srv, _ := drpServer(t, clock, "")
		// exp one hour ahead: the window ends there (plus the minute of
		// clock skew tokens are accepted with), before the 24 hours.
		tok := drpToken(t, jwt.MapClaims{"email": "jane@example.com", "exp": start.Add(time.Hour).Unix()})
		first := mustExercise(t, srv, drpBodyFor("access", tok, nil))
		clock.add(time.Hour)
		if id := mustExercise(t, srv, drpBodyFor("access", tok, nil)); id != first {
			t.Errorf("before exp: new request %s, want %s", id, first)
		}
		clock.add(2 * time.Minute)
		if a := drpExercise(t, srv, drpBodyFor("access", tok, nil)); a.code != http.StatusBadRequest || !strings.Contains(a.raw, "expired") {
			t.Errorf("after exp: %d %s, want 400 expired", a.code, a.raw)
		}
	})
}

// TestDRPConcurrentReplays: the same exercise sent many times at once
// makes one request.
func TestDRPConcurrentReplays(t *testing.T) {
	clock := newDRPClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	srv, st := drpServer(t, clock, "")
	tok := drpToken(t, jwt.MapClaims{"email": "jane@example.com"})
	const n = 16
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := drpExercise(t, srv, drpBodyFor("deletion", tok, nil))
			ids[i], _ = a.body["request_id"].(string)
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("concurrent replays answered %v, want one request", ids)
		}
	}
	_, total, err := st.List(t.Context(), store.Filter{})
	if err != nil || total != 1 {
		t.Fatalf("%d requests stored (%v), want 1", total, err)
	}
}

// TestDRPFutureIAT: a token issued in the future (beyond a minute of
// clock skew) is refused.
func TestDRPFutureIAT(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	srv, _ := drpServer(t, newDRPClock(now), "")
	for _, tc := range []struct {
		iat  time.Time
		code int
	}{
		{now.Add(-time.Hour), http.StatusOK},
		{now.Add(59 * time.Second), http.StatusOK},
		{now.Add(2 * time.Minute), http.StatusBadRequest},
		{now.Add(24 * time.Hour), http.StatusBadRequest},
	} {
		tok := drpToken(t, jwt.MapClaims{"email": "jane@example.com", "iat": tc.iat.Unix()})
		a := drpExercise(t, srv, drpBodyFor("access", tok, nil))
		if a.code != tc.code {
			t.Errorf("iat %s: %d %s, want %d", tc.iat.Sub(now), a.code, a.raw, tc.code)
		}
		if tc.code != http.StatusOK && !strings.Contains(a.raw, "iat") {
			t.Errorf("iat %s: %s does not say why", tc.iat.Sub(now), a.raw)
		}
	}
}
