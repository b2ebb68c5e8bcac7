//go:build ignore

// Loads sample-data.json into the MongoDB database of this example, from
// the repository's root:
//
//	LETHE_MONGO_URI=mongodb://127.0.0.1:27017 go run configs/mongodb/load-sample-data.go
//
// sample-data.json holds one key per collection, each a list of documents
// in Extended JSON ({"$oid": ...} for ObjectIds). Every collection it names
// is dropped first, so running it again restores the documents as they
// were before an erasure. Flags: -database (default lethe_crm, the database
// main.hcl names), -file (default configs/mongodb/sample-data.json).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func main() {
	database := flag.String("database", "lethe_crm", "the database to load into")
	file := flag.String("file", "configs/mongodb/sample-data.json", "the documents, one key per collection (Extended JSON)")
	flag.Parse()
	if err := load(*database, *file); err != nil {
		fmt.Fprintln(os.Stderr, "load-sample-data:", err)
		os.Exit(1)
	}
}

func load(database, file string) error {
	uri := os.Getenv("LETHE_MONGO_URI")
	if uri == "" {
		return fmt.Errorf("set LETHE_MONGO_URI, for example mongodb://127.0.0.1:27017")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var colls map[string][]json.RawMessage
	if err := json.Unmarshal(data, &colls); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background())
	if err := client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("no MongoDB server answers at LETHE_MONGO_URI: %w", err)
	}
	db := client.Database(database)
	names := make([]string, 0, len(colls))
	for name := range colls {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		docs := make([]any, 0, len(colls[name]))
		for i, raw := range colls[name] {
			var doc bson.D
			if err := bson.UnmarshalExtJSON(raw, false, &doc); err != nil {
				return fmt.Errorf("%s: %s[%d]: %w", file, name, i, err)
			}
			docs = append(docs, doc)
		}
		coll := db.Collection(name)
		if err := coll.Drop(ctx); err != nil {
			return fmt.Errorf("drop %s.%s: %w", database, name, err)
		}
		if len(docs) > 0 {
			if _, err := coll.InsertMany(ctx, docs); err != nil {
				return fmt.Errorf("insert into %s.%s: %w", database, name, err)
			}
		}
		fmt.Printf("%s.%s: %d documents\n", database, name, len(docs))
	}
	return nil
}
