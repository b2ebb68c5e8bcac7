package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/lethehq/lethe/plugins/connector-postgres/internal/pgtest"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
)

// TestBatchedErase: updates of one shape share an UPDATE ... FROM (VALUES
// ...) and still report exact counts; NULLs, nested JSON members (one
// UPDATE each) and other shapes mix in one Erase; two updates of the same
// row keep their order; a key that matches two rows inside a batched
// statement rolls the whole Erase back.
func TestBatchedErase(t *testing.T) {
	ddl := `CREATE TABLE p (id INT PRIMARY KEY, email TEXT, name TEXT, doc JSONB, tag CITEXT);
		CREATE TABLE dup (email TEXT, name TEXT);
		INSERT INTO p SELECT g, 'p' || g || '@x', 'n' || g, '{"a": {"b": 1}, "c": 2}', 'T' || g FROM generate_series(1, 6) g;
		INSERT INTO dup VALUES ('a@x', 'one'), ('a@x', 'two'), ('b@x', 'three')`
	c, dsn := open(t, "CREATE EXTENSION IF NOT EXISTS citext; "+ddl, schema.Config{})
	ctx := context.Background()
	conn := pgtest.Connect(t, dsn)
	dump := func(table string) string {
		rows, err := conn.Query(ctx, "SELECT row_to_json(x)::text FROM "+table+" x ORDER BY 1")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return strings.Join(out, "\n")
	}
	key := func(id int64) connector.Row { return connector.Row{"id": id} }
	res, err := c.Erase(ctx, connector.EraseRequest{Collection: connector.Collection{Name: "p"}, Updates: []connector.RowUpdate{
		{Key: key(1), Set: connector.Row{"email": "m1", "name": nil}},
		{Key: key(2), Set: connector.Row{"email": "m2", "name": nil}},
		{Key: key(3), Set: connector.Row{"email": "m3", "name": nil}},
		{Key: key(4), Set: connector.Row{"doc.a.b": nil}},                // a nested member: its own UPDATE
		{Key: key(5), Set: connector.Row{"tag": "X"}},                    // another shape
		{Key: key(99), Set: connector.Row{"email": "none", "name": nil}}, // no such row
	}})
	if err != nil || res.Rows != 5 {
		t.Fatalf("erase: %+v %v, want 5 rows", res, err)
	}
	// The same row twice in one Erase: the later update wins, as alone.
	res, err = c.Erase(ctx, connector.EraseRequest{Collection: connector.Collection{Name: "p"}, Updates: []connector.RowUpdate{
		{Key: key(3), Set: connector.Row{"email": "m3a", "name": nil}},
		{Key: key(6), Set: connector.Row{"email": "m6", "name": "n6"}},
		{Key: key(3), Set: connector.Row{"email": "m3b", "name": "kept"}},
	}})
	if err != nil || res.Rows != 3 {
		t.Fatalf("erase: %+v %v, want 3 rows", res, err)
	}
	got := dump("p")
	for _, want := range []string{
		`{"id":1,"email":"m1","name":null,`,
		`{"id":2,"email":"m2","name":null,`,
		`{"id":3,"email":"m3b","name":"kept",`,
		`{"id":4,"email":"p4@x","name":"n4","doc":{"a": {"b": null}, "c": 2},`,
		`"tag":"X"}`,
		`{"id":6,"email":"m6","name":"n6",`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %s:\n%s", want, got)
		}
	}

	before := dump("dup")
	_, err = c.Erase(ctx, connector.EraseRequest{Collection: connector.Collection{Name: "dup"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"email": "b@x"}, Set: connector.Row{"name": "masked"}},
		{Key: connector.Row{"email": "a@x"}, Set: connector.Row{"name": "masked"}},
	}})
	if err == nil || !strings.Contains(err.Error(), "not unique") || strings.Contains(err.Error(), "a@x") {
		t.Fatalf("a key matching two rows in a batched statement: %v", err)
	}
	if after := dump("dup"); after != before {
		t.Fatalf("the failed Erase changed rows:\n%s\nwas\n%s", after, before)
	}
}
