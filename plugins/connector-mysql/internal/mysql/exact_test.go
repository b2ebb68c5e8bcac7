package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lethehq/lethe/plugins/connector-mysql/internal/mytest"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// exactTable has an email column of each collation that compares loosely:
// utf8mb4_general_ci (case and accents ignored, PAD SPACE, the issue's
// reproduction), utf8mb4_bin (PAD SPACE on MariaDB and MySQL 5.7), a
// latin1 column, and a CHAR column. Each email column is indexed.
const exactTable = "CREATE TABLE customers (id BIGINT PRIMARY KEY, " +
	"email VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, " +
	"email_bin VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, " +
	"email_latin1 VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_swedish_ci, " +
	"email_char CHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, " +
	"name VARCHAR(100), card VARCHAR(30), " +
	"KEY (email), KEY (email_bin), KEY (email_latin1), KEY (email_char));" +
	"INSERT INTO customers VALUES " +
	"(1, 'jane@example.com', 'jane@example.com', 'jané@example.com', 'jane@example.com', 'Jane', '4111111111111111')," +
	"(2, 'bob@example.com', 'bob@example.com', 'bob@example.com', 'bob@example.com', 'Bob', '5500000000000004')"

// TestExactMatchGeneralCI reproduces issue 13's finding: on MariaDB a
// utf8mb4_general_ci column holding jane@example.com was matched by
// 'JANE@EXÄMPLE.COM ' and 'jane@exämple.com', for access and erasure.
func TestExactMatchGeneralCI(t *testing.T) {
	c, dsn := openTest(t, exactTable, schema.Config{})
	ctx := context.Background()
	coll := connector.Collection{Name: "customers"}
	tests := []struct {
		col, value string
		want       []int64
	}{
		{"email", "jane@example.com", []int64{1}},
		{"email", "JANE@EXÄMPLE.COM ", nil},
		{"email", "jane@exämple.com", nil},
		{"email", "Jane@example.com", nil},
		{"email", "jane@example.com ", nil},
		{"email", "ｊａｎｅ@example.com", nil},
		{"email_bin", "jane@example.com", []int64{1}},
		{"email_bin", "jane@example.com ", nil},
		{"email_bin", "jane@example.com  ", nil},
		{"email_latin1", "jané@example.com", []int64{1}},
		{"email_latin1", "JANÉ@example.com", nil},
		{"email_latin1", "jane@example.com", nil},
		{"email_latin1", "jané@example.com ", nil},
		{"email_latin1", "?@example.com", nil},
		{"email_char", "jane@example.com", []int64{1}},
		{"email_char", "jane@example.com ", nil},
		{"email_char", "JANE@example.com", nil},
	}
	for _, tc := range tests {
		var rows collect
		err := c.Access(ctx, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"id"}, {"card"}},
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

	// Erasure by a key that differs from the row's only by collation.
	for _, v := range []string{"jane@exämple.com", "JANE@EXÄMPLE.COM ", "jane@example.com "} {
		res, err := c.Erase(ctx, connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
			{Key: connector.Row{"email": v}, Set: connector.Row{"name": "MASKED", "card": nil}},
		}})
		if err != nil || res.Rows != 0 {
			t.Errorf("erase by email = %+q: %d rows, %v; want 0", v, res.Rows, err)
		}
	}
	var name string
	if err := mytest.Open(t, dsn).QueryRow("SELECT name FROM customers WHERE id = 1").Scan(&name); err != nil || name != "Jane" {
		t.Errorf("Jane's row was erased by another spelling of her email: name %q, %v", name, err)
	}
}

// TestExactMatchUsesIndex shows with EXPLAIN that the exact comparison
// keeps the collation-aware IN list the index range is built from.
func TestExactMatchUsesIndex(t *testing.T) {
	c, dsn := openTest(t, exactTable, schema.Config{})
	db := mytest.Open(t, dsn)
	// Enough rows that a full scan is not the cheaper plan.
	var values []string
	for i := 3; i <= 3000; i++ {
		e := fmt.Sprintf("'u%d@example.com'", i)
		values = append(values, fmt.Sprintf("(%d, %s, %s, %s, %s)", i, e, e, e, e))
	}
	if _, err := db.Exec("INSERT INTO customers (id, email, email_bin, email_latin1, email_char) VALUES " +
		strings.Join(values, ", ") + "; ANALYZE TABLE customers"); err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"email", "email_bin", "email_latin1", "email_char"} {
		req := connector.AccessRequest{Collection: connector.Collection{Name: "customers"}, Fields: []connector.Path{{"id"}},
			Filters: []connector.Filter{{Field: connector.Path{col}, Values: []any{"jane@example.com", "u7@example.com"}}}}
		q, err := c.selectFor(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		key, typ := explain(t, db, q)
		t.Logf("EXPLAIN %s: type %s, key %s", q.sql, typ, key)
		if key != col || typ == "ALL" {
			t.Errorf("filter on %s: the plan uses key %q (access type %s); want the column's index", col, key, typ)
		}
		update, err := buildUpdate(mustColumns(t, c, "customers"), "customers", connector.RowUpdate{
			Key: connector.Row{col: "jane@example.com"}, Set: connector.Row{"name": "x"}})
		if err != nil {
			t.Fatal(err)
		}
		key, typ = explain(t, db, selectQuery{sql: "EXPLAIN " + update.sql, args: update.args})
		t.Logf("EXPLAIN %s: type %s, key %s", update.sql, typ, key)
		if key != col || typ == "ALL" {
			t.Errorf("update by %s: the plan uses key %q (access type %s); want the column's index", col, key, typ)
		}
	}
}

func mustColumns(t *testing.T, c *Conn, table string) map[string]column {
	t.Helper()
	cols, err := c.columns(context.Background(), table, false)
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

// explain returns the key and access type of the first row of EXPLAIN q.
func explain(t *testing.T, db *sql.DB, q selectQuery) (key, typ string) {
	t.Helper()
	query := q.sql
	if !strings.HasPrefix(query, "EXPLAIN ") {
		query = "EXPLAIN " + query
	}
	rows, err := db.Query(query, q.args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	names, _ := rows.Columns()
	vals := make([]sql.NullString, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		t.Fatalf("%s: no plan", query)
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		switch n {
		case "key":
			key = vals[i].String
		case "type":
			typ = vals[i].String
		}
	}
	return key, typ
}

// TestEraseKeyNotUnique: an update whose key matches more than one row
// rolls its batch back and fails permanently, naming what to fix and no
// value.
func TestEraseKeyNotUnique(t *testing.T) {
	c, dsn := openTest(t, "CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(50), name VARCHAR(50));"+
		"INSERT INTO t VALUES (1, 'a@x', 'A'), (2, 'shared@x', 'B'), (3, 'shared@x', 'C')", schema.Config{})
	_, err := c.Erase(context.Background(), connector.EraseRequest{Collection: connector.Collection{Name: "t"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"name": "MASKED"}},
		{Key: connector.Row{"email": "shared@x"}, Set: connector.Row{"name": "MASKED"}},
	}})
	if err == nil || fault.KindOf(err) != fault.Permanent || !strings.Contains(err.Error(), "unique") || strings.Contains(err.Error(), "shared@x") {
		t.Fatalf("erase by a key two rows share: %v; want a permanent fault naming the non-unique key, without its value", err)
	}
	var names []string
	rows, err := mytest.Open(t, dsn).Query("SELECT name FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		names = append(names, n)
	}
	if !slices.Equal(names, []string{"A", "B", "C"}) {
		t.Errorf("after the failed batch: names %v, want [A B C] (rolled back)", names)
	}
}

// TestBindErrorsQuoteNoValue: a filter value that does not convert to
// the column's type is refused without quoting it (it may be an identity).
func TestBindErrorsQuoteNoValue(t *testing.T) {
	const marker = "marker-7f3a@example.com"
	for _, col := range []string{"id", "u", "n"} {
		_, err := buildSelect(testCols, "t", connector.AccessRequest{Fields: []connector.Path{{"id"}},
			Filters: []connector.Filter{{Field: connector.Path{col}, Values: []any{marker}}}})
		if err == nil || strings.Contains(err.Error(), marker) || fault.KindOf(err) != fault.Permanent {
			t.Errorf("filter %s = marker: %v; want a permanent error without the value", col, err)
		}
		_, err = buildUpdate(testCols, "t", connector.RowUpdate{Key: connector.Row{col: marker}, Set: connector.Row{"email": nil}})
		if err == nil || strings.Contains(err.Error(), marker) {
			t.Errorf("key %s = marker: %v; want an error without the value", col, err)
		}
	}
	if _, err := bind(marker, column{kind: kBool, decl: "tinyint(1)"}); err == nil || strings.Contains(err.Error(), marker) {
		t.Errorf("bool column: %v; want an error without the value", err)
	}
}
