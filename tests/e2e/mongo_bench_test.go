package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// growMongo gives jane@example.com n more documents in each collection of
// the MongoDB example (configs/mongodb), on top of its sample data:
// feedback (all pointing at her profile p-1001), conversations of three
// messages of which one is hers, customer_details of her customer
// document, shared loyalty accounts, and profiles listing her among
// other e-mails.
func growMongo(t testing.TB, db *mongo.Database, n int) {
	t.Helper()
	ctx := context.Background()
	jane, err := bson.ObjectIDFromHex("65a000000000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	insert := func(coll string, doc func(i int) bson.D) {
		batch := make([]any, 0, 1000)
		for i := range n {
			batch = append(batch, doc(i))
			if len(batch) == cap(batch) || i == n-1 {
				if _, err := db.Collection(coll).InsertMany(ctx, batch); err != nil {
					t.Fatalf("grow %s: %v", coll, err)
				}
				batch = batch[:0]
			}
		}
	}
	insert("feedback", func(i int) bson.D {
		return bson.D{
			{Key: "customer_information", Value: bson.D{{Key: "email", Value: "jane@example.com"}, {Key: "phone", Value: "+1-555-0100"}, {Key: "internal_customer_id", Value: "p-1001"}}},
			{Key: "rating", Value: int32(1 + i%5)},
			{Key: "message", Value: fmt.Sprintf("Order %d arrived in good shape; the teapot is lovely.", i)},
		}
	})
	insert("conversations", func(i int) bson.D {
		return bson.D{
			{Key: "subject", Value: fmt.Sprintf("Order %d", i)},
			{Key: "thread", Value: bson.A{
				bson.D{{Key: "sender_email", Value: "carol@example.com"}, {Key: "chat_name", Value: "Carol (support)"}, {Key: "message", Value: "How can I help?"}},
				bson.D{{Key: "sender_email", Value: "jane@example.com"}, {Key: "chat_name", Value: "Jane"}, {Key: "message", Value: fmt.Sprintf("Where is order %d?", i)}},
				bson.D{{Key: "sender_email", Value: "carol@example.com"}, {Key: "chat_name", Value: "Carol (support)"}, {Key: "message", Value: "It ships today."}},
			}},
		}
	})
	insert("customer_details", func(i int) bson.D {
		return bson.D{
			{Key: "customer_id", Value: jane},
			{Key: "birthday", Value: "1988-05-17"},
			{Key: "gender", Value: "female"},
			{Key: "workplace_info", Value: bson.D{{Key: "employer", Value: "Springfield Library"}, {Key: "position", Value: "Archivist"}, {Key: "direct_reports", Value: bson.A{"Tom Green", "Ana Lopez"}}}},
			{Key: "emergency_contacts", Value: bson.A{bson.D{{Key: "name", Value: "John Doe"}, {Key: "relationship", Value: "spouse"}, {Key: "phone", Value: "+1-555-0199"}}}},
			{Key: "children", Value: bson.A{fmt.Sprintf("Child %d", i)}},
		}
	})
	insert("loyalty_accounts", func(i int) bson.D {
		return bson.D{
			{Key: "points", Value: int32(i)},
			{Key: "tier", Value: "basic"},
			{Key: "owners", Value: bson.A{
				bson.D{{Key: "email", Value: "jane@example.com"}, {Key: "name", Value: "Jane Doe"}},
				bson.D{{Key: "email", Value: fmt.Sprintf("friend%d@example.com", i)}, {Key: "name", Value: fmt.Sprintf("Friend %d", i)}},
			}},
		}
	})
	insert("profiles", func(i int) bson.D {
		return bson.D{
			{Key: "internal_id", Value: fmt.Sprintf("p-%d", 100000+i)},
			{Key: "contact", Value: bson.D{
				{Key: "derived_emails", Value: bson.A{fmt.Sprintf("alias%d@example.com", i), "jane@example.com"}},
				{Key: "phones", Value: bson.A{"+1-555-0100"}},
			}},
			{Key: "interests", Value: bson.A{"tea", "books"}},
		}
	})
}

// mongoFloor issues the finds of an access request for jane@example.com
// over the MongoDB example (as `lethe plan configs/mongodb` prints them)
// directly with the driver, in dependency order, decoding every document:
// what a hand-written program would do. It returns the documents read.
func mongoFloor(ctx context.Context, db *mongo.Database) (int, error) {
	total := 0
	find := func(coll string, filter bson.D, fields []string, keep func(bson.M)) error {
		proj := bson.D{}
		for _, f := range fields {
			proj = append(proj, bson.E{Key: f, Value: 1})
		}
		cur, err := db.Collection(coll).Find(ctx, filter, options.Find().SetProjection(proj))
		if err != nil {
			return err
		}
		defer cur.Close(ctx)
		for cur.Next(ctx) {
			var doc bson.M
			if err := cur.Decode(&doc); err != nil {
				return err
			}
			total++
			if keep != nil {
				keep(doc)
			}
		}
		return cur.Err()
	}
	in := func(path string, values ...any) bson.D {
		return bson.D{{Key: path, Value: bson.D{{Key: "$in", Value: bson.A(values)}}}}
	}
	email := "jane@example.com"
	var customerIDs, internalIDs []any
	seen := map[any]bool{}
	steps := []func() error{
		func() error {
			return find("conversations", in("thread.sender_email", email), []string{"_id", "subject", "thread"}, nil)
		},
		func() error {
			return find("customers", in("email", email), []string{"_id", "address", "email", "name", "phone", "tags"}, func(d bson.M) {
				customerIDs = append(customerIDs, d["_id"])
			})
		},
		func() error {
			return find("feedback", in("customer_information.email", email), []string{"_id", "customer_information", "message", "rating"}, func(d bson.M) {
				ci, _ := d["customer_information"].(bson.D) // nested documents decode as bson.D
				for _, e := range ci {
					if e.Key == "internal_customer_id" && !seen[e.Value] {
						seen[e.Value] = true
						internalIDs = append(internalIDs, e.Value)
					}
				}
			})
		},
		func() error {
			return find("loyalty_accounts", in("owners.email", email), []string{"_id", "owners", "points", "tier"}, nil)
		},
		func() error {
			filter := bson.D{{Key: "$or", Value: bson.A{in("contact.derived_emails", email), in("internal_id", internalIDs...)}}}
			return find("profiles", filter, []string{"_id", "contact", "interests", "internal_id"}, nil)
		},
		func() error {
			return find("customer_details", in("customer_id", customerIDs...),
				[]string{"_id", "birthday", "children", "customer_id", "emergency_contacts", "gender", "workplace_info"}, nil)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return total, err
		}
	}
	return total, nil
}

// BenchmarkAccessVsMongoDriver: an access request for jane over the
// MongoDB example (configs/mongodb: its dataset and policies, its sample
// data, and 5,000 more documents of hers in each of feedback,
// conversations, customer_details, loyalty_accounts and profiles) through
// the engine (plugin processes already running, package written to local
// storage, state in bbolt), against the floor: the same finds issued
// directly with the driver in this process, in the same run. Reports both
// times and their ratio (target: at most 1.5).
func BenchmarkAccessVsMongoDriver(b *testing.B) {
	example := filepath.Join(root, "configs", "mongodb")
	db := newMongo(b, filepath.Join(example, "sample-data.json"))
	growMongo(b, db, 5000)
	_, plugins := binaries(b)
	dir := b.TempDir()
	files := map[string]string{"main.hcl": fmt.Sprintf(`server {
  state_dir  = %q
  plugin_dir = %q
  max_parallel_nodes = 8
}

connection "crm_mongo" {
  plugin       = "mongodb"
  access       = "write"
  max_parallel = 4
  config = {
    uri      = %q
    database = %q
  }
}

storage "local" {
  plugin = "local"
  format = "json"
  config = { dir = %q }
}
`, filepath.Join(dir, "state"), plugins, mongoServer(), db.Name(), filepath.Join(dir, "results"))}
	for _, name := range []string{"dataset.hcl", "policies.hcl"} {
		body, err := os.ReadFile(filepath.Join(example, name))
		if err != nil {
			b.Fatal(err)
		}
		files[name] = string(body)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	eng := engine(b, dir)
	ctx := context.Background()
	againstFloor(b, eng, func() (int, error) { return mongoFloor(ctx, db) }, "driver-floor-ms", "documents")
}
