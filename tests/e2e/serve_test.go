package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const rootSecret = "root-secret-7f3a9c2e51d84b06"

// daemon is a running `lethe serve`.
type daemon struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	out    *syncBuffer // stdout and stderr
	done   chan error
	client *http.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// serveConfig adds the auth block to a backend's configuration.
func serveConfig(t *testing.T, b *backend, extraServer string) (dir, results string) {
	t.Helper()
	dir, results = b.config(t)
	main, err := os.ReadFile(filepath.Join(dir, "main.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(main), "max_parallel_nodes = 8\n", "max_parallel_nodes = 8\n"+extraServer, 1)
	s += "\nauth {\n  root_client_id     = \"lethe-root\"\n  root_client_secret = env(\"LETHE_TEST_ROOT_SECRET\")\n  token_ttl          = \"10m\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, results
}

// startDaemon starts `lethe serve DIR` on a free loopback port and waits
// until it listens.
func startDaemon(t *testing.T, dir string, env ...string) *daemon {
	t.Helper()
	bin, _ := binaries(t)
	cmd := exec.Command(bin, "serve", dir, "--listen", "127.0.0.1:0", "--log-level", "trace")
	cmd.Env = append(append(os.Environ(), "LETHE_TEST_ROOT_SECRET="+rootSecret), env...)
	d := &daemon{t: t, cmd: cmd, out: &syncBuffer{}, done: make(chan error, 1), client: &http.Client{Timeout: 30 * time.Second}}
	pr, pw := io.Pipe()
	cmd.Stdout = io.MultiWriter(d.out, pw)
	cmd.Stderr = d.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- cmd.Wait(); pw.Close() }()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case base, ok := <-found:
		if !ok {
			t.Fatalf("lethe serve ended before listening:\n%s", d.out.String())
		}
		d.base = base
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("lethe serve did not listen within a minute:\n%s", d.out.String())
	}
	t.Cleanup(func() { d.stop(syscall.SIGKILL) })
	return d
}

// stop signals the daemon and waits for it to exit.
func (d *daemon) stop(sig syscall.Signal) error {
	if d.cmd.ProcessState != nil {
		return nil
	}
	_ = d.cmd.Process.Signal(sig)
	select {
	case err := <-d.done:
		d.done <- err
		return err
	case <-time.After(45 * time.Second):
		_ = d.cmd.Process.Kill()
		return fmt.Errorf("lethe serve did not stop within 45s")
	}
}

// call sends a JSON request; body nil sends none. It returns the status
// and the decoded JSON answer.
func (d *daemon) call(method, path, token string, body any) (int, map[string]any) {
	d.t.Helper()
	code, raw := d.raw(method, path, token, body)
	var out map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			d.t.Fatalf("%s %s: invalid JSON answer: %v\n%s", method, path, err, raw)
		}
	}
	return code, out
}

func (d *daemon) raw(method, path, token string, body any) (int, []byte) {
	d.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			d.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, d.base+path, rd)
	if err != nil {
		d.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// token gets an access token for a client.
func (d *daemon) token(id, secret string) string {
	d.t.Helper()
	resp, err := d.client.PostForm(d.base+"/api/v1/oauth/token", url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"client_credentials"}})
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 || tok.AccessToken == "" {
		d.t.Fatalf("token for %s: status %d %v", id, resp.StatusCode, err)
	}
	return tok.AccessToken
}

// waitStatus polls a request until it reaches one of statuses.
func (d *daemon) waitStatus(token, id string, statuses ...string) map[string]any {
	d.t.Helper()
	var last map[string]any
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		code, body := d.call("GET", "/api/v1/privacy-request/"+id, token, nil)
		if code != 200 {
			d.t.Fatalf("GET request %s: %d %v", id, code, body)
		}
		last = body
		for _, s := range statuses {
			if body["status"] == s {
				return body
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("request %s did not reach %v; last %v\n%s", id, statuses, last, d.out.String())
	return nil
}

func (d *daemon) create(token string, items ...map[string]any) map[string]any {
	d.t.Helper()
	code, body := d.call("POST", "/api/v1/privacy-request", token, items)
	if code != 200 {
		d.t.Fatalf("create: %d %v", code, body)
	}
	return body
}

func firstID(t *testing.T, bulk map[string]any) string {
	t.Helper()
	ok, _ := bulk["succeeded"].([]any)
	if len(ok) != 1 {
		t.Fatalf("bulk answer: %v", bulk)
	}
	return ok[0].(map[string]any)["id"].(string)
}

// TestServeRequestsOverHTTP: over the API of a real `lethe serve` on the
// PostgreSQL example, an access request completes with the exact package
// and an erasure request with the exact database; the log lists every node.
func TestServeRequestsOverHTTP(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "access_jane.json"))
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, "postgres")
	dir, _ := serveConfig(t, b, "")
	before := dump(t, b.db)
	d := startDaemon(t, dir)
	tok := d.token("lethe-root", rootSecret)

	id := firstID(t, d.create(tok, map[string]any{"identity": map[string]string{"email": "jane@example.com"}, "policy_key": "access", "external_id": "ticket-1"}))
	req := d.waitStatus(tok, id, "complete", "error")
	if req["status"] != "complete" {
		t.Fatalf("access request: %v\n%s", req, d.out.String())
	}
	results, _ := req["results"].([]any)
	if len(results) != 1 {
		t.Fatalf("results %v", req["results"])
	}
	pkg := strings.TrimPrefix(results[0].(string), "file://")
	if got, want := canonicalPackage(t, pkg), canonicalJSON(t, golden); got != want {
		t.Errorf("package\n got:\n%s\nwant:\n%s", got, want)
	}
	if req["external_id"] != "ticket-1" || req["policy_key"] != "access" {
		t.Errorf("request %v", req)
	}
	if strings.Contains(fmt.Sprint(req), "jane@example.com") {
		t.Errorf("the API returned an identity value: %v", req)
	}
	code, log := d.call("GET", "/api/v1/privacy-request/"+id+"/log?size=100", tok, nil)
	done := map[string]int{}
	for _, e := range log["items"].([]any) {
		ev := e.(map[string]any)
		if ev["type"] == "node_done" {
			done[fmt.Sprint(ev["collection"])]++
		}
	}
	if code != 200 || len(done) != 11 {
		t.Errorf("log: %d, node_done for %d collections: %v", code, len(done), done)
	}

	// Preview: the plan with the query each collection would run, from
	// instances of its own (the engine's are not replaced).
	code, prev := d.call("PUT", "/api/v1/privacy-request/preview", tok, map[string]any{"policy_key": "erasure", "identity": map[string]string{"email": ""}})
	queries, _ := prev["queries"].(map[string]any)
	if code != 200 || len(queries) != 11 {
		t.Fatalf("preview: %d %v", code, prev)
	}
	for node, q := range queries {
		if s := fmt.Sprint(q); !strings.Contains(s, "SELECT") || strings.Contains(s, "not available") {
			t.Errorf("preview of %s: %s", node, s)
		}
	}

	id = firstID(t, d.create(tok, map[string]any{"identity": map[string]string{"email": "jane@example.com"}, "policy_key": "erasure"}))
	if req := d.waitStatus(tok, id, "complete", "error"); req["status"] != "complete" {
		t.Fatalf("erasure request: %v", req)
	}
	checkErasure(t, before, dump(t, b.db), erased)

	code, list := d.call("GET", "/api/v1/privacy-request?status=complete&size=10", tok, nil)
	if code != 200 || list["total"] != float64(2) {
		t.Errorf("list: %d %v", code, list)
	}
	code, list = d.call("GET", "/api/v1/privacy-request?identity=email:jane@example.com", tok, nil)
	if code != 200 || list["total"] != float64(2) {
		t.Errorf("list by identity: %d %v", code, list)
	}
	code, list = d.call("GET", "/api/v1/privacy-request?identity=email:bob@example.com", tok, nil)
	if code != 200 || list["total"] != float64(0) {
		t.Errorf("list by another identity: %d %v", code, list)
	}
	if err := d.stop(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM: %v\n%s", err, d.out.String())
	}
	if !strings.Contains(d.out.String(), "lethe serve: stopped") {
		t.Errorf("no graceful stop:\n%s", d.out.String())
	}
}

// TestServeAuthOnEveryRoute: every route of the OpenAPI document (made
// from the route table) answers 401 without a token and with a bad one,
// and 403 to a valid token without its scope; public routes answer
// without a token. A client cannot create a client with more scopes.
func TestServeAuthOnEveryRoute(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := serveConfig(t, b, "")
	d := startDaemon(t, dir)
	root := d.token("lethe-root", rootSecret)
	code, created := d.call("POST", "/api/v1/oauth/client", root, map[string]any{"scopes": []string{"policy:read"}})
	if code != 200 {
		t.Fatalf("create client: %d %v", code, created)
	}
	limited := d.token(created["client_id"].(string), created["client_secret"].(string))

	code, doc := d.call("GET", "/api/v1/openapi.json", "", nil)
	if code != 200 {
		t.Fatalf("openapi: %d", code)
	}
	paths := doc["paths"].(map[string]any)
	var keys []string
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	checked := 0
	for _, p := range keys {
		for method, op := range paths[p].(map[string]any) {
			scope := op.(map[string]any)["x-lethe-scope"].(string)
			path := strings.NewReplacer("{id}", "pri_unknown", "{key}", "access").Replace(p)
			m := strings.ToUpper(method)
			if scope == "" {
				t.Errorf("%s %s declares no scope", m, p)
			}
			if scope == "public" {
				continue
			}
			checked++
			if code, _ := d.raw(m, path, "", nil); code != 401 {
				t.Errorf("%s %s without a token: %d, want 401", m, p, code)
			}
			if code, _ := d.raw(m, path, "not-a-token", nil); code != 401 {
				t.Errorf("%s %s with a bad token: %d, want 401", m, p, code)
			}
			if scope != "policy:read" {
				if code, _ := d.raw(m, path, limited, nil); code != 403 {
					t.Errorf("%s %s with a token lacking %s: %d, want 403", m, p, scope, code)
				}
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d protected routes checked", checked)
	}
	if code, _ := d.raw("GET", "/api/v1/policy", limited, nil); code != 200 {
		t.Errorf("GET /policy with policy:read: %d", code)
	}
	code, body := d.call("POST", "/api/v1/oauth/client", root, map[string]any{"scopes": []string{"client:create", "policy:read"}})
	if code != 200 {
		t.Fatalf("create client: %d %v", code, body)
	}
	creator := d.token(body["client_id"].(string), body["client_secret"].(string))
	if code, body := d.call("POST", "/api/v1/oauth/client", creator, map[string]any{"scopes": []string{"privacy-request:read"}}); code != 403 {
		t.Errorf("scope escalation: %d %v, want 403", code, body)
	}
	if code, _ := d.call("POST", "/api/v1/oauth/client", creator, map[string]any{"scopes": []string{"policy:read"}}); code != 200 {
		t.Errorf("a subset of the creator's scopes: %d, want 200", code)
	}
	resp, err := d.client.PostForm(d.base+"/api/v1/oauth/token", url.Values{"client_id": {"lethe-root"}, "client_secret": {"wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("token with a wrong secret: %d, want 401", resp.StatusCode)
	}
}

// TestServeBadInput: each malformed call gets a 4xx with a message that
// says what to fix, and creates nothing.
func TestServeBadInput(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := serveConfig(t, b, "")
	d := startDaemon(t, dir)
	tok := d.token("lethe-root", rootSecret)
	many := make([]map[string]any, 51)
	for i := range many {
		many[i] = map[string]any{"identity": map[string]string{"email": "a@example.com"}, "policy_key": "access"}
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		code   int
		want   string
	}{
		{"malformed JSON", "POST", "/api/v1/privacy-request", `[{"identity": `, 400, "malformed JSON"},
		{"unknown field", "POST", "/api/v1/privacy-request", `[{"identity": {"email": "a@b.c"}, "policy_key": "access", "colour": 1}]`, 400, `unknown field \"colour\"`},
		{"wrong type", "POST", "/api/v1/privacy-request", `[{"identity": "a@b.c", "policy_key": "access"}]`, 400, "identity"},
		{"not a list", "POST", "/api/v1/privacy-request", `{"identity": {"email": "a@b.c"}, "policy_key": "access"}`, 400, "expected"},
		{"empty list", "POST", "/api/v1/privacy-request", `[]`, 400, "empty list"},
		{"too many", "POST", "/api/v1/privacy-request", many, 400, "at most 50"},
		{"oversize body", "POST", "/api/v1/privacy-request", `[{"identity": {"email": "` + strings.Repeat("a", 2<<20) + `"}, "policy_key": "access"}]`, 413, "larger than"},
		{"two values", "POST", "/api/v1/privacy-request", `[] []`, 400, "more than one JSON value"},
		{"unknown status filter", "GET", "/api/v1/privacy-request?status=done", nil, 400, "unknown status"},
		{"unknown query parameter", "GET", "/api/v1/privacy-request?colour=red", nil, 400, "unknown query parameter"},
		{"bad page size", "GET", "/api/v1/privacy-request?size=1000", nil, 400, "size must be"},
		{"unknown request", "GET", "/api/v1/privacy-request/pri_nope", nil, 404, "no privacy request"},
		{"retry of a request not in error", "POST", "/api/v1/privacy-request/pri_nope/retry", nil, 404, "no privacy request"},
		{"approve without ids", "PATCH", "/api/v1/privacy-request/administrate/approve", `{"request_ids": []}`, 400, "request_ids"},
		{"unknown masking strategy", "PUT", "/api/v1/masking/mask", `{"values": ["a"], "masking_strategy": {"strategy": "rot13"}}`, 400, "rot13"},
	}
	for _, tc := range tests {
		code, raw := d.raw(tc.method, tc.path, tok, tc.body)
		if code != tc.code || !strings.Contains(string(raw), tc.want) {
			t.Errorf("%s: %d %s, want %d mentioning %q", tc.name, code, truncate(raw), tc.code, tc.want)
		}
	}
	// Items that fail go to "failed" with a message; the others succeed.
	code, body := d.call("POST", "/api/v1/privacy-request", tok, []map[string]any{
		{"identity": map[string]string{"email": "nobody@example.com"}, "policy_key": "nope"},
		{"identity": map[string]string{}, "policy_key": "access"},
		{"identity": map[string]string{"email": " "}, "policy_key": "access"},
		{"identity": map[string]string{"email": "nobody@example.com"}, "policy_key": "access", "encryption_key": "short"},
	})
	failed, _ := body["failed"].([]any)
	if code != 200 || len(failed) != 4 || len(body["succeeded"].([]any)) != 0 {
		t.Fatalf("bulk with bad items: %d %v", code, body)
	}
	for i, want := range []string{`unknown policy "nope"`, "identity is empty", "identity email is empty", "encryption_key must be"} {
		if msg := failed[i].(map[string]any)["message"].(string); !strings.Contains(msg, want) {
			t.Errorf("failed[%d] = %q, want %q", i, msg, want)
		}
	}
	if strings.Contains(fmt.Sprint(body), "nobody@example.com") {
		t.Errorf("a bulk failure echoed an identity value: %v", body)
	}
	code, list := d.call("GET", "/api/v1/privacy-request", tok, nil)
	if code != 200 || list["total"] != float64(0) {
		t.Errorf("bad input created requests: %v", list)
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// TestServeLogsHoldNoSecrets: with trace logging, the daemon's output
// holds none of the identity values, the root secret, client secrets or
// tokens it handled.
func TestServeLogsHoldNoSecrets(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := serveConfig(t, b, "")
	d := startDaemon(t, dir)
	tok := d.token("lethe-root", rootSecret)
	secrets := []string{rootSecret, tok, "zq-unique-person@example.com", "+1-555-0199-zq", "jane@example.com"}
	id := firstID(t, d.create(tok, map[string]any{"identity": map[string]string{"email": "zq-unique-person@example.com", "phone_number": "+1-555-0199-zq"}, "policy_key": "erasure"}))
	d.waitStatus(tok, id, "complete", "error")
	id = firstID(t, d.create(tok, map[string]any{"identity": map[string]string{"email": "jane@example.com"}, "policy_key": "access"}))
	d.waitStatus(tok, id, "complete", "error")
	code, c := d.call("POST", "/api/v1/oauth/client", tok, map[string]any{"scopes": []string{"policy:read"}})
	if code != 200 {
		t.Fatal(code)
	}
	secrets = append(secrets, c["client_secret"].(string))
	d.raw("GET", "/api/v1/privacy-request?identity=email:zq-unique-person@example.com", tok, nil)
	d.raw("PUT", "/api/v1/masking/mask", tok, map[string]any{"values": []string{"zq-unique-person@example.com"}, "masking_strategy": map[string]any{"strategy": "hash"}})
	if err := d.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	out := d.out.String()
	if !strings.Contains(out, "request finished") {
		t.Fatalf("the log is not at trace level or lacks events:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the daemon's output holds %q", s)
		}
	}
}

// TestServeRestartResumes: the daemon is killed while a request runs
// (SIGKILL while it waits at a failpoint); after `lethe serve` starts
// again the request completes, and no node ran twice.
func TestServeRestartResumes(t *testing.T) {
	b := newBackend(t, "postgres")
	dir, _ := serveConfig(t, b, "")
	d := startDaemon(t, dir, "LETHE_FAILPOINT=access.finish:shop.order_items=sleep")
	tok := d.token("lethe-root", rootSecret)
	id := firstID(t, d.create(tok, map[string]any{"identity": map[string]string{"email": "jane@example.com"}, "policy_key": "access_and_erasure"}))
	waitFor(t, "the failpoint", time.Minute, func() bool {
		return strings.Contains(d.out.String(), "failpoint access.finish:shop.order_items reached")
	})
	if err := d.stop(syscall.SIGKILL); err == nil {
		t.Fatal("the killed daemon exited cleanly")
	}
	d2 := startDaemon(t, dir)
	tok = d2.token("lethe-root", rootSecret)
	if req := d2.waitStatus(tok, id, "complete", "error"); req["status"] != "complete" {
		t.Fatalf("after restart: %v\n%s", req, d2.out.String())
	}
	code, log := d2.call("GET", "/api/v1/privacy-request/"+id+"/log?size=100", tok, nil)
	if code != 200 {
		t.Fatal(code)
	}
	done := map[string]int{}
	for _, e := range log["items"].([]any) {
		ev := e.(map[string]any)
		if ev["type"] == "node_done" {
			done[fmt.Sprint(ev["phase"], " ", ev["collection"])]++
		}
	}
	for node, n := range done {
		if n != 1 {
			t.Errorf("%s finished %d times", node, n)
		}
	}
	if len(done) < 11 {
		t.Errorf("only %d nodes finished: %v", len(done), done)
	}
}

// TestServeLoad: 200 concurrent submissions and 1,000 status reads on
// loopback: no error, no request lost. Reports p99 of each.
func TestServeLoad(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := serveConfig(t, b, "  require_manual_approval = true\n")
	d := startDaemon(t, dir)
	tok := d.token("lethe-root", rootSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	createLat := make([]time.Duration, 200)
	ids := make([]string, 200)
	var wg sync.WaitGroup
	errs := make(chan error, 1200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			body, _ := json.Marshal([]map[string]any{{"identity": map[string]string{"email": fmt.Sprintf("load%d@example.com", i)}, "policy_key": "access"}})
			req, _ := http.NewRequestWithContext(ctx, "POST", d.base+"/api/v1/privacy-request", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := d.client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			var out struct {
				Succeeded []struct{ ID string } `json:"succeeded"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || len(out.Succeeded) != 1 {
				errs <- fmt.Errorf("create %d: %d %v", i, resp.StatusCode, err)
				return
			}
			ids[i] = out.Succeeded[0].ID
			createLat[i] = time.Since(start)
		}()
	}
	wg.Wait()
	readLat := make([]time.Duration, 1000)
	sem := make(chan struct{}, 50)
	for i := range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			start := time.Now()
			req, _ := http.NewRequestWithContext(ctx, "GET", d.base+"/api/v1/privacy-request/"+ids[i%200], nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := d.client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("read %d: %d", i, resp.StatusCode)
				return
			}
			readLat[i] = time.Since(start)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	code, list := d.call("GET", "/api/v1/privacy-request?status=pending&size=1", tok, nil)
	if code != 200 || list["total"] != float64(200) {
		t.Errorf("after 200 submissions: %d %v pending", code, list["total"])
	}
	t.Logf("create p99 %s, status read p99 %s", p99(createLat), p99(readLat))
}

func p99(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)*99/100]
}
