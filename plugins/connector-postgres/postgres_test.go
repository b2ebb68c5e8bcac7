package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/lethehq/lethe/plugins/connector-postgres/internal/pgtest"
	"github.com/lethehq/lethe/plugins/connector-postgres/internal/postgres"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/sdktest"
	"github.com/lethehq/lethe/sdk/value"
)

const table = "lethe_conformance"

// conformanceDB creates a database with the conformance table in a schema
// other than public, to prove the schema setting is used.
func conformanceDB(t testing.TB) (string, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.NewDatabase(t, "lethe_pg_conf")
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(context.Background(), `CREATE SCHEMA shop;
		CREATE TABLE shop.`+table+` (id BIGINT PRIMARY KEY, email VARCHAR(255), name TEXT, n BIGINT,
		f DOUBLE PRECISION, d NUMERIC(38,9), b BYTEA, flag BOOLEAN, ts TIMESTAMPTZ, doc JSONB, tags JSON)`); err != nil {
		t.Fatal(err)
	}
	return dsn, conn
}

// reset is the fixture's Reset, written with pgx as a plugin author would.
func reset(conn *pgx.Conn) func(testing.TB, []connector.Row) {
	return func(t testing.TB, rows []connector.Row) {
		t.Helper()
		ctx := context.Background()
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "DELETE FROM shop."+table); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			var d, doc, tags any
			if v, ok := r["d"].(value.Decimal); ok {
				var n pgtype.Numeric
				if err := n.Scan(string(v)); err != nil {
					t.Fatal(err)
				}
				d = n
			}
			if v := r["doc"]; v != nil {
				b, _ := json.Marshal(v)
				doc = string(b)
			}
			if v := r["tags"]; v != nil {
				b, _ := json.Marshal(v)
				tags = string(b)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO shop."+table+" (id, email, name, n, f, d, b, flag, ts, doc, tags) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10::jsonb,$11::json)",
				r["id"], r["email"], r["name"], r["n"], r["f"], d, r["b"], r["flag"], r["ts"], doc, tags); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func fixture(t *testing.T) sdktest.ConnectorFixture {
	dsn, conn := conformanceDB(t)
	return sdktest.ConnectorFixture{
		Config: map[string]any{"dsn": dsn, "schema": "shop"},
		BadConfigs: []map[string]any{
			{},
			{"dsn": 7},
			{"dsn": dsn, "host": "127.0.0.1"},
			{"dsn": dsn, "statement_timeout": "soon"},
			{"dsn": dsn, "path": "x"},
			{"dsn": dsn, "max_connections": int64(0)},
			{"host": "127.0.0.1", "user": "postgres"},
			{"dsn": "postgres://postgres@127.0.0.1:5432/lethe_no_such_database?sslmode=disable"},
			{"dsn": "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2"},
		},
		Collection: connector.Collection{Dataset: "conformance", Name: table},
		Supports: []sdktest.Kind{sdktest.KindFloat, sdktest.KindDecimal, sdktest.KindBytes, sdktest.KindBool,
			sdktest.KindTime, sdktest.KindMap, sdktest.KindList},
		TimePrecision: time.Microsecond,
		Reset:         reset(conn),
		Loose: map[string]func(testing.TB, []connector.Row) connector.Collection{
			"citext": looseTable(conn, "lethe_loose_citext", "CITEXT"),
			// The most permissive collation: level 1 ignores case, accents
			// and width, a nondeterministic collation equates normal forms,
			// and alternate=shifted ignores spaces and punctuation.
			"nondeterministic ICU": looseTable(conn, "lethe_loose_icu", `TEXT COLLATE shop.loose`),
		},
	}
}

// looseTable is a fixture's Loose function: a table in schema shop whose
// indexed email column has type typ.
func looseTable(conn *pgx.Conn, name, typ string) func(testing.TB, []connector.Row) connector.Collection {
	return func(t testing.TB, rows []connector.Row) connector.Collection {
		t.Helper()
		ctx := context.Background()
		if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS citext;
			DO $$ BEGIN
				CREATE COLLATION shop.loose (provider = icu, locale = 'und-u-ka-shifted-ks-level1', deterministic = false);
			EXCEPTION WHEN duplicate_object THEN NULL; END $$;
			DROP TABLE IF EXISTS shop.`+name+`;
			CREATE TABLE shop.`+name+` (id BIGINT PRIMARY KEY, email `+typ+`, name TEXT);
			CREATE INDEX ON shop.`+name+` (email)`); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		for _, r := range rows {
			if _, err := conn.Exec(ctx, "INSERT INTO shop."+name+" (id, email, name) VALUES ($1, $2, $3)", r["id"], r["email"], r["name"]); err != nil {
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
	c := sdktest.NewConnectorHarness(t, postgres.Definition("0.1.0"))
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
	if info.Kind != schema.KindConnector || info.Name != "postgres" || info.Version != version || !info.Has(schema.CapabilityDryRun) {
		t.Errorf("-describe: %+v", info)
	}
	for _, a := range info.Config.Attributes {
		if (a.Name == "password" || a.Name == "dsn") != a.Sensitive {
			t.Errorf("attribute %s: sensitive = %v", a.Name, a.Sensitive)
		}
	}
}

// BenchmarkAccess streams 20,000 rows of 1 KiB from PostgreSQL through
// the plugin boundary. MB/s counts 1 KiB per row.
func BenchmarkAccess(b *testing.B) {
	dsn, conn := conformanceDB(b)
	const rows = 20000
	payload := strings.Repeat("p", 1000)
	seed := make([]connector.Row, rows)
	for i := range seed {
		seed[i] = connector.Row{"id": int64(i + 1), "email": "bulk@example.com", "name": payload, "n": int64(i)}
	}
	reset(conn)(b, seed)
	c := sdktest.LaunchConnector(b, sdktest.BuildPlugin(b, "."))
	ctx := context.Background()
	if diags, err := c.Configure(ctx, "bench", map[string]any{"dsn": dsn, "schema": "shop"}); err != nil || diags.HasErrors() {
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

// BenchmarkEraseVsFloor: the erasure benchmark (pgtest.BenchErase) through
// a real plugin process, as lethe calls it.
func BenchmarkEraseVsFloor(b *testing.B) {
	dsn := pgtest.NewDatabase(b, "lethe_pg_erase")
	conn := pgtest.Connect(b, dsn)
	if _, err := conn.Exec(context.Background(), pgtest.EraseTableDDL); err != nil {
		b.Fatal(err)
	}
	c := sdktest.LaunchConnector(b, sdktest.BuildPlugin(b, "."))
	ctx := context.Background()
	if diags, err := c.Configure(ctx, "bench", map[string]any{"dsn": dsn}); err != nil || diags.HasErrors() {
		b.Fatalf("configure: %v %v", err, diags.Err())
	}
	pgtest.BenchErase(b, conn, func(ctx context.Context, req connector.EraseRequest) (connector.EraseResult, error) {
		return c.Erase(ctx, "bench", req)
	})
}
