package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lethehq/lethe/plugins/connector-mysql/internal/mysql"
	"github.com/lethehq/lethe/plugins/connector-mysql/internal/mytest"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/sdktest"
	"github.com/lethehq/lethe/sdk/value"
)

const table = "lethe_conformance"

func conformanceDB(t testing.TB) (string, *sql.DB) {
	t.Helper()
	dsn := mytest.NewDatabase(t, "lethe_my_conf")
	mytest.AllowLargePackets(t) // the suite sends 10 MiB values
	db := mytest.Open(t, dsn)
	if _, err := db.Exec(`CREATE TABLE ` + table + ` (id BIGINT PRIMARY KEY, email VARCHAR(255), name LONGTEXT, n BIGINT,
		f DOUBLE, d DECIMAL(38,9), b LONGBLOB, flag BOOLEAN, ts DATETIME(6), doc JSON, tags JSON)`); err != nil {
		t.Fatal(err)
	}
	return dsn, db
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
			if v, ok := r["ts"].(value.LocalTime); ok {
				ts = v.Time().Format("2006-01-02 15:04:05.999999")
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
	dsn, db := conformanceDB(t)
	server := mytest.ServerConfig(t)
	server.DBName = ""
	noDatabase := server.Clone()
	noDatabase.DBName = "lethe_no_such_database"
	denied := server.Clone()
	denied.User, denied.Passwd, denied.DBName = "lethe_no_such_user", "wrong-password", "x"
	return sdktest.ConnectorFixture{
		Config: map[string]any{"dsn": dsn},
		BadConfigs: []map[string]any{
			{},                                     // no database named
			{"dsn": 7},                             // wrong type
			{"dsn": dsn, "port": "3306"},           // wrong type
			{"dsn": dsn, "max_connections": "all"}, // wrong type
			{"dsn": dsn, "read_only": "yes"},       // wrong type
			{"dsn": dsn, "statement_timeout": "soon"},
			{"dsn": dsn, "path": "x"},                       // unknown attribute
			{"dsn": dsn, "host": "127.0.0.1"},               // both dsn and parts
			{"dsn": dsn, "max_connections": 0},              // out of range
			{"dsn": "user:pw@tcp(127.0.0.1:3306"},           // not a DSN
			{"dsn": server.FormatDSN()},                     // no database named
			{"dsn": noDatabase.FormatDSN()},                 // unknown database
			{"dsn": denied.FormatDSN()},                     // access denied
			{"host": "127.0.0.1", "port": 1, "dbname": "x"}, // unreachable port
			{"dsn": "root@tcp(127.0.0.1:1)/x?timeout=2s"},   // unreachable port
			{"user": "lethe_no_such_user", "dbname": "x"},   // access denied, parts
		},
		Collection: connector.Collection{Dataset: "conformance", Name: table},
		Supports: []sdktest.Kind{sdktest.KindFloat, sdktest.KindDecimal, sdktest.KindBytes, sdktest.KindBool,
			sdktest.KindLocalTime, sdktest.KindMap, sdktest.KindList},
		TimePrecision: time.Microsecond,
		Reset:         reset(db),
		Loose: map[string]func(testing.TB, []connector.Row) connector.Collection{
			"utf8mb4_general_ci": looseTable(db, "lethe_loose_general", "utf8mb4_general_ci"),
			// The most permissive collation the server has: ignores case,
			// accents, width and trailing spaces, and expands ß to ss.
			"uca": looseTable(db, "lethe_loose_uca", "utf8mb4_uca1400_ai_ci", "utf8mb4_0900_ai_ci", "utf8mb4_unicode_520_ci", "utf8mb4_unicode_ci"),
		},
	}
}

// looseTable is a fixture's Loose function: a table whose indexed email
// column has the first of collations the server knows.
func looseTable(db *sql.DB, name string, collations ...string) func(testing.TB, []connector.Row) connector.Collection {
	return func(t testing.TB, rows []connector.Row) connector.Collection {
		t.Helper()
		var err error
		for _, coll := range collations {
			if _, err = db.Exec("DROP TABLE IF EXISTS " + name + "; CREATE TABLE " + name + " (id BIGINT PRIMARY KEY, " +
				"email VARCHAR(255) CHARACTER SET utf8mb4 COLLATE " + coll + ", name VARCHAR(255), KEY (email))"); err == nil {
				t.Logf("%s: email column of collation %s", name, coll)
				break
			}
		}
		if err != nil {
			t.Fatalf("create %s with any of %v: %v", name, collations, err)
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
	fx := fixture(t) // first: skips before the build when no server answers
	c := sdktest.LaunchConnector(t, sdktest.BuildPlugin(t, "."))
	sdktest.RunConnectorConformance(t, c, fx)
}

// TestConformanceInProcess runs the suite in process, where -race sees the
// connector's code too.
func TestConformanceInProcess(t *testing.T) {
	fx := fixture(t)
	c := sdktest.NewConnectorHarness(t, mysql.Definition("0.1.0"))
	sdktest.RunConnectorConformance(t, c, fx)
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
	if info.Kind != schema.KindConnector || info.Name != "mysql" || info.Version != version || !info.Has(schema.CapabilityDryRun) {
		t.Errorf("-describe: %+v", info)
	}
	for _, a := range info.Config.Attributes {
		if (a.Name == "password" || a.Name == "dsn") != a.Sensitive {
			t.Errorf("attribute %s: sensitive = %v", a.Name, a.Sensitive)
		}
	}
}

// BenchmarkAccess streams 20,000 rows of 1 KiB from MySQL/MariaDB through
// the plugin boundary.
func BenchmarkAccess(b *testing.B) {
	dsn, db := conformanceDB(b)
	const rows = 20000
	payload := strings.Repeat("p", 1000)
	seed := make([]connector.Row, rows)
	for i := range seed {
		seed[i] = connector.Row{"id": int64(i + 1), "email": "bulk@example.com", "name": payload, "n": int64(i)}
	}
	reset(db)(b, seed)
	c := sdktest.LaunchConnector(b, sdktest.BuildPlugin(b, "."))
	ctx := context.Background()
	if diags, err := c.Configure(ctx, "bench", map[string]any{"dsn": dsn}); err != nil || diags.HasErrors() {
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
