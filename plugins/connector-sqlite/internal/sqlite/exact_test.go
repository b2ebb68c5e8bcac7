package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
)

// TestExactMatchNocase reproduces issue 13's finding on SQLite: a column
// declared COLLATE NOCASE (or RTRIM) matched other spellings of an
// identity, for access and erasure.
func TestExactMatchNocase(t *testing.T) {
	path := newDB(t, "exact.db",
		`CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE, email_rtrim TEXT COLLATE RTRIM, name TEXT)`,
		`CREATE INDEX customers_email ON customers (email)`,
		`CREATE INDEX customers_email_rtrim ON customers (email_rtrim)`,
		`INSERT INTO customers VALUES (1, 'jane@example.com', 'jane@example.com', 'Jane'), (2, 'bob@example.com', 'bob@example.com', 'Bob')`)
	c := open(t, path, nil)
	coll := connector.Collection{Name: "customers"}
	tests := []struct {
		col, value string
		want       []int64
	}{
		{"email", "jane@example.com", []int64{1}},
		{"email", "JANE@EXAMPLE.COM", nil},
		{"email", "Jane@example.com", nil},
		{"email_rtrim", "jane@example.com", []int64{1}},
		{"email_rtrim", "jane@example.com ", nil},
		{"email_rtrim", "jane@example.com   ", nil},
	}
	for _, tc := range tests {
		rows := access(t, c, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"id"}},
			Filters: []connector.Filter{{Field: connector.Path{tc.col}, Values: []any{tc.value}}}})
		var got []int64
		for _, r := range rows {
			got = append(got, r["id"].(int64))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("access %s = %+q: ids %v, want %v", tc.col, tc.value, got, tc.want)
		}
	}
	for _, k := range []connector.Row{{"email": "JANE@EXAMPLE.COM"}, {"email_rtrim": "jane@example.com "}, {"id": int64(1), "email": "Jane@Example.com"}} {
		res, err := c.Erase(context.Background(), connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
			{Key: k, Set: connector.Row{"name": "MASKED"}}}})
		if err != nil || res.Rows != 0 {
			t.Errorf("erase by %v: %d rows, %v; want 0", k, res.Rows, err)
		}
	}
	rows := access(t, c, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"name"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}})
	if len(rows) != 1 || rows[0]["name"] != "Jane" {
		t.Errorf("Jane's row was erased by another spelling of her email: %v", rows)
	}
}

// TestExactMatchUsesIndex shows with EXPLAIN QUERY PLAN that the NOCASE
// index still serves the exact comparison.
func TestExactMatchUsesIndex(t *testing.T) {
	path := newDB(t, "plan.db",
		`CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE, name TEXT)`,
		`CREATE INDEX customers_email ON customers (email)`)
	c := open(t, path, nil)
	cols, err := c.columns(context.Background(), "customers", false)
	if err != nil {
		t.Fatal(err)
	}
	q, err := buildSelect(cols, connector.AccessRequest{Collection: connector.Collection{Name: "customers"}, Fields: []connector.Path{{"id"}},
		Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: []any{"a@x", "b@x"}}}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := buildUpdate(cols, "customers", connector.RowUpdate{Key: connector.Row{"email": "a@x"}, Set: connector.Row{"name": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, time.Second, false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []struct {
		sql  string
		args []any
	}{{q.sql, q.args}, {u.sql, u.args}} {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+s.sql, s.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		t.Logf("EXPLAIN QUERY PLAN %s: %v", s.sql, plan)
		if !strings.Contains(strings.Join(plan, "; "), "INDEX customers_email ") {
			t.Errorf("%s: plan %v does not use the email index", s.sql, plan)
		}
	}
}

// TestEraseKeyNotUnique: an update whose key matches more than one row
// rolls its batch back and fails permanently, naming what to fix and no
// value.
func TestEraseKeyNotUnique(t *testing.T) {
	path := newDB(t, "dup.db", `CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`,
		`INSERT INTO t VALUES (1, 'a@x', 'A'), (2, 'shared@x', 'B'), (3, 'shared@x', 'C')`)
	c := open(t, path, nil)
	coll := connector.Collection{Name: "t"}
	_, err := c.Erase(context.Background(), connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"name": "MASKED"}},
		{Key: connector.Row{"email": "shared@x"}, Set: connector.Row{"name": "MASKED"}},
	}})
	if err == nil || fault.KindOf(err) != fault.Permanent || !strings.Contains(err.Error(), "unique") || strings.Contains(err.Error(), "shared@x") {
		t.Fatalf("erase by a key two rows share: %v; want a permanent fault naming the non-unique key, without its value", err)
	}
	rows := access(t, c, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"name"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1), int64(2), int64(3)}}}})
	for _, r := range rows {
		if r["name"] == "MASKED" {
			t.Errorf("a row was changed although its batch failed: %v", rows)
		}
	}
}
