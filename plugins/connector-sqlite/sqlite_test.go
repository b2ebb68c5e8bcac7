package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/lethehq/lethe/plugins/connector-sqlite/internal/sqlite"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/sdktest"
	"github.com/lethehq/lethe/sdk/value"
)

const table = "lethe_conformance"

func fixture(t *testing.T) sdktest.ConnectorFixture {
	path := filepath.Join(t.TempDir(), "conformance.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`CREATE TABLE ` + table + ` (id INTEGER PRIMARY KEY, email TEXT, name TEXT, n INTEGER,
		f REAL, d DECIMAL_TEXT, b BLOB, flag BOOLEAN, ts DATETIME, doc JSON, tags JSON)`)
	if err != nil {
		t.Fatal(err)
	}
	return sdktest.ConnectorFixture{
		Config:     map[string]any{"path": path},
		BadConfigs: []map[string]any{{}, {"path": 7}, {"path": path, "busy_timeout": "soon"}, {"path": path, "dsn": "x"}},
		Collection: connector.Collection{Dataset: "conformance", Name: table},
		Supports:   []sdktest.Kind{sdktest.KindFloat, sdktest.KindDecimal, sdktest.KindBytes, sdktest.KindBool, sdktest.KindTime, sdktest.KindMap, sdktest.KindList},
		Reset: func(t testing.TB, rows []connector.Row) {
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.Exec("DELETE FROM " + table); err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				var d, ts, doc, tags any
				if v, ok := r["d"].(value.Decimal); ok {
					d = string(v)
				}
				if v, ok := r["ts"].(time.Time); ok {
					ts = v.Format(time.RFC3339Nano)
				}
				if v, ok := r["doc"]; ok && v != nil {
					b, _ := json.Marshal(v)
					doc = string(b)
				}
				if v, ok := r["tags"]; ok && v != nil {
					b, _ := json.Marshal(v)
					tags = string(b)
				}
				if _, err := tx.Exec("INSERT INTO "+table+" VALUES (?,?,?,?,?,?,?,?,?,?,?)",
					r["id"], r["email"], r["name"], r["n"], r["f"], d, r["b"], r["flag"], ts, doc, tags); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// TestConformance runs the connector suite through a real plugin process.
func TestConformance(t *testing.T) {
	c := sdktest.LaunchConnector(t, sdktest.BuildPlugin(t, "."))
	sdktest.RunConnectorConformance(t, c, fixture(t))
}

// TestConformanceInProcess runs the suite over the in-process harness.
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
	if info.Kind != "connector" || info.Name != "sqlite" || !info.Has(schema.CapabilityDryRun) {
		t.Errorf("-describe: %+v", info)
	}
}

func open(t *testing.T, path string, extra map[string]any) connector.Instance {
	t.Helper()
	raw := map[string]any{"path": path}
	for k, v := range extra {
		raw[k] = v
	}
	cfg, diags := sqlite.Definition("0").Config.Validate(raw)
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	inst, err := sqlite.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	return inst
}

// Identifiers are quoted and values bound: a hostile table, column and
// value are data, never SQL.
func TestQuotingAndBinding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE "we""ird; DROP TABLE x" ("i""d" INTEGER PRIMARY KEY, "e mail" TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO "we""ird; DROP TABLE x" VALUES (1, 'a@b.c'), (2, 'x'' OR ''1''=''1')`); err != nil {
		t.Fatal(err)
	}
	inst := open(t, path, nil)
	req := connector.AccessRequest{
		Collection: connector.Collection{Name: `we"ird; DROP TABLE x`},
		Fields:     []connector.Path{{`i"d`}, {"e mail"}},
		Filters:    []connector.Filter{{Field: connector.Path{"e mail"}, Values: []any{"x' OR '1'='1"}}},
	}
	q, err := inst.(connector.DryRunner).DryRun(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT "i""d", "e mail" FROM "we""ird; DROP TABLE x" WHERE "e mail" IN (?)`
	if q != want {
		t.Errorf("dry run:\n got %s\nwant %s", q, want)
	}
	if strings.Contains(q, "OR '1'") {
		t.Errorf("a value reached the SQL text: %s", q)
	}
	var rows []connector.Row
	err = inst.Access(context.Background(), req, writerFunc(func(r connector.Row) error { rows = append(rows, r); return nil }))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0][`i"d`] != int64(2) {
		t.Errorf("rows %v, want only the row whose value is the literal string", rows)
	}
}

type writerFunc func(connector.Row) error

func (f writerFunc) Write(r connector.Row) error { return f(r) }

func TestUnknownColumnAndReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	db, _ := sql.Open("sqlite", "file:"+path)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	inst := open(t, path, nil)
	err := inst.Access(context.Background(), connector.AccessRequest{
		Collection: connector.Collection{Name: "t"}, Fields: []connector.Path{{"nope"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}},
	}, writerFunc(func(connector.Row) error { return nil }))
	if err == nil || !strings.Contains(err.Error(), `no column "nope"`) || !strings.Contains(err.Error(), "id, name") {
		t.Errorf("unknown column: %v", err)
	}
	ro := open(t, path, map[string]any{"read_only": true})
	_, err = ro.Erase(context.Background(), connector.EraseRequest{Collection: connector.Collection{Name: "t"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"name": nil}},
	}})
	if err == nil || !strings.Contains(err.Error(), "read_only") {
		t.Errorf("erase on read_only: %v", err)
	}
}
