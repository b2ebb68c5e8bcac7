package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// postToken calls the token route with a client's credentials.
func (d *daemon) postToken(id, secret string) *http.Response {
	d.t.Helper()
	resp, err := d.client.PostForm(d.base+"/api/v1/oauth/token", url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"client_credentials"}})
	if err != nil {
		d.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestServeMaskingBounded: the masking route needs a token holding
// masking:exec, and the reproduction of the finding (1,000 values and a
// large rewrite_value: a 1,000-fold answer) is refused, naming the bound.
func TestServeMaskingBounded(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := serveConfig(t, b, "")
	d := startDaemon(t, dir)
	values := make([]string, 1000)
	for i := range values {
		values[i] = "v"
	}
	attack := map[string]any{"values": values, "masking_strategy": map[string]any{"strategy": "string_rewrite",
		"configuration": map[string]any{"rewrite_value": strings.Repeat("x", 900_000)}}}
	if code, raw := d.raw("PUT", "/api/v1/masking/mask", "", attack); code != 401 {
		t.Errorf("without a token: %d %s", code, truncate(raw))
	}
	tok := d.token("lethe-root", rootSecret)
	code, raw := d.raw("PUT", "/api/v1/masking/mask", tok, attack)
	if code != 422 || !strings.Contains(string(raw), "rewrite_value") || len(raw) > 4096 {
		t.Errorf("the reproduction: %d, %d bytes: %s", code, len(raw), truncate(raw))
	}
	code, raw = d.raw("PUT", "/api/v1/masking/mask", tok, map[string]any{"values": []string{"a"}, "masking_strategy": map[string]any{"strategy": "hash"}})
	if code != 200 {
		t.Errorf("a small call: %d %s", code, truncate(raw))
	}
}

// TestServeRootRotation: after the root secret changes (configuration
// change and restart) the root tokens issued before are refused.
func TestServeRootRotation(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := serveConfig(t, b, "")
	d := startDaemon(t, dir)
	old := d.token("lethe-root", rootSecret)
	if code, _ := d.raw("GET", "/api/v1/policy", old, nil); code != 200 {
		t.Fatalf("the root token: %d", code)
	}
	if err := d.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d = startDaemon(t, dir)
	if code, _ := d.raw("GET", "/api/v1/policy", old, nil); code != 200 {
		t.Errorf("after a restart with the same secret: %d, want 200", code)
	}
	if err := d.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	const rotated = "rotated-root-secret-4e8b1d"
	d = startDaemon(t, dir, "LETHE_TEST_ROOT_SECRET="+rotated)
	if code, _ := d.raw("GET", "/api/v1/policy", old, nil); code != 401 {
		t.Errorf("a root token issued under the old secret: %d, want 401", code)
	}
	if resp := d.postToken("lethe-root", rootSecret); resp.StatusCode != 401 {
		t.Errorf("the old secret: %d", resp.StatusCode)
	}
	if code, _ := d.raw("GET", "/api/v1/policy", d.token("lethe-root", rotated), nil); code != 200 {
		t.Errorf("a token of the new secret: %d", code)
	}
}

// TestServeTokenRateLimit: token calls beyond the burst get 429 with
// Retry-After, from the connection's address whatever X-Forwarded-For
// says (no trusted proxy is configured).
func TestServeTokenRateLimit(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := serveConfig(t, b, "  rate_limit_per_minute = 1\n  rate_limit_burst = 3\n")
	d := startDaemon(t, dir)
	d.token("lethe-root", rootSecret)
	for i := range 2 {
		if resp := d.postToken("cli_guess", "guess"); resp.StatusCode != 401 {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", d.base+"/api/v1/oauth/token", strings.NewReader(url.Values{"client_id": {"other"}, "client_secret": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "203.0.113.77")
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("4th call from the same address, spoofing X-Forwarded-For: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestServeDeleteClientSubset: a client deletes only clients whose scopes
// it holds.
func TestServeDeleteClientSubset(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := serveConfig(t, b, "")
	d := startDaemon(t, dir)
	root := d.token("lethe-root", rootSecret)
	create := func(scopes ...string) (string, string) {
		code, c := d.call("POST", "/api/v1/oauth/client", root, map[string]any{"scopes": scopes})
		if code != 200 {
			t.Fatalf("create client: %d %v", code, c)
		}
		return c["client_id"].(string), c["client_secret"].(string)
	}
	deleter := d.token(create("client:delete", "policy:read"))
	wider, _ := create("policy:read", "privacy-request:read")
	narrower, _ := create("policy:read")
	if code, body := d.call("DELETE", "/api/v1/oauth/client/"+wider, deleter, nil); code != 403 {
		t.Errorf("deleting a client with more scopes: %d %v, want 403", code, body)
	}
	if code, body := d.call("DELETE", "/api/v1/oauth/client/"+narrower, deleter, nil); code != 204 {
		t.Errorf("deleting a client with a subset of the scopes: %d %v, want 204", code, body)
	}
	if code, _ := d.call("DELETE", "/api/v1/oauth/client/"+wider, root, nil); code != 204 {
		t.Errorf("root deleting: %d", code)
	}
}

var metricsLine = regexp.MustCompile(`metrics on (http://\S+)`)

// TestServeUnauthenticatedSurface: /health without a token says only
// "ok"; /metrics needs metrics:read on the API and is open on
// server.metrics_listen; DRP discovery ignores a hostile Host header.
func TestServeUnauthenticatedSurface(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := serveConfig(t, b, "  metrics_listen = \"127.0.0.1:0\"\n")
	d := startDaemon(t, dir)
	code, raw := d.raw("GET", "/health", "", nil)
	if code != 200 || strings.TrimSpace(string(raw)) != `{"status":"ok"}` {
		t.Errorf("/health without a token: %d %s", code, raw)
	}
	root := d.token("lethe-root", rootSecret)
	code, h := d.call("GET", "/health", root, nil)
	if code != 200 || h["store"] != "ok" || h["plugins"] == nil {
		t.Errorf("/health with health:read: %d %v", code, h)
	}
	if code, _ := d.raw("GET", "/metrics", "", nil); code != 401 {
		t.Errorf("/metrics without a token: %d", code)
	}
	id := firstID(t, d.create(root, map[string]any{"identity": map[string]string{"email": "jane@example.com"}, "policy_key": "access"}))
	d.waitStatus(root, id, "complete", "error")
	code, raw = d.raw("GET", "/metrics", root, nil)
	if code != 200 || !strings.Contains(string(raw), `lethe_privacy_requests{status="complete"} 1`) {
		t.Errorf("/metrics with the root token: %d %s", code, truncate(raw))
	}
	m := metricsLine.FindStringSubmatch(d.out.String())
	if m == nil {
		t.Fatalf("no metrics listener:\n%s", d.out.String())
	}
	resp, err := d.client.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `lethe_privacy_requests{status="complete"} 1`) {
		t.Errorf("the metrics listener: %d %s", resp.StatusCode, truncate(body))
	}
	req, _ := http.NewRequest("GET", d.base+"/.well-known/data-rights.json", nil)
	req.Host = "evil.example"
	resp, err = d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || doc["api_base"] != "/api/v1/drp" {
		t.Errorf("discovery with a hostile Host: %d %v %v", resp.StatusCode, doc, err)
	}
}
