package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/value"
)

// newDB creates a SQLite file at name in a temporary directory, runs the
// statements, and returns its path.
func newDB(t *testing.T, name string, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, time.Second, false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return path
}

func open(t *testing.T, path string, extra map[string]any) *Conn {
	t.Helper()
	raw := map[string]any{"path": path}
	for k, v := range extra {
		raw[k] = v
	}
	cfg, diags := Definition("0.0.0").Config.Validate(raw)
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	inst, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	return inst.(*Conn)
}

type rowsOf []connector.Row

func (r *rowsOf) Write(row connector.Row) error { *r = append(*r, row); return nil }

func access(t *testing.T, c *Conn, req connector.AccessRequest) []connector.Row {
	t.Helper()
	var rows rowsOf
	if err := c.Access(context.Background(), req, &rows); err != nil {
		t.Fatalf("Access: %v", err)
	}
	return rows
}

func TestQuote(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"users", `"users"`, false},
		{`we"ird`, `"we""ird"`, false},
		{`""`, `""""""`, false},
		{"drop table x; --", `"drop table x; --"`, false},
		{"a.b", `"a.b"`, false},
		{"", "", true},
		{"a\x00b", "", true},
	}
	for _, tc := range tests {
		got, err := quote(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("quote(%q) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && fault.KindOf(err) != fault.Permanent {
			t.Errorf("quote(%q): error %v is not permanent", tc.in, err)
		}
	}
}

var testCols = map[string]colType{"id": tInt, "email": tText, "name": tText, "doc": tJSON, "flag": tBool, "amount": tDecimal}

func TestBuildSelect(t *testing.T) {
	tests := []struct {
		name     string
		req      connector.AccessRequest
		wantSQL  string
		wantArgs []any
		wantErr  string
	}{
		{
			name: "IN lists ORed, values bound",
			req: connector.AccessRequest{Fields: []connector.Path{{"id"}, {"email"}}, Filters: []connector.Filter{
				{Field: connector.Path{"email"}, Values: []any{"a@x", "b@x"}},
				{Field: connector.Path{"id"}, Values: []any{int64(7)}},
			}},
			wantSQL:  `SELECT "id", "email" FROM "users" WHERE ("email" IN (?, ?) AND "email" COLLATE BINARY IN (?, ?)) OR "id" IN (?)`,
			wantArgs: []any{"a@x", "b@x", "a@x", "b@x", int64(7)},
		},
		{
			name: "nested field selects its column once; nested filter uses json_extract",
			req: connector.AccessRequest{Fields: []connector.Path{{"doc", "email"}, {"doc", "phone"}}, Limit: 10, Filters: []connector.Filter{
				{Field: connector.Path{"doc", "email"}, Values: []any{"a@x"}},
			}},
			wantSQL:  `SELECT "doc" FROM "users" WHERE json_extract("doc", ?) IN (?) LIMIT 10`,
			wantArgs: []any{`$."email"`, "a@x"},
		},
		{
			name: "typed values are bound in the column's form",
			req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{
				{Field: connector.Path{"flag"}, Values: []any{true}},
				{Field: connector.Path{"amount"}, Values: []any{value.Decimal("1.50")}},
				{Field: connector.Path{"id"}, Values: []any{"42"}},
			}},
			wantSQL:  `SELECT "id" FROM "users" WHERE "flag" IN (?) OR "amount" IN (?) OR "id" IN (?)`,
			wantArgs: []any{int64(1), "1.50", int64(42)},
		},
		{
			name: "unknown column named with the known ones",
			req: connector.AccessRequest{Fields: []connector.Path{{"nope"}}, Filters: []connector.Filter{
				{Field: connector.Path{"id"}, Values: []any{int64(1)}},
			}},
			wantErr: `table "users" has no column "nope" (its columns: amount, doc, email, flag, id, name)`,
		},
		{
			name: "nested field of a column that is not JSON",
			req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{
				{Field: connector.Path{"email", "x"}, Values: []any{"a"}},
			}},
			wantErr: `column "email" of table "users" is not declared JSON`,
		},
		{
			name:    "no filter",
			req:     connector.AccessRequest{Fields: []connector.Path{{"id"}}},
			wantErr: "without a filter",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Collection = connector.Collection{Name: "users"}
			q, err := buildSelect(testCols, tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || fault.KindOf(err) != fault.Permanent {
					t.Fatalf("got %v, want a permanent error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.sql != tc.wantSQL || !reflect.DeepEqual(q.args, tc.wantArgs) {
				t.Errorf("got\n  %s %#v\nwant\n  %s %#v", q.sql, q.args, tc.wantSQL, tc.wantArgs)
			}
		})
	}
}

func TestBuildUpdate(t *testing.T) {
	tests := []struct {
		name     string
		u        connector.RowUpdate
		wantSQL  string
		wantArgs []any
		wantErr  string
	}{
		{
			name:     "columns set in name order, composite key ANDed",
			u:        connector.RowUpdate{Key: connector.Row{"id": int64(1), "email": "a@x"}, Set: connector.Row{"name": "masked", "email": nil}},
			wantSQL:  `UPDATE "users" SET "email" = ?, "name" = ? WHERE "email" = ? AND "email" COLLATE BINARY = ? AND "id" = ?`,
			wantArgs: []any{nil, "masked", "a@x", "a@x", int64(1)},
		},
		{
			name: "nested members of a JSON column in one json_replace",
			u: connector.RowUpdate{Key: connector.Row{"id": int64(1)}, Set: connector.Row{
				"doc.email": "masked", "doc.address.city": nil, "doc.vip": false, "flag": true,
			}},
			wantSQL:  `UPDATE "users" SET "flag" = ?, "doc" = json_replace("doc", ?, ?, ?, ?, ?, json(?)) WHERE "id" = ?`,
			wantArgs: []any{int64(1), `$."address"."city"`, nil, `$."email"`, "masked", `$."vip"`, "false", int64(1)},
		},
		{
			name:    "unknown column",
			u:       connector.RowUpdate{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"password": "x"}},
			wantErr: `no column "password"`,
		},
		{
			name:    "nested member of a text column",
			u:       connector.RowUpdate{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"email.x": "x"}},
			wantErr: "not declared JSON",
		},
		{
			name:    "no key",
			u:       connector.RowUpdate{Set: connector.Row{"name": "x"}},
			wantErr: "no key",
		},
		{
			name:    "bytes inside JSON",
			u:       connector.RowUpdate{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"doc.x": []byte{1}}},
			wantErr: "bytes cannot be stored inside a JSON document",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := buildUpdate(testCols, "users", tc.u)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || fault.KindOf(err) != fault.Permanent {
					t.Fatalf("got %v, want a permanent error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.sql != tc.wantSQL || !reflect.DeepEqual(q.args, tc.wantArgs) {
				t.Errorf("got\n  %s %#v\nwant\n  %s %#v", q.sql, q.args, tc.wantSQL, tc.wantArgs)
			}
		})
	}
}

// Identifiers are quoted and values bound: a hostile table, column and
// value are data, never SQL.
func TestHostileNamesAndValues(t *testing.T) {
	path := newDB(t, "q.db",
		`CREATE TABLE "we""ird; DROP TABLE x" ("i""d" INTEGER PRIMARY KEY, "e mail" TEXT)`,
		`INSERT INTO "we""ird; DROP TABLE x" VALUES (1, 'a@b.c'), (2, 'x'' OR ''1''=''1')`)
	c := open(t, path, nil)
	req := connector.AccessRequest{
		Collection: connector.Collection{Name: `we"ird; DROP TABLE x`},
		Fields:     []connector.Path{{`i"d`}, {"e mail"}},
		Filters:    []connector.Filter{{Field: connector.Path{"e mail"}, Values: []any{"x' OR '1'='1"}}},
	}
	q, err := c.DryRun(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if want := `SELECT "i""d", "e mail" FROM "we""ird; DROP TABLE x" WHERE ("e mail" IN (?) AND "e mail" COLLATE BINARY IN (?))`; q != want {
		t.Errorf("dry run:\n got %s\nwant %s", q, want)
	}
	rows := access(t, c, req)
	if len(rows) != 1 || rows[0][`i"d`] != int64(2) {
		t.Errorf("rows %v, want only the row whose value is the literal string", rows)
	}
	res, err := c.Erase(context.Background(), connector.EraseRequest{Collection: req.Collection, Updates: []connector.RowUpdate{
		{Key: connector.Row{`i"d`: int64(1)}, Set: connector.Row{"e mail": "'; DROP TABLE x; --"}},
	}})
	if err != nil || res.Rows != 1 {
		t.Fatalf("Erase: %d, %v", res.Rows, err)
	}
	rows = access(t, c, connector.AccessRequest{Collection: req.Collection, Fields: []connector.Path{{"e mail"}},
		Filters: []connector.Filter{{Field: connector.Path{`i"d`}, Values: []any{int64(1)}}}})
	if len(rows) != 1 || rows[0]["e mail"] != "'; DROP TABLE x; --" {
		t.Errorf("after erase: %v", rows)
	}
}

// A path with the characters a SQLite URI gives meaning to opens the
// right file.
func TestPathWithURICharacters(t *testing.T) {
	path := newDB(t, "we?ird#name%20.db", `CREATE TABLE t (id INTEGER PRIMARY KEY)`, `INSERT INTO t VALUES (5)`)
	c := open(t, path, nil)
	rows := access(t, c, connector.AccessRequest{Collection: connector.Collection{Name: "t"}, Fields: []connector.Path{{"id"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(5)}}}})
	if len(rows) != 1 {
		t.Fatalf("rows %v: the connector opened another file", rows)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "we?ird#name%20.db") {
			t.Errorf("stray file %s: the path was misread", e.Name())
		}
	}
}

func TestNewRefusesMissingFileAndDirectory(t *testing.T) {
	dir := t.TempDir()
	for path, want := range map[string]string{
		filepath.Join(dir, "typo.db"): "does not exist",
		dir:                           "is a directory",
	} {
		cfg, _ := Definition("0").Config.Validate(map[string]any{"path": path})
		_, err := New(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%s): %v, want an error containing %q", path, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "typo.db")); !errors.Is(err, os.ErrNotExist) {
		t.Error("New created the missing file")
	}
}

func TestReadOnly(t *testing.T) {
	path := newDB(t, "r.db", `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)`, `INSERT INTO t VALUES (1, 'a')`)
	c := open(t, path, map[string]any{"read_only": true})
	if err := c.Test(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows := access(t, c, connector.AccessRequest{Collection: connector.Collection{Name: "t"}, Fields: []connector.Path{{"name"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}})
	if len(rows) != 1 || rows[0]["name"] != "a" {
		t.Errorf("read-only access: %v", rows)
	}
	_, err := c.Erase(context.Background(), connector.EraseRequest{Collection: connector.Collection{Name: "t"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"name": nil}},
	}})
	if err == nil || !strings.Contains(err.Error(), "read_only") || fault.KindOf(err) != fault.Permanent {
		t.Errorf("erase on read_only: %v", err)
	}
}

// A column added after the first request is found without a restart.
func TestColumnCacheRefreshes(t *testing.T) {
	path := newDB(t, "c.db", `CREATE TABLE t (id INTEGER PRIMARY KEY)`, `INSERT INTO t VALUES (1)`)
	c := open(t, path, nil)
	req := connector.AccessRequest{Collection: connector.Collection{Name: "t"}, Fields: []connector.Path{{"id"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}}
	access(t, c, req)
	if _, err := c.db.Exec(`ALTER TABLE t ADD COLUMN note TEXT DEFAULT 'new'`); err != nil {
		t.Fatal(err)
	}
	req.Fields = []connector.Path{{"note"}}
	if rows := access(t, c, req); len(rows) != 1 || rows[0]["note"] != "new" {
		t.Errorf("rows %v", rows)
	}
	_, err := c.DryRun(context.Background(), connector.AccessRequest{Collection: connector.Collection{Name: "nope"},
		Fields: req.Fields, Filters: req.Filters})
	if err == nil || !strings.Contains(err.Error(), `table "nope" does not exist`) {
		t.Errorf("unknown table: %v", err)
	}
}

// Values that do not fit their declared type come back as stored; the
// declared type decides the Go type of those that do.
func TestDecodeByDeclaredType(t *testing.T) {
	path := newDB(t, "v.db",
		`CREATE TABLE v (id INTEGER PRIMARY KEY, i INTEGER, r REAL, d NUMERIC(10,2), dt DECIMAL_TEXT, b BOOLEAN,
			ts DATETIME, tz TIMESTAMP WITH TIME ZONE, j JSON, bl BLOB, tx TEXT, anything)`,
		`INSERT INTO v VALUES (1, 42, 1.5, 19.99, '12345678901234567890.123456789', TRUE,
			'2024-05-06T07:08:09.123+05:30', '2024-05-06 07:08:09', '{"n": 12345678901234567890, "f": 1.5, "l": [1, null]}',
			X'00FF', 'text', 3)`,
		`INSERT INTO v VALUES (2, 'not a number', 'x', 'abc', NULL, 'false', 1700000000, 'garbage', 'not json', 'as text', CAST(X'FF' AS TEXT), NULL)`)
	c := open(t, path, nil)
	fields := []connector.Path{{"id"}, {"i"}, {"r"}, {"d"}, {"dt"}, {"b"}, {"ts"}, {"tz"}, {"j"}, {"bl"}, {"tx"}, {"anything"}}
	rows := access(t, c, connector.AccessRequest{Collection: connector.Collection{Name: "v"}, Fields: fields,
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1), int64(2)}}}})
	if len(rows) != 2 {
		t.Fatalf("rows %v", rows)
	}
	want1 := connector.Row{
		"id": int64(1), "i": int64(42), "r": 1.5, "d": value.Decimal("19.99"),
		"dt": value.Decimal("12345678901234567890.123456789"), "b": true,
		"ts": time.Date(2024, 5, 6, 7, 8, 9, 123000000, time.FixedZone("", 5*3600+1800)),
		// Text without an offset is in no zone, whatever the declared type
		// says: it comes back as a value.LocalTime, not as UTC.
		"tz": value.Local(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)),
		"j":  map[string]any{"n": value.Decimal("12345678901234567890"), "f": 1.5, "l": []any{int64(1), nil}},
		"bl": []byte{0, 0xff}, "tx": "text", "anything": int64(3),
	}
	want2 := connector.Row{
		"id": int64(2), "i": "not a number", "r": "x", "d": "abc", "dt": nil, "b": false,
		"ts": int64(1700000000), "tz": "garbage", "j": "not json", "bl": []byte("as text"), "tx": []byte{0xff}, "anything": nil,
	}
	for i, want := range []connector.Row{want1, want2} {
		for k, w := range want {
			g := rows[i][k]
			if wt, ok := w.(time.Time); ok {
				gt, ok := g.(time.Time)
				_, wo := wt.Zone()
				if !ok || !gt.Equal(wt) {
					t.Errorf("row %d %s: got %#v, want %v", i+1, k, g, wt)
				} else if _, gotOff := gt.Zone(); gotOff != wo {
					t.Errorf("row %d %s: offset %d, want %d", i+1, k, gotOff, wo)
				}
				continue
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("row %d %s: got %#v, want %#v", i+1, k, g, w)
			}
		}
	}
}

// Values written by Erase read back as the same Go values.
func TestEraseWritesTypedValues(t *testing.T) {
	path := newDB(t, "w.db",
		`CREATE TABLE w (id INTEGER PRIMARY KEY, d DECIMAL_TEXT, b BOOLEAN, ts DATETIME, j JSON, bl BLOB, f REAL, n INTEGER)`,
		`INSERT INTO w (id) VALUES (1)`)
	c := open(t, path, nil)
	set := connector.Row{
		"d": value.Decimal("-0.000000001"), "b": true, "ts": time.Date(1970, 1, 1, 0, 0, 0, 1, time.FixedZone("", -3600)),
		"j": map[string]any{"k": []any{int64(math.MaxInt64), "v", nil, true}}, "bl": []byte{1, 2, 3}, "f": math.SmallestNonzeroFloat64,
		"n": int64(math.MinInt64),
	}
	res, err := c.Erase(context.Background(), connector.EraseRequest{Collection: connector.Collection{Name: "w"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: set},
	}})
	if err != nil || res.Rows != 1 {
		t.Fatalf("Erase: %d, %v", res.Rows, err)
	}
	var fields []connector.Path
	for k := range set {
		fields = append(fields, connector.Path{k})
	}
	rows := access(t, c, connector.AccessRequest{Collection: connector.Collection{Name: "w"}, Fields: fields,
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}})
	got := rows[0]
	gt := got["ts"].(time.Time)
	if wt := set["ts"].(time.Time); !gt.Equal(wt) || gt.Format(time.RFC3339Nano) != wt.Format(time.RFC3339Nano) {
		t.Errorf("ts: got %v, want %v", gt, wt)
	}
	delete(got, "ts")
	delete(set, "ts")
	if !reflect.DeepEqual(got, set) {
		t.Errorf("got %#v\nwant %#v", got, set)
	}
}

// Erase of nested members replaces only members that exist; filters on
// nested members find the row.
func TestNestedJSONMembers(t *testing.T) {
	path := newDB(t, "j.db",
		`CREATE TABLE u (id INTEGER PRIMARY KEY, profile JSON)`,
		`INSERT INTO u VALUES (1, '{"email": "a@x", "phone": "123", "address": {"city": "Paris"}, "keep": 1}')`,
		`INSERT INTO u VALUES (2, '{"email": "b@x"}')`)
	c := open(t, path, nil)
	coll := connector.Collection{Name: "u"}
	rows := access(t, c, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"profile", "email"}},
		Filters: []connector.Filter{{Field: connector.Path{"profile", "email"}, Values: []any{"a@x"}}}})
	if len(rows) != 1 || rows[0]["profile"].(map[string]any)["phone"] != "123" {
		t.Fatalf("nested filter: %v", rows)
	}
	res, err := c.Erase(context.Background(), connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"profile.email": "masked", "profile.address.city": nil, "profile.absent": "x"}},
	}})
	if err != nil || res.Rows != 1 {
		t.Fatalf("Erase: %d, %v", res.Rows, err)
	}
	rows = access(t, c, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"profile"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1), int64(2)}}}})
	want := []connector.Row{
		{"profile": map[string]any{"email": "masked", "phone": "123", "address": map[string]any{"city": nil}, "keep": int64(1)}},
		{"profile": map[string]any{"email": "b@x"}},
	}
	if !reflect.DeepEqual([]connector.Row(rows), want) {
		t.Errorf("got %#v\nwant %#v", rows, want)
	}
}

// A batch is one transaction: when an update fails, none is applied.
func TestEraseBatchIsAtomic(t *testing.T) {
	path := newDB(t, "a.db", `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`, `INSERT INTO t VALUES (1, 'a'), (2, 'b')`)
	c := open(t, path, nil)
	coll := connector.Collection{Name: "t"}
	_, err := c.Erase(context.Background(), connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"name": "masked"}},
		{Key: connector.Row{"id": int64(2)}, Set: connector.Row{"name": nil}}, // NOT NULL
	}})
	if err == nil || fault.KindOf(err) != fault.Permanent || !strings.Contains(err.Error(), "update 2") {
		t.Fatalf("got %v, want a permanent error naming update 2", err)
	}
	rows := access(t, c, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"name"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}})
	if rows[0]["name"] != "a" {
		t.Errorf("update 1 was applied although its batch failed: %v", rows)
	}
}

type stopAfter struct{ n int }

func (s *stopAfter) Write(connector.Row) error {
	s.n--
	if s.n < 0 {
		return errors.New("host went away")
	}
	return nil
}

// Access stops at the first failed Write and when its context ends.
func TestAccessStops(t *testing.T) {
	stmts := []string{`CREATE TABLE t (id INTEGER PRIMARY KEY, g INTEGER)`,
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 5000) INSERT INTO t SELECT i, 1 FROM s`}
	c := open(t, newDB(t, "s.db", stmts...), nil)
	req := connector.AccessRequest{Collection: connector.Collection{Name: "t"}, Fields: []connector.Path{{"id"}},
		Filters: []connector.Filter{{Field: connector.Path{"g"}, Values: []any{int64(1)}}}}
	w := &stopAfter{n: 10}
	if err := c.Access(context.Background(), req, w); err == nil || err.Error() != "host went away" {
		t.Errorf("got %v, want the writer's error", err)
	}
	if w.n != -1 {
		t.Errorf("Access kept writing after a failed Write (%d more)", -1-w.n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Access(ctx, req, &rowsOf{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Access: %v", err)
	}
}

func TestTypeOf(t *testing.T) {
	for decl, want := range map[string]colType{
		"INTEGER": tInt, "BIGINT": tInt, "int": tInt, "BOOLEAN": tBool, "bool": tBool, "NUMERIC(10,2)": tDecimal,
		"DECIMAL_TEXT": tDecimal, "REAL": tFloat, "DOUBLE PRECISION": tFloat, "FLOAT": tFloat, "DATETIME": tTime,
		"TIMESTAMP": tTime, "DATE": tTime, "JSON": tJSON, "BLOB": tBlob, "VARCHAR(255)": tText, "TEXT": tText,
		"CLOB": tText, "": tAny, "WHATEVER": tAny,
	} {
		if got := typeOf(decl); got != want {
			t.Errorf("typeOf(%q) = %d, want %d", decl, got, want)
		}
	}
}

func TestDSN(t *testing.T) {
	got := dsn("/data/a?b#c%d.db", 1500*time.Millisecond, false)
	if !strings.HasPrefix(got, "file:/data/a%3Fb%23c%25d.db?") {
		t.Errorf("path not escaped: %s", got)
	}
	for _, want := range []string{"busy_timeout%281500%29", "journal_mode%28WAL%29", "mode=rw", "_txlock=immediate"} {
		if !strings.Contains(got, want) {
			t.Errorf("dsn %s lacks %s", got, want)
		}
	}
	ro := dsn("/x.db", time.Second, true)
	if !strings.Contains(ro, "mode=ro") || strings.Contains(ro, "WAL") {
		t.Errorf("read-only dsn: %s", ro)
	}
}
