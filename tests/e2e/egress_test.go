package e2e

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakePostgres listens on loopback and speaks just enough of the
// PostgreSQL protocol to ask for the password in clear text, as a
// listener an attacker points a connection at would. Each password it
// receives is sent on the returned channel before the connection closes.
func fakePostgres(t *testing.T) (port int, passwords chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	passwords = make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				for {
					var n uint32
					if binary.Read(c, binary.BigEndian, &n) != nil || n < 8 || n > 1<<16 {
						return
					}
					body := make([]byte, n-4)
					if _, err := io.ReadFull(c, body); err != nil {
						return
					}
					if binary.BigEndian.Uint32(body) == 80877103 { // SSLRequest: no TLS here
						if _, err := c.Write([]byte{'N'}); err != nil {
							return
						}
						continue
					}
					break
				}
				// AuthenticationCleartextPassword.
				if _, err := c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 3}); err != nil {
					return
				}
				var typ byte
				var n uint32
				if binary.Read(c, binary.BigEndian, &typ) != nil || typ != 'p' || binary.Read(c, binary.BigEndian, &n) != nil || n < 4 || n > 1<<16 {
					return
				}
				pw := make([]byte, n-4)
				if _, err := io.ReadFull(c, pw); err != nil {
					return
				}
				passwords <- strings.TrimRight(string(pw), "\x00")
			}(c)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, passwords
}

// garbageListener answers every connection with bytes of no protocol.
func garbageListener(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestServeEgress runs the reproductions of issue 13 items 4 and 7
// against `lethe serve` with real listeners:
//   - a client that may change a connection but not read its secret
//     points it at its own listener and calls the test route: the stored
//     password never arrives there (the change drops it, and says so);
//   - the test route answers the same for a closed port, a server of
//     another protocol and a disallowed port (no port scanner); the
//     reason is in the server log;
//   - API objects cannot open files outside file_roots (/etc/passwd),
//     create directories elsewhere, or aim at the metadata address in any
//     spelling, and dial only what the egress block allows.
func TestServeEgress(t *testing.T) {
	pgPort, passwords := fakePostgres(t)
	garbage := garbageListener(t)
	closed := closedPort(t)
	b := newBackend(t, "sqlite")
	dir, _ := serveConfig(t, b, "")
	roots := filepath.Join(t.TempDir(), "api-files")
	if err := os.MkdirAll(roots, 0o700); err != nil {
		t.Fatal(err)
	}
	egressHCL := fmt.Sprintf(`egress {
  allow_networks = ["127.0.0.1/32"]
  allow_ports    = [5432, %d, %d, %d]
  file_roots     = [%q]
}
`, pgPort, garbage, closed, roots)
	if err := os.WriteFile(filepath.Join(dir, "egress.hcl"), []byte(egressHCL), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, dir)
	root := d.token("lethe-root", rootSecret)
	code, created := d.call("POST", "/api/v1/oauth/client", root, map[string]any{"scopes": []string{"connection:create_or_update", "connection:read"}})
	if code != 200 {
		t.Fatalf("create client: %d %v", code, created)
	}
	editor := d.token(created["client_id"].(string), created["client_secret"].(string))

	const marker = "stored-password-4b1d2e"
	pg := func(port int, extra map[string]any) []map[string]any {
		cfg := map[string]any{"host": "127.0.0.1", "port": port, "user": "postgres", "dbname": "postgres", "sslmode": "disable"}
		for k, v := range extra {
			cfg[k] = v
		}
		return []map[string]any{{"key": "api_pg", "name": "API shop", "connection_type": "postgres", "access": "read", "config": cfg}}
	}
	patch := func(token string, items []map[string]any) map[string]any {
		t.Helper()
		code, body := d.call("PATCH", "/api/v1/connection", token, items)
		if code != 200 {
			t.Fatalf("PATCH connection: %d %v", code, body)
		}
		return body
	}
	one := func(body map[string]any) map[string]any {
		t.Helper()
		ok, _ := body["succeeded"].([]any)
		if len(ok) != 1 {
			t.Fatalf("PATCH connection: %v", body)
		}
		return ok[0].(map[string]any)
	}
	test := func() map[string]any {
		t.Helper()
		code, body := d.call("GET", "/api/v1/connection/api_pg/test", editor, nil)
		if code != 200 {
			t.Fatalf("test route: %d %v", code, body)
		}
		return body
	}

	// The operator sets the connection up with its password.
	one(patch(root, pg(5432, nil)))
	code, body := d.call("PUT", "/api/v1/connection/api_pg/secret?verify=true", root, map[string]any{"password": marker})
	if code != 200 || body["test_status"] != "succeeded" {
		t.Fatalf("secret: %d %v\n%s", code, body, d.out.String())
	}

	// Item 4: the editor redirects it to its listener.
	v := one(patch(editor, pg(pgPort, nil)))
	if v["secret_dropped"] != true || v["has_secret"] != false || !strings.Contains(fmt.Sprint(v["notice"]), `"port"`) {
		t.Errorf("redirecting PATCH answered %v, want the secret dropped and a notice naming port", v)
	}
	res := test()
	select {
	case pw := <-passwords:
		if strings.Contains(pw, marker) {
			t.Fatalf("the listener received the stored password")
		}
	default: // the plugin sent no password at all
	}
	unreachable := res["failure_reason"]
	if res["test_status"] != "failed" || !strings.HasPrefix(fmt.Sprint(unreachable), "unreachable") {
		t.Fatalf("test against the listener: %v", res)
	}

	// Item 7: the same answer for a closed port, another protocol and a
	// port the policy refuses.
	for _, c := range []struct {
		name string
		cfg  []map[string]any
	}{
		{"closed port", pg(closed, nil)},
		{"another protocol", pg(garbage, nil)},
		{"port not allowed", pg(5433, nil)},
	} {
		one(patch(editor, c.cfg))
		if r := test(); r["test_status"] != "failed" || r["failure_reason"] != unreachable || r["msg"] != res["msg"] {
			t.Errorf("%s: %v, want the answer of every failure: %v", c.name, r, res)
		}
	}
	// The daemon's log reaches the test through a pipe: wait for the line.
	waitFor(t, `the server log to say "port 5433 is not an allowed port"`, 10*time.Second, func() bool {
		return strings.Contains(d.out.String(), "port 5433 is not an allowed port")
	})
	if log := d.out.String(); strings.Contains(log, marker) {
		t.Error("the server log holds the password")
	}
	// The allowed server still works, by address and by name.
	for _, host := range []string{"127.0.0.1", "localhost"} {
		one(patch(editor, pg(5432, map[string]any{"host": host})))
		if r := test(); r["test_status"] != "succeeded" {
			t.Errorf("allowed server as %s: %v", host, r)
		}
	}

	// Addresses refused before anything is stored, in any spelling.
	for _, host := range []string{"169.254.169.254", "0xa9fea9fe", "2852039166", "::ffff:169.254.169.254", "fe80::1", "10.0.0.1"} {
		body := patch(editor, pg(5432, map[string]any{"host": host}))
		if failed, _ := body["failed"].([]any); len(failed) != 1 || !strings.Contains(fmt.Sprint(failed[0]), "egress policy") {
			t.Errorf("host %s: %v, want a refusal by the egress policy", host, body)
		}
	}

	// Files: a SQLite connection on /etc/passwd, a storage elsewhere.
	elsewhere := filepath.Join(t.TempDir(), "made-by-api")
	for _, c := range []struct {
		path  string
		items []map[string]any
	}{
		{"/api/v1/connection", []map[string]any{{"key": "api_sqlite", "name": "x", "connection_type": "sqlite", "access": "read", "config": map[string]any{"path": "/etc/passwd"}}}},
		{"/api/v1/connection", []map[string]any{{"key": "api_sqlite", "name": "x", "connection_type": "sqlite", "access": "read", "config": map[string]any{"path": filepath.Join(roots, "..", "..", "x.db")}}}},
		{"/api/v1/storage/config", []map[string]any{{"key": "api_disk", "name": "x", "type": "local", "details": map[string]any{"dir": elsewhere}}}},
	} {
		code, body := d.call("PATCH", c.path, editor, c.items)
		if c.path != "/api/v1/connection" {
			code, body = d.call("PATCH", c.path, root, c.items)
		}
		if failed, _ := body["failed"].([]any); code != 200 || len(failed) != 1 || !strings.Contains(fmt.Sprint(failed[0]), "file_roots") {
			t.Errorf("%v: %d %v, want a refusal naming file_roots", c.items[0]["config"], code, body)
		}
	}
	if _, err := os.Stat(elsewhere); !os.IsNotExist(err) {
		t.Errorf("a refused storage created its directory: %v", err)
	}
	code, body = d.call("PATCH", "/api/v1/storage/config", root, []map[string]any{{"key": "api_disk", "name": "x", "type": "local", "details": map[string]any{"dir": filepath.Join(roots, "packages")}}})
	if ok, _ := body["succeeded"].([]any); code != 200 || len(ok) != 1 {
		t.Errorf("a storage under file_roots: %d %v", code, body)
	}
}
