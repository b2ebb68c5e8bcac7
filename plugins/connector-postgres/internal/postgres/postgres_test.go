package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/lethehq/lethe/plugins/connector-postgres/internal/pgtest"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

var testCols = map[string]column{
	"id":     {kind: kInt, udt: "int8"},
	"email":  {kind: kText, udt: "varchar"},
	"doc":    {kind: kJSONB, udt: "jsonb"},
	"meta":   {kind: kJSON, udt: "json"},
	"total":  {kind: kDecimal, udt: "numeric"},
	`we"ird`: {kind: kText, udt: "text"},
}

func TestBuildSelect(t *testing.T) {
	tests := []struct {
		name string
		req  connector.AccessRequest
		sql  string
		args []any
		err  string
	}{
		{
			name: "flat",
			req: connector.AccessRequest{Fields: []connector.Path{{"id"}, {"email"}},
				Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: []any{"a@x", "b@x"}}}},
			sql:  `SELECT "id", "email" FROM "s"."t" WHERE ("email" IN ($1, $2) AND "email"::text COLLATE "C" IN ($3::text, $4::text))`,
			args: []any{"a@x", "b@x", "a@x", "b@x"},
		},
		{
			name: "filters are ORed, text key bound as integer, limit",
			req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Limit: 5,
				Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: []any{"a@x"}}, {Field: connector.Path{"id"}, Values: []any{"7"}}}},
			sql:  `SELECT "id" FROM "s"."t" WHERE ("email" IN ($1) AND "email"::text COLLATE "C" IN ($2::text)) OR "id" IN ($3) LIMIT 5`,
			args: []any{"a@x", "a@x", int64(7)},
		},
		{
			name: "nested fields select their column once; nested filter compares text",
			req: connector.AccessRequest{Fields: []connector.Path{{"doc", "a"}, {"doc", "b"}},
				Filters: []connector.Filter{{Field: connector.Path{"doc", "a", "b"}, Values: []any{"x", int64(5), true}}}},
			sql:  `SELECT "doc" FROM "s"."t" WHERE ("doc" #>> $1) IN ($2, $3, $4)`,
			args: []any{[]string{"a", "b"}, "x", "5", "true"},
		},
		{
			name: "odd identifiers are quoted",
			req: connector.AccessRequest{Fields: []connector.Path{{`we"ird`}},
				Filters: []connector.Filter{{Field: connector.Path{`we"ird`}, Values: []any{"'; DROP TABLE t; --"}}}},
			sql:  `SELECT "we""ird" FROM "s"."t" WHERE ("we""ird" IN ($1) AND "we""ird"::text COLLATE "C" IN ($2::text))`,
			args: []any{"'; DROP TABLE t; --", "'; DROP TABLE t; --"},
		},
		{name: "unknown column", req: connector.AccessRequest{Fields: []connector.Path{{"nope"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}}, err: `has no column "nope"`},
		{name: "no filter", req: connector.AccessRequest{Fields: []connector.Path{{"id"}}}, err: "without a filter"},
		{name: "empty filter", req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}}}}, err: "has no values"},
		{name: "nested in a text column", req: connector.AccessRequest{Fields: []connector.Path{{"email", "x"}}, Filters: []connector.Filter{{Field: connector.Path{"email", "x"}, Values: []any{"a"}}}}, err: "not json or jsonb"},
		{name: "bad integer", req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{"abc"}}}}, err: "not an integer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := buildSelect(testCols, `"s"."t"`, "t", tc.req)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || fault.KindOf(err) != fault.Permanent {
					t.Fatalf("error %v, want permanent %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.sql != tc.sql {
				t.Errorf("sql\n got %s\nwant %s", q.sql, tc.sql)
			}
			if !reflect.DeepEqual(q.args, tc.args) {
				t.Errorf("args %#v, want %#v", q.args, tc.args)
			}
		})
	}
}

func TestBuildUpdate(t *testing.T) {
	tests := []struct {
		name string
		u    connector.RowUpdate
		sql  string
		args []any
		err  string
	}{
		{
			name: "flat",
			u:    connector.RowUpdate{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"email": nil}},
			sql:  `UPDATE "s"."t" SET "email" = $1 WHERE "id" = $2`,
			args: []any{nil, int64(1)},
		},
		{
			name: "nested jsonb members chain jsonb_set; json goes through jsonb",
			u:    connector.RowUpdate{Key: connector.Row{"id": "3"}, Set: connector.Row{"doc.a": "x", "doc.b.c": nil, "meta.k": int64(2)}},
			sql:  `UPDATE "s"."t" SET "doc" = jsonb_set(jsonb_set("doc", $1::text[], $2::jsonb, false), $3::text[], $4::jsonb, false), "meta" = jsonb_set("meta"::jsonb, $5::text[], $6::jsonb, false)::json WHERE "id" = $7`,
			args: []any{[]string{"a"}, `"x"`, []string{"b", "c"}, `null`, []string{"k"}, `2`, int64(3)},
		},
		{name: "no key", u: connector.RowUpdate{Set: connector.Row{"email": nil}}, err: "has no key"},
		{name: "null key", u: connector.RowUpdate{Key: connector.Row{"id": nil}, Set: connector.Row{"email": nil}}, err: "is NULL"},
		{name: "nothing set", u: connector.RowUpdate{Key: connector.Row{"id": int64(1)}}, err: "sets no field"},
		{name: "nested key", u: connector.RowUpdate{Key: connector.Row{"doc.a": "x"}, Set: connector.Row{"email": nil}}, err: "has no column"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := buildUpdate(testCols, `"s"."t"`, "t", tc.u)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.sql != tc.sql {
				t.Errorf("sql\n got %s\nwant %s", q.sql, tc.sql)
			}
			if !reflect.DeepEqual(q.args, tc.args) {
				t.Errorf("args %#v, want %#v", q.args, tc.args)
			}
		})
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		n    pgtype.Numeric
		want any
	}{
		{pgtype.Numeric{Int: big.NewInt(12345), Exp: -2, Valid: true}, value.Decimal("123.45")},
		{pgtype.Numeric{Int: big.NewInt(-5), Exp: -3, Valid: true}, value.Decimal("-0.005")},
		{pgtype.Numeric{Int: big.NewInt(12), Exp: 3, Valid: true}, value.Decimal("12000")},
		{pgtype.Numeric{Int: big.NewInt(0), Exp: 0, Valid: true}, value.Decimal("0")},
		{pgtype.Numeric{}, nil},
	}
	for _, tc := range tests {
		if got := decimal(tc.n); got != tc.want {
			t.Errorf("decimal(%v e%d) = %#v, want %#v", tc.n.Int, tc.n.Exp, got, tc.want)
		}
	}
	if f, ok := decimal(pgtype.Numeric{NaN: true, Valid: true}).(float64); !ok || !math.IsNaN(f) {
		t.Errorf("NaN numeric: %v", f)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want fault.Kind
	}{
		{&pgconn.PgError{Code: "40P01"}, fault.Transient},
		{&pgconn.PgError{Code: "57014"}, fault.Transient},
		{&pgconn.PgError{Code: "08006"}, fault.Transient},
		{&pgconn.PgError{Code: "42P01"}, fault.Permanent},
		{&pgconn.PgError{Code: "42703"}, fault.Permanent},
		{&pgconn.PgError{Code: "28P01"}, fault.Permanent},
		{&pgconn.PgError{Code: "3D000"}, fault.Permanent},
		{&pgconn.PgError{Code: "25006"}, fault.Permanent},
		{&pgconn.PgError{Code: "23505"}, fault.Permanent},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), fault.Transient},
		{context.DeadlineExceeded, fault.Transient},
	}
	for _, tc := range tests {
		if got := fault.KindOf(classify(fmt.Errorf("op: %w", tc.err))); got != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if !errors.Is(classify(context.Canceled), context.Canceled) {
		t.Error("cancellation must stay a cancellation")
	}
}

func TestPoolConfigFromParts(t *testing.T) {
	pc, err := poolConfig(schema.Config{"host": "db.internal", "port": int64(6543), "user": "lethe", "password": `p'w\d`, "dbname": "shop", "sslmode": "require",
		"max_connections": int64(7), "statement_timeout": 1500 * time.Millisecond, "read_only": true})
	if err != nil {
		t.Fatal(err)
	}
	cc := pc.ConnConfig
	if cc.Host != "db.internal" || cc.Port != 6543 || cc.User != "lethe" || cc.Password != `p'w\d` || cc.Database != "shop" || pc.MaxConns != 7 {
		t.Errorf("config %+v", cc)
	}
	if cc.RuntimeParams["statement_timeout"] != "1500" || cc.RuntimeParams["default_transaction_read_only"] != "on" {
		t.Errorf("runtime params %v", cc.RuntimeParams)
	}
	if _, err := poolConfig(schema.Config{"dsn": "postgres://x@h/db", "password": "p"}); err == nil || !strings.Contains(err.Error(), "both dsn and password") {
		t.Errorf("dsn and parts: %v", err)
	}
	_, err = poolConfig(schema.Config{"dsn": "postgres://lethe:s3cret-pw@h:notaport/db"})
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("a bad DSN must fail without printing its password: %v", err)
	}
}

// open configures a Conn on a fresh database holding ddl.
func open(t testing.TB, ddl string, extra schema.Config) (*Conn, string) {
	t.Helper()
	dsn := pgtest.NewDatabase(t, "lethe_pg_unit")
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(context.Background(), ddl); err != nil {
		t.Fatal(err)
	}
	cfg := schema.Config{"dsn": dsn, "schema": "public", "max_connections": int64(4), "statement_timeout": 10 * time.Second}
	for k, v := range extra {
		cfg[k] = v
	}
	inst, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	return inst.(*Conn), dsn
}

type collect []connector.Row

func (c *collect) Write(r connector.Row) error { *c = append(*c, r); return nil }

func TestNestedJSONAndOddNames(t *testing.T) {
	c, dsn := open(t, `CREATE SCHEMA "Odd ""Schema""";
		CREATE TABLE "Odd ""Schema"""."User Rows" (id INT PRIMARY KEY, doc JSONB, meta JSON, "e-mail" TEXT, amount NUMERIC(30,10), seen TIMESTAMP, u UUID);
		INSERT INTO "Odd ""Schema"""."User Rows" VALUES
		 (1, '{"email":"a@x","n":12345678901234567,"keep":{"k":1}}', '{"email":"a@x","other":true}', 'a@x', 12345678901234567890.0123456789, '2024-03-01 10:00:00.123456', '5b0e5bd6-2b6a-4d5e-9a43-2b0f0f6a8c11'),
		 (2, '{"email":"b@x"}', '{}', 'b@x', 1, NULL, NULL)`, schema.Config{})
	c.schema = `Odd "Schema"`
	ctx := context.Background()
	coll := connector.Collection{Name: "User Rows"}
	var rows collect
	err := c.Access(ctx, connector.AccessRequest{Collection: coll,
		Fields:  []connector.Path{{"id"}, {"doc", "email"}, {"meta"}, {"e-mail"}, {"amount"}, {"seen"}, {"u"}},
		Filters: []connector.Filter{{Field: connector.Path{"doc", "email"}, Values: []any{"a@x"}}}}, &rows)
	if err != nil {
		t.Fatal(err)
	}
	want := connector.Row{
		"id": int64(1), "doc": map[string]any{"email": "a@x", "n": int64(12345678901234567), "keep": map[string]any{"k": int64(1)}},
		"meta": map[string]any{"email": "a@x", "other": true}, "e-mail": "a@x",
		"amount": value.Decimal("12345678901234567890.0123456789"),
		"seen":   value.Local(time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.UTC)), "u": "5b0e5bd6-2b6a-4d5e-9a43-2b0f0f6a8c11",
	}
	if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("rows %#v\nwant %#v", rows, want)
	}
	res, err := c.Erase(ctx, connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"doc.email": nil, "doc.missing": "x", "meta.email": "MASKED", "e-mail": "MASKED"}},
		{Key: connector.Row{"id": int64(99)}, Set: connector.Row{"e-mail": nil}},
	}})
	if err != nil || res.Rows != 1 {
		t.Fatalf("erase: %d, %v", res.Rows, err)
	}
	conn := pgtest.Connect(t, dsn)
	var doc, meta, email string
	if err := conn.QueryRow(ctx, `SELECT doc::text, meta::text, "e-mail" FROM "Odd ""Schema"""."User Rows" WHERE id = 1`).Scan(&doc, &meta, &email); err != nil {
		t.Fatal(err)
	}
	if doc != `{"n": 12345678901234567, "keep": {"k": 1}, "email": null}` || meta != `{"email": "MASKED", "other": true}` || email != "MASKED" {
		t.Errorf("after erase: doc %s, meta %s, e-mail %s", doc, meta, email)
	}
	if err := conn.QueryRow(ctx, `SELECT doc::text FROM "Odd ""Schema"""."User Rows" WHERE id = 2`).Scan(&doc); err != nil || doc != `{"email": "b@x"}` {
		t.Errorf("row 2 must be untouched: %s %v", doc, err)
	}
	sql, err := c.DryRun(ctx, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{{Field: connector.Path{"e-mail"}, Values: []any{"a", "b"}}}})
	if err != nil || sql != `SELECT "id" FROM "Odd ""Schema"""."User Rows" WHERE ("e-mail" IN ($1, $2) AND "e-mail"::text COLLATE "C" IN ($3::text, $4::text))` {
		t.Errorf("dry run: %s %v", sql, err)
	}
}

func TestEraseBatchIsAtomic(t *testing.T) {
	c, dsn := open(t, `CREATE TABLE t (id INT PRIMARY KEY, email TEXT, n INT); INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2)`, schema.Config{})
	ctx := context.Background()
	_, err := c.Erase(ctx, connector.EraseRequest{Collection: connector.Collection{Name: "t"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"email": "MASKED"}},
		{Key: connector.Row{"id": int64(2)}, Set: connector.Row{"n": "not a number"}},
	}})
	if err == nil || fault.KindOf(err) != fault.Permanent {
		t.Fatalf("a bad update must fail the batch permanently: %v", err)
	}
	var email string
	if err := pgtest.Connect(t, dsn).QueryRow(ctx, "SELECT email FROM t WHERE id = 1").Scan(&email); err != nil || email != "a" {
		t.Errorf("row 1 changed although its batch failed: %q %v", email, err)
	}
}

func TestReadOnly(t *testing.T) {
	c, _ := open(t, `CREATE TABLE t (id INT PRIMARY KEY, email TEXT); INSERT INTO t VALUES (1, 'a')`, schema.Config{"read_only": true})
	_, err := c.Erase(context.Background(), connector.EraseRequest{Collection: connector.Collection{Name: "t"},
		Updates: []connector.RowUpdate{{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"email": nil}}}})
	if err == nil || fault.KindOf(err) != fault.Permanent || !strings.Contains(err.Error(), "read_only") {
		t.Fatalf("erase on a read-only connection: %v", err)
	}
	c.readOnly = false // the session itself is read-only too
	_, err = c.Erase(context.Background(), connector.EraseRequest{Collection: connector.Collection{Name: "t"},
		Updates: []connector.RowUpdate{{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"email": nil}}}})
	if err == nil || fault.KindOf(err) != fault.Permanent {
		t.Fatalf("a read-only session must refuse the update: %v", err)
	}
}

func TestStatementTimeoutIsTransient(t *testing.T) {
	c, _ := open(t, `CREATE TABLE t (id INT PRIMARY KEY, email TEXT); INSERT INTO t VALUES (1, 'a');
		CREATE FUNCTION slow_email(t) RETURNS TEXT LANGUAGE sql AS 'SELECT pg_sleep(2)::text || $1.email';
		CREATE VIEW v AS SELECT id, slow_email(t) AS email FROM t;`, // the slow function inside an ordinary SELECT
		schema.Config{"statement_timeout": 100 * time.Millisecond})
	var rows collect
	start := time.Now()
	err := c.Access(context.Background(), connector.AccessRequest{Collection: connector.Collection{Name: "v"},
		Fields: []connector.Path{{"id"}, {"email"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}}, &rows)
	if err == nil || fault.KindOf(err) != fault.Transient {
		t.Fatalf("statement timeout: %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("the statement ran %s despite a 100ms timeout", d)
	}
}

func TestNewReportsWhatToFix(t *testing.T) {
	tests := []struct {
		cfg  schema.Config
		want string
	}{
		{schema.Config{}, "no database named"},
		{schema.Config{"dsn": strings.Replace(pgtest.ServerDSN(), "/postgres?", "/lethe_missing_db?", 1)}, "lethe_missing_db"},
	}
	for _, tc := range tests {
		_, err := New(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || fault.KindOf(err) != fault.Permanent {
			t.Errorf("New(%v) = %v, want permanent error mentioning %q", tc.cfg, err, tc.want)
		}
	}
}
