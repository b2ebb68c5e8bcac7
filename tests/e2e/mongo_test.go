package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// mongoServer is the MongoDB-wire server of LETHE_TEST_MONGO_URI: by
// default the FerretDB that make test starts (scripts/servers.sh).
func mongoServer() string {
	if uri := os.Getenv("LETHE_TEST_MONGO_URI"); uri != "" {
		return uri
	}
	return "mongodb://127.0.0.1:27017/"
}

// newMongo creates a database with a random name on the test server,
// dropped when the test ends, and loads into it the documents of file
// (Extended JSON: {"collection": [documents...]}). A server that does not
// answer fails the test when CI=true and skips it otherwise.
func newMongo(t testing.TB, file string) *mongo.Database {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(mongoServer()).SetServerSelectionTimeout(5 * time.Second))
	if err != nil {
		t.Fatalf("LETHE_TEST_MONGO_URI: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Ping(ctx, nil); err != nil {
		unavailable(t, "MongoDB (LETHE_TEST_MONGO_URI)", err)
	}
	db := client.Database(randomName("lethe_e2e"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("drop database %s: %v", db.Name(), err)
		}
	})
	for coll, docs := range readExtJSON(t, file) {
		models := make([]any, len(docs))
		for i, d := range docs {
			models[i] = d
		}
		if len(models) == 0 {
			continue
		}
		if _, err := db.Collection(coll).InsertMany(ctx, models); err != nil {
			t.Fatalf("load %s into %s: %v", coll, db.Name(), err)
		}
	}
	return db
}

// readExtJSON reads {"collection": [documents...]} in relaxed Extended
// JSON, keeping each document's key order.
func readExtJSON(t testing.TB, file string) map[string][]bson.Raw {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var colls map[string][]json.RawMessage
	if err := json.Unmarshal(data, &colls); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := map[string][]bson.Raw{}
	for coll, docs := range colls {
		out[coll] = []bson.Raw{}
		for i, d := range docs {
			var doc bson.D
			if err := bson.UnmarshalExtJSON(d, false, &doc); err != nil {
				t.Fatalf("%s: %s[%d]: %v", file, coll, i, err)
			}
			raw, err := bson.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			out[coll] = append(out[coll], raw)
		}
	}
	return out
}

// documents reads every collection of db, each document in a canonical
// text form (keys sorted, numbers as exact rationals, ObjectIds as
// {"$oid": ...}), ordered by _id.
func documents(t testing.TB, db *mongo.Database) map[string][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, name := range names {
		cur, err := db.Collection(name).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = []string{}
		for cur.Next(ctx) {
			out[name] = append(out[name], canonicalDocument(t, cur.Current))
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		_ = cur.Close(ctx)
	}
	return out
}

// expectedDocuments reads file as documents reads a database.
func expectedDocuments(t testing.TB, file string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for coll, docs := range readExtJSON(t, file) {
		out[coll] = []string{}
		for _, d := range docs {
			out[coll] = append(out[coll], canonicalDocument(t, d))
		}
	}
	return out
}

func canonicalDocument(t testing.TB, doc bson.Raw) string {
	t.Helper()
	ext, err := bson.MarshalExtJSON(doc, false, false)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(ext))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return canonicalValue(v)
}

// compareDocuments reports every collection and document of got that
// differs from want.
func compareDocuments(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	names := map[string]bool{}
	for k := range got {
		names[k] = true
	}
	for k := range want {
		names[k] = true
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, coll := range sorted {
		g, w := got[coll], want[coll]
		if len(g) != len(w) {
			t.Errorf("%s: %s holds %d documents, want %d", what, coll, len(g), len(w))
			continue
		}
		for i := range w {
			if g[i] != w[i] {
				t.Errorf("%s: %s document %d\n got %s\nwant %s", what, coll, i, g[i], w[i])
			}
		}
	}
}

// loyaltyCards is the Postgres table that a MongoDB field finds.
const loyaltyCards = `
CREATE TABLE loyalty_cards (
  id          INTEGER PRIMARY KEY,
  card_number TEXT NOT NULL,
  holder_name TEXT,
  points      INTEGER NOT NULL
);
INSERT INTO loyalty_cards (id, card_number, holder_name, points) VALUES
  (1, 'LC-1001', 'Jane Doe', 1200),
  (2, 'LC-1002', 'Bob Smith', 80),
  (3, 'LC-1004', 'Jane Doe', 15);
`

func loyaltyRows(t testing.TB, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT id, card_number, holder_name, points FROM loyalty_cards ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, points int64
		var card string
		var holder sql.NullString
		if err := rows.Scan(&id, &card, &holder, &points); err != nil {
			t.Fatal(err)
		}
		h := "NULL"
		if holder.Valid {
			h = holder.String
		}
		out = append(out, fmt.Sprintf("%d|%s|%s|%d", id, card, h, points))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// mongoConfig adds to a Postgres backend's configuration the MongoDB
// connection to db, the crm dataset (MongoDB), the rewards dataset
// (Postgres) and the crm_erasure policy of testdata/mongo.
func mongoConfig(t testing.TB, b *backend, db *mongo.Database) (dir, results string) {
	t.Helper()
	if _, err := b.db.Exec(loyaltyCards); err != nil {
		t.Fatal(err)
	}
	dir, results = b.config(t)
	files := map[string]string{
		"crm_connection.hcl": fmt.Sprintf(`connection "crm_mongo" {
  plugin       = "mongodb"
  access       = "write"
  max_parallel = 4
  config = {
    uri      = %q
    database = %q
  }
}
`, mongoServer(), db.Name()),
	}
	for _, name := range []string{"crm.hcl", "rewards.hcl", "policies.hcl"} {
		body, err := os.ReadFile(filepath.Join("testdata", "mongo", name))
		if err != nil {
			t.Fatal(err)
		}
		files["crm_"+name] = string(body)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, results
}

// TestMongoAcrossPostgres: one request over a graph spanning PostgreSQL
// and MongoDB: shop.customers.id (Postgres) finds crm.customer_details
// (MongoDB), whose nested loyalty.card_number finds rewards.loyalty_cards
// (Postgres); the other MongoDB collections are found by e-mail through
// arrays of scalars and arrays of documents, with and without
// return_all_elements. The access package is exactly testdata/
// access_jane.json plus testdata/mongo/access_jane.json; the erasure
// leaves exactly the documents of testdata/mongo/erased.json: only the
// matched elements of profiles.emails and conversations.messages (and,
// inside a matched message, only the matching mentions), every element of
// households.members and newsletters.recipients.
func TestMongoAcrossPostgres(t *testing.T) {
	b := newBackend(t, "postgres")
	db := newMongo(t, filepath.Join("testdata", "mongo", "documents.json"))
	dir, results := mongoConfig(t, b, db)
	loaded := expectedDocuments(t, filepath.Join("testdata", "mongo", "documents.json"))
	compareDocuments(t, "as loaded", documents(t, db), loaded)
	pgBefore := dump(t, b.db)
	cardsBefore := loyaltyRows(t, b.db)

	r := mustComplete(t, nil, dir, "--policy", "access", "--identity", "email=jane@example.com")
	if want := filepath.Join(results, r.request, "user_data.json"); r.pkg != want {
		t.Fatalf("package at %q, want %q:\n%s", r.pkg, want, r)
	}
	if got, want := canonicalPackage(t, r.pkg), mongoGolden(t); got != want {
		t.Errorf("package differs from testdata/access_jane.json + testdata/mongo/access_jane.json\n got:\n%s\nwant:\n%s", got, want)
	}
	for _, line := range []*regexp.Regexp{
		regexp.MustCompile(`crm\.customer_details\s+1\s`), regexp.MustCompile(`crm\.conversations\s+1\s`),
		regexp.MustCompile(`rewards\.loyalty_cards\s+1\s`), regexp.MustCompile(`shop\.customers\s+1\s`),
	} {
		if !line.MatchString(r.stdout) {
			t.Errorf("the access summary lacks %s:\n%s", line, r.stdout)
		}
	}
	compareDocuments(t, "after the access request", documents(t, db), loaded)
	if !equalDumps(pgBefore, dump(t, b.db)) || !slices.Equal(cardsBefore, loyaltyRows(t, b.db)) {
		t.Error("an access request changed the Postgres database")
	}

	e := mustComplete(t, nil, dir, "--policy", "crm_erasure", "--identity", "email=jane@example.com")
	if e.pkg != "" {
		t.Errorf("an erasure-only policy wrote a package: %s", e.pkg)
	}
	compareDocuments(t, "after the erasure", documents(t, db), expectedDocuments(t, filepath.Join("testdata", "mongo", "erased.json")))
	wantCards := []string{"1|LC-1001|MASKED|1200", "2|LC-1002|Bob Smith|80", "3|LC-1004|Jane Doe|15"}
	if got := loyaltyRows(t, b.db); !slices.Equal(got, wantCards) {
		t.Errorf("loyalty_cards after the erasure = %q, want %q", got, wantCards)
	}
	for _, line := range []*regexp.Regexp{
		regexp.MustCompile(`crm\.customer_details\s+1\s+1\s`), regexp.MustCompile(`crm\.profiles\s+1\s+1\s`),
		regexp.MustCompile(`crm\.conversations\s+1\s+1\s`), regexp.MustCompile(`crm\.households\s+1\s+1\s`),
		regexp.MustCompile(`crm\.newsletters\s+1\s+1\s`), regexp.MustCompile(`rewards\.loyalty_cards\s+1\s+1\s`),
	} {
		if !line.MatchString(e.stdout) {
			t.Errorf("the erasure summary lacks %s:\n%s", line, e.stdout)
		}
	}
}

// mongoGolden is the canonical package of TestMongoAcrossPostgres: the
// shop's rows of testdata/access_jane.json and the rows of
// testdata/mongo/access_jane.json.
func mongoGolden(t testing.TB) string {
	t.Helper()
	merged := map[string]json.RawMessage{}
	for _, f := range []string{filepath.Join("testdata", "access_jane.json"), filepath.Join("testdata", "mongo", "access_jane.json")} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var part map[string]json.RawMessage
		if err := json.Unmarshal(data, &part); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range part {
			if _, dup := merged[k]; dup {
				t.Fatalf("%s: collection %s is in both goldens", f, k)
			}
			merged[k] = v
		}
	}
	data, err := json.Marshal(merged)
	if err != nil {
		t.Fatal(err)
	}
	return canonicalJSON(t, data)
}

// TestMongoExampleDeployment: configs/mongodb runs as configs/README.md
// says: sample-data.json loaded (here into a database of its own), the
// example's main.hcl with only its database, directories and plugin
// directory changed, LETHE_MONGO_URI in the environment. The access
// package is exactly testdata/mongo/example_access_jane.json; after the
// example's erasure policy the documents are exactly testdata/mongo/
// example_erased.json, where "H1", "H2"... stand for HMAC-SHA256 masks in
// hex: one per distinct original value.
func TestMongoExampleDeployment(t *testing.T) {
	example := filepath.Join(root, "configs", "mongodb")
	db := newMongo(t, filepath.Join(example, "sample-data.json"))
	_, plugins := binaries(t)
	dir := t.TempDir()
	state, results := filepath.Join(dir, "state"), filepath.Join(dir, "results")
	main, err := os.ReadFile(filepath.Join(example, "main.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	body := string(main)
	for _, r := range [][2]string{
		{`"../../data/mongodb/results"`, fmt.Sprintf("%q", results)},
		{`"../../data/mongodb"`, fmt.Sprintf("%q", state)},
		{`"../../bin/plugins"`, fmt.Sprintf("%q", plugins)},
		{`"lethe_crm"`, fmt.Sprintf("%q", db.Name())},
	} {
		if n := strings.Count(body, r[0]); n != 1 {
			t.Fatalf("configs/mongodb/main.hcl holds %s %d times, this test expects it once: update the test", r[0], n)
		}
		body = strings.Replace(body, r[0], r[1], 1)
	}
	files := map[string]string{"main.hcl": body}
	for _, name := range []string{"dataset.hcl", "policies.hcl"} {
		b, err := os.ReadFile(filepath.Join(example, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"LETHE_MONGO_URI=" + mongoServer()}

	r := mustComplete(t, env, dir, "--policy", "access", "--identity", "email=jane@example.com")
	golden, err := os.ReadFile(filepath.Join("testdata", "mongo", "example_access_jane.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := canonicalPackage(t, r.pkg), canonicalJSON(t, golden); got != want {
		t.Errorf("package differs from testdata/mongo/example_access_jane.json\n got:\n%s\nwant:\n%s", got, want)
	}
	compareDocuments(t, "after the access request", documents(t, db), expectedDocuments(t, filepath.Join(example, "sample-data.json")))

	mustComplete(t, env, dir, "--policy", "erasure", "--identity", "email=jane@example.com")
	compareDocuments(t, "after the erasure", numberMasks(documents(t, db)),
		numberMasks(expectedDocuments(t, filepath.Join("testdata", "mongo", "example_erased.json"))))
}

// maskToken is an HMAC-SHA256 in hex, or its stand-in "H<n>" in a golden
// file.
var maskToken = regexp.MustCompile(`"([0-9a-f]{64}|H[0-9]+)"`)

// numberMasks replaces every mask token by "H<n>", numbered in order of
// first appearance (collections by name, documents in order): two sets of
// documents compare equal when their masks are in the same places and
// equal values have equal masks.
func numberMasks(docs map[string][]string) map[string][]string {
	names := make([]string, 0, len(docs))
	for k := range docs {
		names = append(names, k)
	}
	sort.Strings(names)
	seen := map[string]string{}
	out := map[string][]string{}
	for _, coll := range names {
		for _, d := range docs[coll] {
			out[coll] = append(out[coll], maskToken.ReplaceAllStringFunc(d, func(tok string) string {
				if _, ok := seen[tok]; !ok {
					seen[tok] = fmt.Sprintf(`"H%d"`, len(seen)+1)
				}
				return seen[tok]
			}))
		}
	}
	return out
}
