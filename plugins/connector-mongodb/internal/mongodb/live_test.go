package mongodb

// Tests against the MongoDB-wire server of LETHE_TEST_MONGO_URI (see
// package mongotest): without it they skip, and with CI=true they fail.

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/lethehq/lethe/plugins/connector-mongodb/internal/mongotest"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

// open configures a Conn on a fresh database.
func open(t *testing.T, extra schema.Config) (*Conn, *mongo.Database) {
	t.Helper()
	db := mongotest.NewDatabase(t, "lethe_mongo_unit")
	cfg := schema.Config{"uri": mongotest.ServerURI(), "database": db.Name(), "connect_timeout": 5 * time.Second}
	for k, v := range extra {
		cfg[k] = v
	}
	inst, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inst.Close(context.Background()) })
	return inst.(*Conn), db
}

type collect []connector.Row

func (c *collect) Write(r connector.Row) error { *c = append(*c, r); return nil }

func access(t *testing.T, c *Conn, coll string, fields []connector.Path, filters ...connector.Filter) []connector.Row {
	t.Helper()
	var rows collect
	err := c.Access(context.Background(), connector.AccessRequest{
		Collection: connector.Collection{Dataset: "crm", Name: coll}, Fields: fields, Filters: filters}, &rows)
	if err != nil {
		t.Fatalf("access: %v", err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i]["email"].(string) < rows[j]["email"].(string) })
	return rows
}

func oidOf(t *testing.T, s string) bson.ObjectID {
	t.Helper()
	id, err := bson.ObjectIDFromHex(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

const (
	janeID  = "65a000000000000000000001"
	bobID   = "65a000000000000000000002"
	carolID = "65a000000000000000000003" // stored as a string _id
)

var born = time.Date(1988, 5, 17, 8, 30, 0, 250000000, time.UTC)

// seed inserts three customers: arrays of scalars (emails), arrays of
// documents with nested documents (orders), a nested document (profile),
// int32, double and date values, and one string _id.
func seed(t *testing.T, db *mongo.Database) *mongo.Collection {
	t.Helper()
	coll := db.Collection("customers")
	docs := []any{
		bson.D{
			{Key: "_id", Value: oidOf(t, janeID)}, {Key: "email", Value: "jane@example.com"},
			{Key: "emails", Value: bson.A{"jane@old.example", "jane@example.com", "j@example.net"}},
			{Key: "orders", Value: bson.A{
				bson.D{{Key: "sku", Value: "A1"}, {Key: "qty", Value: int32(2)}, {Key: "address", Value: bson.D{{Key: "city", Value: "Springfield"}, {Key: "zip", Value: "62701"}}}},
				bson.D{{Key: "sku", Value: "B2"}, {Key: "qty", Value: int32(1)}, {Key: "address", Value: bson.D{{Key: "city", Value: "Portland"}}}},
			}},
			{Key: "profile", Value: bson.D{{Key: "name", Value: "Jane"}, {Key: "born", Value: bson.NewDateTimeFromTime(born)}}},
			{Key: "score", Value: 1.5}, {Key: "visits", Value: int32(7)}, {Key: "big", Value: int64(1) << 40},
			{Key: "photo", Value: bson.Binary{Data: []byte{0xff, 0}}},
		},
		bson.D{
			{Key: "_id", Value: oidOf(t, bobID)}, {Key: "email", Value: "bob@example.com"},
			{Key: "emails", Value: bson.A{"bob@example.com"}},
			{Key: "orders", Value: bson.A{bson.D{{Key: "sku", Value: "A1"}, {Key: "address", Value: bson.D{{Key: "city", Value: "Austin"}}}}}},
		},
		bson.D{{Key: "_id", Value: carolID}, {Key: "email", Value: "carol@example.com"}, {Key: "emails", Value: bson.A{}}},
	}
	if _, err := coll.InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	return coll
}

func paths(ps ...string) []connector.Path {
	out := make([]connector.Path, len(ps))
	for i, p := range ps {
		out[i] = strings.Split(p, ".")
	}
	return out
}

func filter(path string, vals ...any) connector.Filter {
	return connector.Filter{Field: strings.Split(path, "."), Values: vals}
}

func emails(rows []connector.Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r["email"].(string))
	}
	return out
}

func TestAccessNestedAndArrays(t *testing.T) {
	c, db := open(t, nil)
	seed(t, db)
	tests := []struct {
		name   string
		filter connector.Filter
		want   []string
	}{
		{"an element of an array of scalars matches", filter("emails", "jane@example.com"), []string{"jane@example.com"}},
		{"an element of an array of documents matches, at depth", filter("orders.address.city", "Portland"), []string{"jane@example.com"}},
		{"several documents share an element value", filter("orders.sku", "A1", "Z9"), []string{"bob@example.com", "jane@example.com"}},
		{"nested document", filter("profile.name", "Jane"), []string{"jane@example.com"}},
		{"int32 stored, int64 asked", filter("visits", int64(7)), []string{"jane@example.com"}},
		{"a hex string matches an ObjectId _id", filter("_id", janeID), []string{"jane@example.com"}},
		{"an ObjectID matches a string _id", filter("_id", value.ObjectID(oidOf(t, carolID)), value.ObjectID(oidOf(t, bobID))), []string{"bob@example.com", "carol@example.com"}},
		{"nothing", filter("orders.address.city", "Nowhere"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := access(t, c, "customers", paths("email"), tc.filter)
			if got := emails(rows); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("values come back as sdk/value types; only requested fields", func(t *testing.T) {
		rows := access(t, c, "customers", paths("_id", "email", "emails", "orders", "profile", "score", "visits", "big", "photo", "missing"),
			filter("email", "jane@example.com"))
		want := connector.Row{
			"_id": value.ObjectID(oidOf(t, janeID)), "email": "jane@example.com",
			"emails": []any{"jane@old.example", "jane@example.com", "j@example.net"},
			"orders": []any{
				map[string]any{"sku": "A1", "qty": int64(2), "address": map[string]any{"city": "Springfield", "zip": "62701"}},
				map[string]any{"sku": "B2", "qty": int64(1), "address": map[string]any{"city": "Portland"}},
			},
			"profile": map[string]any{"name": "Jane", "born": born},
			"score":   1.5, "visits": int64(7), "big": int64(1) << 40, "photo": []byte{0xff, 0},
		}
		if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
			t.Fatalf("rows %#v\nwant %#v", rows, want)
		}
	})

	t.Run("a nested projection keeps only the requested paths", func(t *testing.T) {
		rows := access(t, c, "customers", paths("email", "orders.address.city", "profile.name"), filter("orders.address.city", "Portland"))
		want := connector.Row{
			"email":   "jane@example.com",
			"orders":  []any{map[string]any{"address": map[string]any{"city": "Springfield"}}, map[string]any{"address": map[string]any{"city": "Portland"}}},
			"profile": map[string]any{"name": "Jane"},
		}
		if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
			t.Fatalf("rows %#v\nwant %#v", rows, want)
		}
	})
}

// raw reads the document with _id id, as relaxed Extended JSON per
// top-level field.
func raw(t *testing.T, coll *mongo.Collection, id any) map[string]string {
	t.Helper()
	var d bson.D
	if err := coll.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		t.Fatalf("read %v: %v", id, err)
	}
	out := map[string]string{}
	for _, e := range d {
		out[e.Key] = extJSON(t, e.Value)
	}
	return out
}

func TestEraseArrayElementsAndNestedPaths(t *testing.T) {
	for _, mode := range []string{txnAuto, txnNever} {
		t.Run("transactions="+mode, func(t *testing.T) {
			c, db := open(t, schema.Config{"transactions": mode})
			coll := seed(t, db)
			bobBefore := raw(t, coll, oidOf(t, bobID))
			req := connector.EraseRequest{Collection: connector.Collection{Dataset: "crm", Name: "customers"}, Updates: []connector.RowUpdate{
				{Key: connector.Row{"_id": value.ObjectID(oidOf(t, janeID))}, Set: connector.Row{"emails.1": "MASKED", "orders.0.address.city": nil, "profile.name": "J."}},
				{Key: connector.Row{"_id": carolID}, Set: connector.Row{"email": "MASKED"}}, // a hex string key matches the string _id
				{Key: connector.Row{"_id": value.ObjectID(bson.NewObjectID())}, Set: connector.Row{"email": "MASKED"}},
			}}
			ctx := context.Background()
			res, err := c.Erase(ctx, req)
			if err != nil || res.Rows != 2 {
				t.Fatalf("erase: %d documents modified, %v; want 2", res.Rows, err)
			}
			check := func() {
				t.Helper()
				jane := raw(t, coll, oidOf(t, janeID))
				want := map[string]string{
					"emails":  `["jane@old.example","MASKED","j@example.net"]`,
					"orders":  `[{"sku":"A1","qty":2,"address":{"city":null,"zip":"62701"}},{"sku":"B2","qty":1,"address":{"city":"Portland"}}]`,
					"profile": `{"name":"J.","born":{"$date":"1988-05-17T08:30:00.25Z"}}`,
					"email":   `"jane@example.com"`,
				}
				for k, w := range want {
					if jane[k] != w {
						t.Errorf("jane's %s: %s, want %s", k, jane[k], w)
					}
				}
				if got := raw(t, coll, carolID)["email"]; got != `"MASKED"` {
					t.Errorf("carol's email %v", got)
				}
				if got := raw(t, coll, oidOf(t, bobID)); !reflect.DeepEqual(got, bobBefore) {
					t.Errorf("bob changed: %v, was %v", got, bobBefore)
				}
			}
			check()
			// Idempotent: nothing left to change.
			res, err = c.Erase(ctx, req)
			if err != nil || res.Rows != 0 {
				t.Fatalf("second erase: %d documents modified, %v; want 0", res.Rows, err)
			}
			check()
		})
	}
}

// TestEraseStopsAtAFailingUpdate: without transactions the batch is
// ordered; a failing update stops it with a permanent fault, and the
// updates before it stay applied (a retry is safe: they are idempotent).
func TestEraseStopsAtAFailingUpdate(t *testing.T) {
	c, db := open(t, schema.Config{"transactions": txnNever})
	coll := seed(t, db)
	_, err := c.Erase(context.Background(), connector.EraseRequest{Collection: connector.Collection{Name: "customers"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"_id": value.ObjectID(oidOf(t, janeID))}, Set: connector.Row{"email": "MASKED"}},
		{Key: connector.Row{"_id": value.ObjectID(oidOf(t, bobID))}, Set: connector.Row{"email.inner": "MASKED"}}, // email is a string
		{Key: connector.Row{"_id": carolID}, Set: connector.Row{"email": "MASKED"}},
	}})
	if err == nil || fault.KindOf(err) != fault.Permanent {
		t.Fatalf("an update through a string must fail permanently: %v", err)
	}
	if got := raw(t, coll, oidOf(t, janeID))["email"]; got != `"MASKED"` {
		t.Errorf("the update before the failing one: email %v", got)
	}
	if got := raw(t, coll, carolID)["email"]; got != `"carol@example.com"` {
		t.Errorf("the update after the failing one ran: email %v", got)
	}
}

// TestTransactions: auto uses transactions exactly when hello says the
// server has them; always on a server without them fails every erasure
// with a permanent fault and changes nothing.
func TestTransactions(t *testing.T) {
	c, db := open(t, nil)
	var h hello
	if err := db.Client().Database("admin").RunCommand(context.Background(), bson.D{{Key: "hello", Value: 1}}).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if c.txn != txnCapable(h) {
		t.Fatalf("auto chose transactions = %v for hello %+v", c.txn, h)
	}
	t.Logf("the test server supports transactions: %v", c.txn)
	if c.txn {
		return
	}
	c, db = open(t, schema.Config{"transactions": txnAlways})
	coll := seed(t, db)
	_, err := c.Erase(context.Background(), connector.EraseRequest{Collection: connector.Collection{Name: "customers"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"_id": value.ObjectID(oidOf(t, janeID))}, Set: connector.Row{"email": "MASKED"}},
	}})
	if err == nil || fault.KindOf(err) != fault.Permanent {
		t.Fatalf("transactions = always on a server without them: %v, want a permanent fault", err)
	}
	t.Logf("as expected: %v", err)
	if got := raw(t, coll, oidOf(t, janeID))["email"]; got != `"jane@example.com"` {
		t.Errorf("the refused transaction changed the email to %v", got)
	}
}

func TestNewReportsWhatToFix(t *testing.T) {
	_, err := New(context.Background(), schema.Config{"host": "127.0.0.1", "port": int64(1), "connect_timeout": 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no server answered at 127.0.0.1:1") || fault.KindOf(err) != fault.Transient {
		t.Errorf("unreachable server: %v, want a transient fault naming 127.0.0.1:1", err)
	}
	_, err = New(context.Background(), schema.Config{"uri": "mongodb://127.0.0.1/", "host": "127.0.0.1"})
	if err == nil || !strings.Contains(err.Error(), "both uri and host") || fault.KindOf(err) != fault.Permanent {
		t.Errorf("uri and host: %v, want a permanent fault", err)
	}
}
