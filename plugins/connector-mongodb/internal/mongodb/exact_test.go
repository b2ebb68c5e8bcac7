package mongodb

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// serverHasCollations tells whether the test server takes collations, by
// creating a collection with a case- and accent-insensitive default
// collation, as an operator might.
func serverHasCollations(t *testing.T, db *mongo.Database, name string) bool {
	t.Helper()
	err := db.CreateCollection(context.Background(), name,
		options.CreateCollection().SetCollation(&options.Collation{Locale: "en", Strength: 1}))
	if err != nil {
		t.Logf("the server refuses collations: %v", err)
		return false
	}
	return true
}

// TestCollationProbe: New asks the server whether it takes the collation
// option, and queries carry the simple collation exactly when it does.
// FerretDB 1.x refuses collations in queries, collections and indexes, so
// its comparisons are binary; MongoDB takes them.
func TestCollationProbe(t *testing.T) {
	c, db := open(t, nil)
	has := serverHasCollations(t, db, "loose")
	if c.collation != has {
		t.Fatalf("New decided collation = %v; the server takes collations: %v", c.collation, has)
	}
	seed(t, db)
	if has {
		return
	}
	// Forced on, against a server without collations: the refusal shows
	// that find and update send the option.
	c.collation = true
	var rows collect
	err := c.Access(context.Background(), connector.AccessRequest{Collection: connector.Collection{Name: "customers"},
		Fields: paths("email"), Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: []any{"jane@example.com"}}}}, &rows)
	if err == nil || !strings.Contains(err.Error(), "collation") {
		t.Errorf("find with the collation forced on FerretDB: %v; want its refusal of the collation option", err)
	}
	_, err = c.Erase(context.Background(), connector.EraseRequest{Collection: connector.Collection{Name: "customers"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"email": "jane@example.com"}, Set: connector.Row{"email": "MASKED"}}}})
	if err == nil || !strings.Contains(err.Error(), "collation") {
		t.Errorf("erase with the collation forced on FerretDB: %v; want its refusal of the collation option", err)
	}
}

// TestExactMatchCollectionCollation reproduces issue 13's finding on a
// collection whose default collation ignores case and accents: its
// documents must match only the exact bytes of an identity. On a server
// without collations (FerretDB) it checks the same on a plain collection.
func TestExactMatchCollectionCollation(t *testing.T) {
	c, db := open(t, nil)
	name := "loose"
	if !serverHasCollations(t, db, name) {
		t.Log("the collection has no collation; the checks run on a plain one")
	}
	coll := db.Collection(name)
	ctx := context.Background()
	if _, err := coll.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: int64(1)}, {Key: "email", Value: "jane@example.com"}, {Key: "name", Value: "Jane"}},
		bson.D{{Key: "_id", Value: int64(2)}, {Key: "email", Value: "jos\u00e9@example.com"}, {Key: "name", Value: "José"}},
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		value string
		want  []int64
	}{
		{"jane@example.com", []int64{1}},
		{"JANE@EXÄMPLE.COM", nil},
		{"jane@exämple.com", nil},
		{"Jane@example.com", nil},
		{"jane@example.com ", nil},
		{"ｊａｎｅ@example.com", nil},
		{"jose\u0301@example.com", nil},
		{"jos\u00e9@example.com", []int64{2}},
	}
	for _, tc := range tests {
		var rows collect
		if err := c.Access(ctx, connector.AccessRequest{Collection: connector.Collection{Name: name}, Fields: paths("_id"),
			Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: []any{tc.value}}}}, &rows); err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range rows {
			got = append(got, r["_id"].(int64))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("email = %+q: ids %v, want %v", tc.value, got, tc.want)
		}
	}
	res, err := c.Erase(ctx, connector.EraseRequest{Collection: connector.Collection{Name: name}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"email": "JANE@EXÄMPLE.COM"}, Set: connector.Row{"name": "MASKED"}},
		{Key: connector.Row{"_id": int64(2), "email": "jose@example.com"}, Set: connector.Row{"name": "MASKED"}},
	}})
	if err != nil || res.Rows != 0 {
		t.Errorf("erase by other spellings: %d documents, %v; want 0", res.Rows, err)
	}
	if got := raw(t, coll, int64(1))["name"]; got != `"Jane"` {
		t.Errorf("Jane's document was erased by another spelling of her email: name %s", got)
	}
}

// TestEraseKeyNotUnique: a batch with a key that matches more than one
// document fails permanently, naming what to fix and no value, and
// writes nothing.
func TestEraseKeyNotUnique(t *testing.T) {
	for _, txn := range []string{txnAuto, txnNever} {
		t.Run(txn, func(t *testing.T) {
			c, db := open(t, schema.Config{"transactions": txn})
			coll := db.Collection("t")
			ctx := context.Background()
			if _, err := coll.InsertMany(ctx, []any{
				bson.D{{Key: "_id", Value: int64(1)}, {Key: "email", Value: "a@x"}, {Key: "name", Value: "A"}},
				bson.D{{Key: "_id", Value: int64(2)}, {Key: "email", Value: "shared@x"}, {Key: "name", Value: "B"}},
				bson.D{{Key: "_id", Value: int64(3)}, {Key: "email", Value: "shared@x"}, {Key: "name", Value: "C"}},
			}); err != nil {
				t.Fatal(err)
			}
			_, err := c.Erase(ctx, connector.EraseRequest{Collection: connector.Collection{Name: "t"}, Updates: []connector.RowUpdate{
				{Key: connector.Row{"_id": int64(1)}, Set: connector.Row{"name": "MASKED"}},
				{Key: connector.Row{"email": "shared@x"}, Set: connector.Row{"name": "MASKED"}},
			}})
			if err == nil || fault.KindOf(err) != fault.Permanent || !strings.Contains(err.Error(), "unique") || strings.Contains(err.Error(), "shared@x") {
				t.Fatalf("erase by a key two documents share: %v; want a permanent fault naming the non-unique key, without its value", err)
			}
			for id, want := range map[int64]string{1: `"A"`, 2: `"B"`, 3: `"C"`} {
				if got := raw(t, coll, id)["name"]; got != want {
					t.Errorf("document %d: name %s, want %s (nothing written)", id, got, want)
				}
			}
		})
	}
}
