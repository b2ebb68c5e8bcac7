package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/lethehq/lethe/plugins/connector-postgres/internal/pgtest"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// exactDDL has an email column of each kind that compares loosely: a
// nondeterministic ICU collation at level 1 (case, accents, width and
// normal form ignored), citext (case ignored), and char(n) (trailing
// spaces ignored), each indexed; and a uuid column, a non-string value
// that must keep matching by value.
const exactDDL = `CREATE EXTENSION IF NOT EXISTS citext;
	CREATE COLLATION loose (provider = icu, locale = 'und-u-ks-level1', deterministic = false);
	CREATE TABLE customers (id BIGINT PRIMARY KEY, email_icu TEXT COLLATE loose, email_citext CITEXT,
		email_char CHAR(40), u UUID, name TEXT);
	CREATE INDEX ON customers (email_icu); CREATE INDEX ON customers (email_citext); CREATE INDEX ON customers (email_char);
	INSERT INTO customers VALUES
		(1, 'jane@example.com', 'jane@example.com', 'jane@example.com', '6f1c3a5e-0d1b-4c7e-9f00-a1b2c3d4e5f6', 'Jane'),
		(2, 'jos` + "\u00e9" + `@example.com', 'bob@example.com', 'bob@example.com', NULL, 'Bob')`

// TestExactMatchLooseColumns reproduces issue 13's finding on
// PostgreSQL: nondeterministic collations, citext and char(n) matched
// other spellings of an identity, for access and erasure.
func TestExactMatchLooseColumns(t *testing.T) {
	c, _ := open(t, exactDDL, schema.Config{})
	ctx := context.Background()
	coll := connector.Collection{Name: "customers"}
	tests := []struct {
		col   string
		value any
		want  []int64
	}{
		{"email_icu", "jane@example.com", []int64{1}},
		{"email_icu", "JANE@EXÄMPLE.COM", nil},
		{"email_icu", "jane@exämple.com", nil},
		{"email_icu", "ｊａｎｅ@example.com", nil},
		{"email_icu", "jose\u0301@example.com", nil}, // NFD of row 2
		{"email_icu", "jos\u00e9@example.com", []int64{2}},
		{"email_citext", "jane@example.com", []int64{1}},
		{"email_citext", "JANE@example.com", nil},
		{"email_citext", "Jane@Example.com", nil},
		{"email_char", "jane@example.com", []int64{1}},
		{"email_char", "jane@example.com ", nil},
		{"email_char", "JANE@example.com", nil},
		// A uuid is a value, not text: its spellings are the same uuid.
		{"u", "6f1c3a5e-0d1b-4c7e-9f00-a1b2c3d4e5f6", []int64{1}},
		{"u", "6F1C3A5E-0D1B-4C7E-9F00-A1B2C3D4E5F6", []int64{1}},
		{"id", int64(2), []int64{2}},
		{"id", "2", []int64{2}},
	}
	for _, tc := range tests {
		var rows collect
		err := c.Access(ctx, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"id"}},
			Filters: []connector.Filter{{Field: connector.Path{tc.col}, Values: []any{tc.value}}}}, &rows)
		if err != nil {
			t.Fatalf("access %s = %+q: %v", tc.col, tc.value, err)
		}
		var got []int64
		for _, r := range rows {
			got = append(got, r["id"].(int64))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("access %s = %+q: ids %v, want %v", tc.col, tc.value, got, tc.want)
		}
	}
	for _, k := range []connector.Row{{"email_icu": "JANE@EXÄMPLE.COM"}, {"email_citext": "JANE@example.com"},
		{"email_char": "jane@example.com "}, {"id": int64(1), "email_icu": "Jane@example.com"}} {
		res, err := c.Erase(ctx, connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
			{Key: k, Set: connector.Row{"name": "MASKED"}}}})
		if err != nil || res.Rows != 0 {
			t.Errorf("erase by %v: %d rows, %v; want 0", k, res.Rows, err)
		}
	}
	var rows collect
	if err := c.Access(ctx, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"name"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}}, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0]["name"] != "Jane" {
		t.Errorf("Jane's row was erased by another spelling of her email: %v", rows)
	}
	res, err := c.Erase(ctx, connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
		{Key: connector.Row{"u": "6F1C3A5E-0D1B-4C7E-9F00-A1B2C3D4E5F6"}, Set: connector.Row{"name": "by uuid"}}}})
	if err != nil || res.Rows != 1 {
		t.Errorf("erase by an upper-case uuid: %d rows, %v; want 1 (a uuid is a value)", res.Rows, err)
	}
}

// TestExactMatchUsesIndex shows with EXPLAIN that each loose column's
// index still serves the exact comparison.
func TestExactMatchUsesIndex(t *testing.T) {
	c, dsn := open(t, exactDDL+`;
		INSERT INTO customers (id, email_icu, email_citext, email_char)
			SELECT i, 'u' || i || '@example.com', 'u' || i || '@example.com', 'u' || i || '@example.com' FROM generate_series(3, 5000) i;
		ANALYZE customers`, schema.Config{})
	ctx := context.Background()
	conn := pgtest.Connect(t, dsn)
	cols, err := c.columns(ctx, "customers", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"email_icu", "email_citext", "email_char"} {
		q, err := buildSelect(cols, `"public"."customers"`, "customers", connector.AccessRequest{Fields: []connector.Path{{"id"}},
			Filters: []connector.Filter{{Field: connector.Path{col}, Values: []any{"jane@example.com", "u7@example.com"}}}})
		if err != nil {
			t.Fatal(err)
		}
		u, err := buildUpdate(cols, `"public"."customers"`, "customers", connector.RowUpdate{Key: connector.Row{col: "jane@example.com"}, Set: connector.Row{"name": "x"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct {
			sql  string
			args []any
		}{{q.sql, q.args}, {u.sql, u.args}} {
			rows, err := conn.Query(ctx, "EXPLAIN "+s.sql, s.args...)
			if err != nil {
				t.Fatalf("EXPLAIN %s: %v", s.sql, err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			rows.Close()
			t.Logf("EXPLAIN %s:\n%s", s.sql, strings.Join(plan, "\n"))
			if p := strings.Join(plan, "\n"); !strings.Contains(p, "customers_"+col+"_idx") || strings.Contains(p, "Seq Scan") {
				t.Errorf("%s: the plan does not use the index of %s", s.sql, col)
			}
		}
	}
}

// TestEraseKeyNotUnique: an update whose key matches more than one row
// rolls its batch back and fails permanently, naming what to fix and no
// value.
func TestEraseKeyNotUnique(t *testing.T) {
	c, _ := open(t, `CREATE TABLE t (id INT PRIMARY KEY, email TEXT, name TEXT);
		INSERT INTO t VALUES (1, 'a@x', 'A'), (2, 'shared@x', 'B'), (3, 'shared@x', 'C')`, schema.Config{})
	ctx := context.Background()
	coll := connector.Collection{Name: "t"}
	_, err := c.Erase(ctx, connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"name": "MASKED"}},
		{Key: connector.Row{"email": "shared@x"}, Set: connector.Row{"name": "MASKED"}},
	}})
	if err == nil || fault.KindOf(err) != fault.Permanent || !strings.Contains(err.Error(), "unique") || strings.Contains(err.Error(), "shared@x") {
		t.Fatalf("erase by a key two rows share: %v; want a permanent fault naming the non-unique key, without its value", err)
	}
	var rows collect
	if err := c.Access(ctx, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"name"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1), int64(2), int64(3)}}}}, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r["name"] == "MASKED" {
			t.Errorf("a row was changed although its batch failed: %v", rows)
		}
	}
}

// TestBindErrorsQuoteNoValue: a filter value that does not convert to
// the column's type is refused without quoting it (it may be an identity).
func TestBindErrorsQuoteNoValue(t *testing.T) {
	const marker = "marker-7f3a@example.com"
	for _, c := range []column{{kind: kInt, udt: "int8"}, {kind: kFloat, udt: "float8"}, {kind: kBool, udt: "bool"}, {kind: kDecimal, udt: "numeric"}} {
		_, err := bind(marker, c)
		if err == nil || strings.Contains(err.Error(), marker) {
			t.Errorf("%s column: %v; want an error without the value", c.udt, err)
		}
	}
	_, err := buildSelect(testCols, `"s"."t"`, "t", connector.AccessRequest{Fields: []connector.Path{{"id"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{marker}}}})
	if err == nil || strings.Contains(err.Error(), marker) || fault.KindOf(err) != fault.Permanent {
		t.Errorf("filter id = marker: %v; want a permanent error without the value", err)
	}
}
