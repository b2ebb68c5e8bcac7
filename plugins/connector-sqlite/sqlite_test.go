package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	_ "modernc.org/sqlite"

	"github.com/lethehq/lethe/plugins/connector-sqlite/internal/sqlite"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/sdktest"
	"github.com/lethehq/lethe/sdk/value"
)

const table = "lethe_conformance"

// conformanceDB creates a SQLite file with the conformance table and
// returns its path and a handle on it for the fixture's own writes.
func conformanceDB(t testing.TB) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "conformance.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// d is DECIMAL_TEXT: text affinity keeps every digit (see package sqlite).
	if _, err := db.Exec(`CREATE TABLE ` + table + ` (id INTEGER PRIMARY KEY, email TEXT, name TEXT, n INTEGER,
		f REAL, d DECIMAL_TEXT, b BLOB, flag BOOLEAN, ts DATETIME, doc JSON, tags JSON)`); err != nil {
		t.Fatal(err)
	}
	return path, db
}

// reset is the fixture's Reset, written with database/sql as a plugin
// author would.
func reset(db *sql.DB) func(testing.TB, []connector.Row) {
	return func(t testing.TB, rows []connector.Row) {
		t.Helper()
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec("DELETE FROM " + table); err != nil {
			t.Fatal(err)
		}
		stmt, err := tx.Prepare("INSERT INTO " + table + " (id, email, name, n, f, d, b, flag, ts, doc, tags) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
		if err != nil {
			t.Fatal(err)
		}
		defer stmt.Close()
		for _, r := range rows {
			var d, ts, doc, tags any
			if v, ok := r["d"].(value.Decimal); ok {
				d = string(v)
			}
			if v, ok := r["ts"].(time.Time); ok {
				ts = v.Format(time.RFC3339Nano)
			}
			if v := r["doc"]; v != nil {
				b, _ := json.Marshal(v)
				doc = string(b)
			}
			if v := r["tags"]; v != nil {
				b, _ := json.Marshal(v)
				tags = string(b)
			}
			if _, err := stmt.Exec(r["id"], r["email"], r["name"], r["n"], r["f"], d, r["b"], r["flag"], ts, doc, tags); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

func fixture(t *testing.T) sdktest.ConnectorFixture {
	path, db := conformanceDB(t)
	return sdktest.ConnectorFixture{
		Config: map[string]any{"path": path},
		BadConfigs: []map[string]any{
			{},
			{"path": 7},
			{"path": path, "busy_timeout": "soon"},
			{"path": path, "dsn": "x"},
			{"path": filepath.Join(t.TempDir(), "missing.db")},
			{"path": t.TempDir()},
		},
		Collection: connector.Collection{Dataset: "conformance", Name: table},
		Supports: []sdktest.Kind{sdktest.KindFloat, sdktest.KindDecimal, sdktest.KindBytes, sdktest.KindBool,
			sdktest.KindTimeOffset, sdktest.KindMap, sdktest.KindList},
		TimePrecision: time.Nanosecond, // RFC 3339 text keeps nanoseconds
		Reset:         reset(db),
		// SQLite's loose collations: NOCASE folds ASCII case, RTRIM
		// ignores trailing spaces.
		Loose: map[string]func(testing.TB, []connector.Row) connector.Collection{
			"COLLATE NOCASE": looseTable(db, "lethe_loose_nocase", "NOCASE"),
			"COLLATE RTRIM":  looseTable(db, "lethe_loose_rtrim", "RTRIM"),
		},
	}
}

// looseTable is a fixture's Loose function: a table whose indexed email
// column has the collation coll.
func looseTable(db *sql.DB, name, coll string) func(testing.TB, []connector.Row) connector.Collection {
	return func(t testing.TB, rows []connector.Row) connector.Collection {
		t.Helper()
		for _, s := range []string{"DROP TABLE IF EXISTS " + name,
			"CREATE TABLE " + name + " (id INTEGER PRIMARY KEY, email TEXT COLLATE " + coll + ", name TEXT)",
			"CREATE INDEX " + name + "_email ON " + name + " (email)"} {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		for _, r := range rows {
			if _, err := db.Exec("INSERT INTO "+name+" (id, email, name) VALUES (?, ?, ?)", r["id"], r["email"], r["name"]); err != nil {
				t.Fatal(err)
			}
		}
		return connector.Collection{Dataset: "conformance", Name: name}
	}
}

// TestConformance runs the connector suite against a real plugin process.
func TestConformance(t *testing.T) {
	c := sdktest.LaunchConnector(t, sdktest.BuildPlugin(t, "."))
	sdktest.RunConnectorConformance(t, c, fixture(t))
}

// TestConformanceInProcess runs the suite in process, where -race sees the
// connector's code too.
func TestConformanceInProcess(t *testing.T) {
	c := sdktest.NewConnectorHarness(t, sqlite.Definition("0.1.0"))
	sdktest.RunConnectorConformance(t, c, fixture(t))
}

func TestDescribeFlag(t *testing.T) {
	out, err := exec.Command(sdktest.BuildPlugin(t, "."), "-describe").Output()
	if err != nil {
		t.Fatalf("-describe: %v", err)
	}
	var info schema.Info
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("-describe printed invalid JSON: %v\n%s", err, out)
	}
	if info.Kind != schema.KindConnector || info.Name != "sqlite" || info.Version != version || !info.Has(schema.CapabilityDryRun) {
		t.Errorf("-describe: %+v", info)
	}
	var names []string
	for _, a := range info.Config.Attributes {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != "path,busy_timeout,read_only" {
		t.Errorf("config attributes %v", names)
	}
}

// The benchmarks go through a real plugin process. Run them with
//
//	go test -run xxx -bench . -benchtime 20x

// BenchmarkAccess streams 20,000 rows of 1 KiB from a SQLite file through
// the plugin boundary. MB/s counts 1 KiB per row.
func BenchmarkAccess(b *testing.B) {
	path, db := conformanceDB(b)
	const rows = 20000
	payload := strings.Repeat("p", 1000)
	seed := make([]connector.Row, rows)
	for i := range seed {
		seed[i] = connector.Row{"id": int64(i + 1), "email": "bulk@example.com", "name": payload, "n": int64(i)}
	}
	reset(db)(b, seed)
	c := sdktest.LaunchConnector(b, sdktest.BuildPlugin(b, "."))
	ctx := context.Background()
	if diags, err := c.Configure(ctx, "bench", map[string]any{"path": path}); err != nil || diags.HasErrors() {
		b.Fatalf("configure: %v %v", err, diags.Err())
	}
	req := connector.AccessRequest{
		Collection: connector.Collection{Name: table}, Fields: []connector.Path{{"id"}, {"email"}, {"name"}, {"n"}},
		Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: []any{"bulk@example.com"}}},
	}
	b.SetBytes(rows * 1024)
	b.ResetTimer()
	for range b.N {
		n, err := c.Access(ctx, "bench", req, func([]connector.Row) error { return nil })
		if err != nil || n != rows {
			b.Fatalf("access: %d rows, %v", n, err)
		}
	}
}

// BenchmarkColdStart: exec of the SQLite plugin to its first answered call
// (Describe), then to a configured instance's first answered Test.
func BenchmarkColdStart(b *testing.B) {
	path, _ := conformanceDB(b)
	bin := sdktest.BuildPlugin(b, ".")
	var describe, test []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		client := plugin.NewClient(sdktest.ClientConfig(bin, hclog.NewNullLogger()))
		rpc, err := client.Client()
		if err != nil {
			b.Fatal(err)
		}
		raw, err := rpc.Dispense(schema.KindConnector)
		if err != nil {
			b.Fatal(err)
		}
		c := raw.(*connector.Client)
		ctx := context.Background()
		if _, err := c.Describe(ctx); err != nil {
			b.Fatal(err)
		}
		describe = append(describe, time.Since(start))
		if diags, err := c.Configure(ctx, "i", map[string]any{"path": path}); err != nil || diags.HasErrors() {
			b.Fatalf("configure: %v %v", err, diags.Err())
		}
		if err := c.Test(ctx, "i"); err != nil {
			b.Fatal(err)
		}
		test = append(test, time.Since(start))
		b.StopTimer()
		client.Kill()
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(median(describe), "describe-p50-ms")
	b.ReportMetric(median(test), "test-p50-ms")
}

// BenchmarkRoundTrip: Test on a configured instance of a real plugin
// process (a SELECT 1 on the file). Reports p50.
func BenchmarkRoundTrip(b *testing.B) {
	path, _ := conformanceDB(b)
	c := sdktest.LaunchConnector(b, sdktest.BuildPlugin(b, "."))
	ctx := context.Background()
	if diags, err := c.Configure(ctx, "i", map[string]any{"path": path}); err != nil || diags.HasErrors() {
		b.Fatalf("configure: %v %v", err, diags.Err())
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := c.Test(ctx, "i"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(median(lat), "p50-ms")
}

func median(d []time.Duration) float64 {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return float64(d[len(d)/2].Nanoseconds()) / 1e6
}
