package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// root is the repository's root directory.
var root = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}()

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds bin/lethe and every bundled plugin into a directory
// shared by the tests of this run.
func binaries(t testing.TB) (lethe, plugins string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "lethe-e2e-bin-")
		if buildErr != nil {
			return
		}
		build := func(dir, out string) error {
			cmd := exec.Command("go", "build", "-buildvcs=false", "-o", out, ".")
			cmd.Dir = dir
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("go build %s: %v\n%s", dir, err, b)
			}
			return nil
		}
		if buildErr = build(filepath.Join(root, "cmd", "lethe"), filepath.Join(binDir, "lethe")); buildErr != nil {
			return
		}
		entries, err := os.ReadDir(filepath.Join(root, "plugins"))
		if err != nil {
			buildErr = err
			return
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			if _, err := os.Stat(filepath.Join(root, "plugins", e.Name(), "main.go")); err != nil {
				continue
			}
			if buildErr = build(filepath.Join(root, "plugins", e.Name()), filepath.Join(binDir, "plugins", "lethe-"+e.Name())); buildErr != nil {
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "lethe"), filepath.Join(binDir, "plugins")
}

// unavailable stops a test whose server does not answer: a failure when
// CI=true, a skip with the reason otherwise.
func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s is not reachable (make test starts it): %v", what, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// backend is a fresh database loaded with the example schema.
type backend struct {
	kind       string // sqlite, postgres, mysql
	db         *sql.DB
	connection string // the HCL connection block for Lethe
	dsn        string // for the test's own connections (postgres)
	name       string // database name (postgres, mysql)
}

func randomName(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

func sampleSQL(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "configs", "quickstart", "sample-data.sql"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newBackend creates a database of kind holding the example data.
func newBackend(t testing.TB, kind string) *backend {
	t.Helper()
	switch kind {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "shop.db")
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Exec(sampleSQL(t)); err != nil {
			t.Fatalf("load the sample data: %v", err)
		}
		return &backend{kind: kind, db: db, connection: fmt.Sprintf(`connection "shop_db" {
  plugin = "sqlite"
  access = "write"
  config = { path = %q }
}`, path)}
	case "postgres":
		server := os.Getenv("LETHE_TEST_PG_DSN")
		if server == "" {
			server = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
		}
		admin, err := sql.Open("pgx", server)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		if err := admin.Ping(); err != nil {
			unavailable(t, "PostgreSQL", err)
		}
		name := randomName("lethe_e2e")
		if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			a, err := sql.Open("pgx", server)
			if err == nil {
				_, err = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
				a.Close()
			}
			if err != nil {
				t.Errorf("drop database %s: %v", name, err)
			}
		})
		u, err := url.Parse(server)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		dsn := u.String()
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Exec(sampleSQL(t)); err != nil {
			t.Fatalf("load the sample data: %v", err)
		}
		return &backend{kind: kind, db: db, dsn: dsn, name: name, connection: fmt.Sprintf(`connection "shop_db" {
  plugin       = "postgres"
  access       = "write"
  max_parallel = 4
  config = { dsn = %q }
}`, dsn)}
	case "mysql":
		server := os.Getenv("LETHE_TEST_MYSQL_DSN")
		if server == "" {
			server = "root@tcp(127.0.0.1:3306)/"
		}
		cfg, err := mysql.ParseDSN(server)
		if err != nil {
			t.Fatalf("LETHE_TEST_MYSQL_DSN: %v", err)
		}
		admin, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		if err := admin.Ping(); err != nil {
			unavailable(t, "MariaDB/MySQL", err)
		}
		name := randomName("lethe_e2e")
		if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			a, err := sql.Open("mysql", cfg.FormatDSN())
			if err == nil {
				_, err = a.Exec("DROP DATABASE IF EXISTS " + name)
				a.Close()
			}
			if err != nil {
				t.Errorf("drop database %s: %v", name, err)
			}
		})
		cfg.DBName = name
		lethe := cfg.FormatDSN()
		cfg.MultiStatements = true
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Exec(sampleSQL(t)); err != nil {
			t.Fatalf("load the sample data: %v", err)
		}
		return &backend{kind: kind, db: db, name: name, dsn: lethe, connection: fmt.Sprintf(`connection "shop_db" {
  plugin       = "mysql"
  access       = "write"
  max_parallel = 4
  config = { dsn = %q }
}`, lethe)}
	}
	t.Fatalf("unknown backend %s", kind)
	return nil
}

// fixedErasure is a policy whose masks do not depend on the request's
// secrets, so that two requests leave byte-identical databases.
const fixedErasure = `
policy "access_and_erasure" {
  rule "user_data" {
    action  = "access"
    targets = ["user"]
    storage = "local"
  }
  rule "names" {
    action  = "erasure"
    targets = ["user.name", "user.contact.email"]
    masking {
      strategy      = "string_rewrite"
      rewrite_value = "MASKED"
    }
  }
  rule "other_personal_data" {
    action  = "erasure"
    targets = ["user.contact.address", "user.contact.phone_number", "user.financial", "user.device.ip_address", "user.content.private"]
    masking {
      strategy = "null_rewrite"
    }
  }
}
`

// config writes a configuration directory for b: the example dataset and
// policies, plus fixedErasure; state and packages go to temporary
// directories.
func (b *backend) config(t testing.TB) (dir, results string) {
	t.Helper()
	_, plugins := binaries(t)
	dir = t.TempDir()
	results = filepath.Join(dir, "results")
	main := fmt.Sprintf(`server {
  state_dir  = %q
  plugin_dir = %q
  max_parallel_nodes = 8
}

%s

storage "local" {
  plugin = "local"
  format = "json"
  config = { dir = %q }
}
`, filepath.Join(dir, "state"), plugins, b.connection, results)
	dataset, err := os.ReadFile(filepath.Join(root, "configs", "quickstart", "dataset.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	policies, err := os.ReadFile(filepath.Join(root, "configs", "quickstart", "policies.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"main.hcl":     main,
		"dataset.hcl":  strings.Replace(string(dataset), `connection  = "quickstart_db"`, `connection  = "shop_db"`, 1),
		"policies.hcl": string(policies) + fixedErasure,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, results
}

// result is what one `lethe run` printed and how it ended.
type result struct {
	stdout, stderr string
	code           int
	request        string // the request id it printed
	pkg            string // the package file, when complete
}

var (
	requestLine = regexp.MustCompile(`(?m)^Request (pri_[0-9a-z]+)`)
	packageLine = regexp.MustCompile(`(?m)^Package: file://(\S+)`)
)

// lethe starts `lethe run` on dir with args; env adds variables.
func lethe(t testing.TB, env []string, dir string, args ...string) *exec.Cmd {
	t.Helper()
	bin, _ := binaries(t)
	cmd := exec.Command(bin, append([]string{"run", dir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// run runs `lethe run` to its end.
func run(t testing.TB, env []string, dir string, args ...string) result {
	t.Helper()
	cmd := lethe(t, env, dir, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("lethe run: %v", err)
	}
	r.parse()
	return r
}

func (r *result) parse() {
	if m := requestLine.FindStringSubmatch(r.stdout); m != nil {
		r.request = m[1]
	}
	if m := packageLine.FindStringSubmatch(r.stdout); m != nil {
		r.pkg = m[1]
	}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// mustComplete runs `lethe run` and fails unless the request completed.
func mustComplete(t testing.TB, env []string, dir string, args ...string) result {
	t.Helper()
	r := run(t, env, dir, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "Status: complete") {
		t.Fatalf("lethe run %s did not complete:\n%s", strings.Join(args, " "), r)
	}
	return r
}

// canonicalPackage reads a JSON package and returns it in a canonical
// form: numbers as exact rationals (24.5 and 24.50 are equal), each
// collection's rows sorted, collections sorted by name.
func canonicalPackage(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return canonicalJSON(t, b)
}

func canonicalJSON(t testing.TB, b []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var pkg map[string][]map[string]any
	if err := dec.Decode(&pkg); err != nil {
		t.Fatalf("package is not a JSON object of collections: %v", err)
	}
	var lines []string
	for coll, rows := range pkg {
		var rs []string
		for _, row := range rows {
			rs = append(rs, canonicalValue(row))
		}
		sort.Strings(rs)
		for _, r := range rs {
			lines = append(lines, coll+" "+r)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func canonicalValue(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q:%s", k, canonicalValue(x[k]))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = canonicalValue(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case json.Number:
		r, ok := new(big.Rat).SetString(x.String())
		if !ok {
			return x.String()
		}
		return r.RatString()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

var tables = []string{"addresses", "customers", "employees", "products", "orders", "order_items",
	"payment_cards", "logins", "support_tickets", "visits", "reports"}

// dump reads every table of the example schema: table -> id -> column -> value as text.
func dump(t testing.TB, db *sql.DB) map[string]map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]map[string]string{}
	for _, table := range tables {
		rows, err := db.Query("SELECT * FROM " + table + " ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		out[table] = map[string]map[string]string{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row := map[string]string{}
			for i, c := range cols {
				row[strings.ToLower(c)] = text(vals[i])
			}
			out[table][row["id"]] = row
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
