package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func limitedServer(t *testing.T, server string) (*Server, *testClock) {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	s, _ := newServerWith(t, "server {\n"+server+"}\n", func(o *Options) { o.Now = clk.now })
	return s, clk
}

func tokenCall(s *Server, from, id string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/api/v1/oauth/token", strings.NewReader(url.Values{"client_id": {id}, "client_secret": {"guess"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = from
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// TestTokenRateLimit: token calls are limited per client id and per
// remote address; beyond the burst the answer is 429 with Retry-After, and
// the bucket refills with the (injected) clock.
func TestTokenRateLimit(t *testing.T) {
	s, clk := limitedServer(t, "  rate_limit_per_minute = 60\n  rate_limit_burst = 3\n")
	const a, b = "192.0.2.1:5000", "198.51.100.2:5000"
	for i := range 3 {
		if rec := tokenCall(s, a, "root"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("call %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := tokenCall(s, a, "root")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), "rate_limited") {
		t.Fatalf("4th call: %d Retry-After %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	// The same client id from another address: its id's bucket is empty.
	if rec := tokenCall(s, b, "root"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("the same id from another address: %d", rec.Code)
	}
	// Another id from the first address: the address's bucket is empty.
	if rec := tokenCall(s, a, "other"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("another id from the same address: %d", rec.Code)
	}
	// Another id from another address is not limited.
	if rec := tokenCall(s, b, "other"); rec.Code != http.StatusUnauthorized {
		t.Errorf("another id from another address: %d", rec.Code)
	}
	clk.advance(time.Second)
	if rec := tokenCall(s, a, "root"); rec.Code != http.StatusUnauthorized {
		t.Errorf("after a second: %d", rec.Code)
	}
	if rec := tokenCall(s, a, "root"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("one token refilled, two calls: %d", rec.Code)
	}
	// rate_limit_per_minute = 0 turns the limit off.
	off, _ := limitedServer(t, "  rate_limit_per_minute = 0\n  rate_limit_burst = 1\n")
	for i := range 5 {
		if rec := tokenCall(off, a, "root"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("limit off, call %d: %d", i, rec.Code)
		}
	}
}

// TestDRPExerciseRateLimit: DRP exercise calls are limited too, answered
// with DRP's error body; failed authentications count against the address.
func TestDRPExerciseRateLimit(t *testing.T) {
	s, _ := limitedServer(t, "  drp_rate_limit_per_minute = 60\n  drp_rate_limit_burst = 2\n")
	call := func(from, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/drp/exercise", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.RemoteAddr = from
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	const tok = "token:privacy-request:create"
	for i := range 2 {
		if rec := call("192.0.2.1:1", tok); rec.Code == http.StatusTooManyRequests {
			t.Fatalf("call %d: limited", i)
		}
	}
	rec := call("192.0.2.1:1", tok)
	var body DRPError
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusTooManyRequests || body.Code != "429" || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("3rd call: %d %s", rec.Code, rec.Body)
	}
	for i := range 2 {
		if rec := call("192.0.2.9:1", "bad-token"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("bad token %d: %d", i, rec.Code)
		}
	}
	if rec := call("192.0.2.9:1", "bad-token"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("guessing tokens: %d, want 429", rec.Code)
	}
}

// TestRateLimiterMemoryBounded: a flood of distinct keys leaves at most
// rate_limit_entries of them remembered.
func TestRateLimiterMemoryBounded(t *testing.T) {
	clk := &testClock{t: time.Unix(0, 0)}
	l := newRateLimiter(60, 1, 100, clk.now)
	for i := range 10_000 {
		if ok, _ := l.allow(fmt.Sprintf("addr:%d", i), fmt.Sprintf("client:%d", i)); !ok {
			t.Fatalf("key %d: limited", i)
		}
	}
	if n := l.size(); n > 100 {
		t.Fatalf("%d keys remembered, more than 100", n)
	}
	// The most recent key is still remembered and still empty.
	if ok, _ := l.allow("addr:9999"); ok {
		t.Errorf("the most recent key was forgotten")
	}
}

// TestRemoteAddrTrustedProxies: X-Forwarded-For is believed only from a
// trusted proxy, and only as far left as the trusted hops go; a client
// cannot pick its own address by sending the header.
func TestRemoteAddrTrustedProxies(t *testing.T) {
	plain := testServer(t)
	proxied, _ := newServer(t, "server {\n  trusted_proxies = [\"10.0.0.0/8\"]\n}\n")
	for _, tc := range []struct {
		s      *Server
		remote string
		xff    []string
		want   string
	}{
		{plain, "192.0.2.1:1", nil, "192.0.2.1"},
		{plain, "192.0.2.1:1", []string{"203.0.113.9"}, "192.0.2.1"},
		{plain, "[2001:db8:1:2:3::4]:1", nil, "2001:db8:1:2::/64"},
		{plain, "[::ffff:192.0.2.1]:1", nil, "192.0.2.1"},
		{proxied, "192.0.2.1:1", []string{"203.0.113.9"}, "192.0.2.1"},
		{proxied, "10.1.2.3:1", nil, "10.1.2.3"},
		{proxied, "10.1.2.3:1", []string{"203.0.113.9"}, "203.0.113.9"},
		{proxied, "10.1.2.3:1", []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9"},
		{proxied, "10.1.2.3:1", []string{"6.6.6.6", "203.0.113.9, 10.0.0.7"}, "203.0.113.9"},
		{proxied, "10.1.2.3:1", []string{"10.9.9.9, 10.0.0.7"}, "10.9.9.9"},
		{proxied, "10.1.2.3:1", []string{"6.6.6.6, garbage, 10.0.0.7"}, "10.0.0.7"},
	} {
		req := httptest.NewRequest("GET", "/health", nil)
		req.RemoteAddr = tc.remote
		for _, h := range tc.xff {
			req.Header.Add("X-Forwarded-For", h)
		}
		if got := tc.s.remoteAddr(req); got != tc.want {
			t.Errorf("%s with %q (trusted %v): %s, want %s", tc.remote, tc.xff, tc.s.o.Config.Server.TrustedProxies, got, tc.want)
		}
	}
}
