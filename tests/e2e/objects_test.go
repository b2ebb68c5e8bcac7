package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestServeConfigurationObjects is the original quick start over HTTP
// against a running daemon on the PostgreSQL example: a storage
// destination and its secret, a policy with a rule and a target, a request
// that completes with the exact package, its log; a connection whose
// secret is tested before it is stored, and a dataset validated with the
// whole graph. Objects declared in files refuse writes with 409, invalid
// changes are refused with their problems and change nothing, and every
// object survives a restart.
func TestServeConfigurationObjects(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "access_jane.json"))
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, "postgres")
	dir, _ := serveConfig(t, b, "")
	apiResults := filepath.Join(t.TempDir(), "api-results")
	// Storages created through the API write only under file_roots.
	if err := os.WriteFile(filepath.Join(dir, "egress.hcl"), []byte(fmt.Sprintf("egress {\n  file_roots = [%q]\n}\n", filepath.Dir(apiResults))), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, dir)
	tok := d.token("lethe-root", rootSecret)

	expect := func(what string, code int, body map[string]any, want int) map[string]any {
		t.Helper()
		if code != want {
			t.Fatalf("%s: %d %v, want %d", what, code, body, want)
		}
		return body
	}
	succeeded := func(what string, code int, body map[string]any, n int) []any {
		t.Helper()
		expect(what, code, body, 200)
		ok, _ := body["succeeded"].([]any)
		if len(ok) != n {
			t.Fatalf("%s: %d succeeded, want %d: %v", what, len(ok), n, body)
		}
		return body["failed"].([]any)
	}

	// Storage, as the original quick start sends it.
	code, body := d.call("PUT", "/api/v1/storage/config", tok, map[string]any{"destinations": []map[string]any{{
		"name": "API local", "key": "api_local", "type": "local", "format": "json",
		"details": map[string]any{"dir": apiResults, "naming": "request_id"},
	}}})
	succeeded("PUT storage", code, body, 1)
	code, body = d.call("PUT", "/api/v1/storage/config/api_local/secret?verify=true", tok, map[string]any{"file_mode": "0600"})
	if expect("storage secret", code, body, 200); body["test_status"] != "succeeded" {
		t.Fatalf("storage secret test: %v", body)
	}
	code, body = d.call("PUT", "/api/v1/storage/config/api_local/secret", tok, map[string]any{"colour": "red"})
	if expect("secret with an unknown key", code, body, 400); !strings.Contains(fmt.Sprint(body), "colour") {
		t.Errorf("unknown secret key: %v", body)
	}
	// Declared objects are read-only.
	code, body = d.call("PATCH", "/api/v1/storage/config", tok, []map[string]any{{"key": "local", "name": "x", "type": "local", "details": map[string]any{"dir": apiResults}}})
	if expect("PATCH declared storage", code, body, 409); !strings.Contains(fmt.Sprint(body), "main.hcl") {
		t.Errorf("409 does not name the file: %v", body)
	}
	code, body = d.call("PATCH", "/api/v1/policy", tok, []map[string]any{{"key": "access", "name": "Access"}})
	if expect("PATCH declared policy", code, body, 409); !strings.Contains(fmt.Sprint(body), "policies.hcl") {
		t.Errorf("409 does not name the file: %v", body)
	}

	// A policy, then its rule, then its target.
	code, body = d.call("PATCH", "/api/v1/policy", tok, []map[string]any{
		{"name": "API access", "key": "api_access", "execution_timeframe": "30d"},
		{"name": "Second access", "key": "api_dup", "drp_action": "access"},
	})
	failed := succeeded("PATCH policy", code, body, 1)
	if len(failed) != 1 || !strings.Contains(fmt.Sprint(failed[0]), "DRP action") {
		t.Errorf("a second policy for the DRP action access: %v", failed)
	}
	if f := d.create(tok, map[string]any{"identity": map[string]string{"email": "jane@example.com"}, "policy_key": "api_access"})["failed"].([]any); len(f) != 1 || !strings.Contains(fmt.Sprint(f[0]), "no rules") {
		t.Errorf("a request on a policy without rules: %v", f)
	}
	code, body = d.call("PATCH", "/api/v1/policy/api_access/rule", tok, []map[string]any{
		{"name": "User data", "key": "user_data", "action_type": "access", "storage_destination_key": "api_local"},
		{"name": "Nowhere", "key": "nowhere", "action_type": "access", "storage_destination_key": "missing"},
	})
	if failed := succeeded("PATCH rule", code, body, 1); len(failed) != 1 || !strings.Contains(fmt.Sprint(failed[0]), "missing") {
		t.Errorf("a rule with an unknown storage: %v", failed)
	}
	code, body = d.call("PATCH", "/api/v1/policy/api_access/rule/user_data/target", tok, []map[string]any{
		{"data_category": "user"}, {"data_category": "user.nope"},
	})
	if failed := succeeded("PATCH target", code, body, 1); len(failed) != 1 || !strings.Contains(fmt.Sprint(failed[0]), "user.nope") {
		t.Errorf("an unknown data category: %v", failed)
	}
	code, body = d.call("GET", "/api/v1/policy/api_access", tok, nil)
	expect("GET policy", code, body, 200)
	if body["name"] != "API access" || body["execution_timeframe"] != "30d" || len(body["rules"].([]any)) != 1 {
		t.Errorf("policy: %v", body)
	}

	// A request on it completes with the exact package.
	id := firstID(t, d.create(tok, map[string]any{"identity": map[string]string{"email": "jane@example.com"}, "policy_key": "api_access"}))
	req := d.waitStatus(tok, id, "complete", "error")
	if req["status"] != "complete" || req["due_date"] == nil {
		t.Fatalf("request on the API policy: %v\n%s", req, d.out.String())
	}
	results := req["results"].([]any)
	pkg := strings.TrimPrefix(results[0].(string), "file://")
	if !strings.HasPrefix(pkg, apiResults) {
		t.Errorf("package at %s, not in the API storage %s", pkg, apiResults)
	}
	if got, want := canonicalPackage(t, pkg), canonicalJSON(t, golden); got != want {
		t.Errorf("package\n got:\n%s\nwant:\n%s", got, want)
	}
	code, log := d.call("GET", "/api/v1/privacy-request/"+id+"/log", tok, nil)
	if code != 200 || log["total"].(float64) < 11 {
		t.Errorf("log: %d %v", code, log["total"])
	}

	// A connection whose secret is tested before it is stored.
	code, body = d.call("PATCH", "/api/v1/connection", tok, []map[string]any{{"name": "API shop", "key": "api_pg", "connection_type": "postgres", "access": "read"}})
	succeeded("PATCH connection", code, body, 1)
	code, body = d.call("PUT", "/api/v1/connection/api_pg/secret?verify=true", tok, map[string]any{"dsn": "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"})
	if expect("bad connection secret", code, body, 200); body["test_status"] != "failed" {
		t.Errorf("a secret that cannot connect: %v", body)
	}
	code, body = d.call("GET", "/api/v1/connection/api_pg", tok, nil)
	if expect("GET connection", code, body, 200); body["has_secret"] != false {
		t.Errorf("a failed test stored the secret: %v", body)
	}
	code, body = d.call("PUT", "/api/v1/connection/api_pg/secret?verify=true", tok, map[string]any{"dsn": b.dsn})
	if expect("connection secret", code, body, 200); body["test_status"] != "succeeded" {
		t.Fatalf("connection secret: %v", body)
	}
	code, raw := d.raw("GET", "/api/v1/connection/api_pg", tok, nil)
	if code != 200 || strings.Contains(string(raw), b.dsn) || !strings.Contains(string(raw), `"has_secret":true`) {
		t.Errorf("GET connection: %d %s", code, raw)
	}
	if code, body := d.call("GET", "/api/v1/connection/api_pg/test", tok, nil); code != 200 || body["test_status"] != "succeeded" {
		t.Errorf("connection test: %d %v", code, body)
	}

	// Datasets: one that breaks the graph is refused with the problem.
	good := map[string]any{"fides_key": "api_shop", "name": "API shop", "collections": []any{map[string]any{
		"name": "customers", "fields": []any{
			map[string]any{"name": "id", "data_categories": []string{"user.unique_id"}, "fidesops_meta": map[string]any{"primary_key": true, "data_type": "integer"}},
			map[string]any{"name": "email", "data_categories": []string{"user.contact.email"}, "fidesops_meta": map[string]any{"identity": "email", "data_type": "string"}},
		}}}}
	bad := map[string]any{"fides_key": "api_bad", "name": "Bad", "collections": []any{map[string]any{
		"name": "orders", "fields": []any{
			map[string]any{"name": "customer_id", "data_categories": []string{"user.unique_id"}, "fidesops_meta": map[string]any{"references": []any{map[string]any{"dataset": "api_shop", "field": "customers.nope", "direction": "from"}}}},
		}}}}
	code, body = d.call("PATCH", "/api/v1/connection/api_pg/dataset", tok, []any{good, bad})
	if failed := succeeded("PATCH dataset", code, body, 1); len(failed) != 1 || !strings.Contains(fmt.Sprint(failed[0]), "nope") {
		t.Errorf("a dataset referencing a missing field: %v", failed)
	}
	code, body = d.call("GET", "/api/v1/connection/api_pg/dataset", tok, nil)
	if expect("GET datasets", code, body, 200); body["total"] != float64(1) {
		t.Errorf("datasets: %v", body)
	}
	code, body = d.call("PATCH", "/api/v1/connection/shop_db/dataset", tok, []any{map[string]any{"fides_key": "shop", "name": "x", "collections": []any{}}})
	expect("PATCH declared dataset", code, body, 409)

	// Everything is still there after a restart.
	if err := d.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d = startDaemon(t, dir)
	tok = d.token("lethe-root", rootSecret)
	for _, path := range []string{"/api/v1/policy/api_access", "/api/v1/storage/config/api_local", "/api/v1/connection/api_pg"} {
		if code, body := d.call("GET", path, tok, nil); code != 200 {
			t.Errorf("after restart, GET %s: %d %v", path, code, body)
		}
	}
	id = firstID(t, d.create(tok, map[string]any{"identity": map[string]string{"email": "jane@example.com"}, "policy_key": "api_access"}))
	if req := d.waitStatus(tok, id, "complete", "error"); req["status"] != "complete" {
		t.Fatalf("after restart: %v", req)
	}
	// Deletion: a storage still used by a policy is refused; after the
	// policy goes, it can go too.
	if code, body := d.call("DELETE", "/api/v1/storage/config/api_local", tok, nil); code != 422 {
		t.Errorf("deleting a storage a policy uses: %d %v", code, body)
	}
	if code, _ := d.raw("DELETE", "/api/v1/policy/api_access", tok, nil); code != 204 {
		t.Errorf("DELETE policy: %d", code)
	}
	if code, _ := d.raw("DELETE", "/api/v1/storage/config/api_local", tok, nil); code != 204 {
		t.Errorf("DELETE storage: %d", code)
	}
	if code, _ := d.raw("DELETE", "/api/v1/policy/access", tok, nil); code != 409 {
		t.Errorf("DELETE a declared policy: %d", code)
	}
	if strings.Contains(d.out.String(), b.dsn) {
		t.Error("the daemon's output holds the connection secret")
	}
}
