package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// DefaultURI is the server tests use when LETHE_TEST_MONGO_URI is unset.
const DefaultURI = "mongodb://127.0.0.1:27017/"

// ServerURI returns the test server's connection string.
func ServerURI() string {
	if uri := os.Getenv("LETHE_TEST_MONGO_URI"); uri != "" {
		return uri
	}
	return DefaultURI
}

// Unavailable stops the test when the server does not answer: a failure
// when CI=true, a skip with the reason otherwise.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	msg := "the MongoDB-wire server at " + redact(ServerURI()) + " is not reachable (set LETHE_TEST_MONGO_URI, or run make test, whose scripts/servers.sh starts FerretDB): " + err.Error()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparsable URI)"
	}
	return u.Redacted()
}

// Client connects to the test server, or stops the test as Unavailable
// says. The client is disconnected when the test ends.
func Client(t testing.TB) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(ServerURI()).SetServerSelectionTimeout(5 * time.Second))
	if err != nil {
		t.Fatalf("LETHE_TEST_MONGO_URI: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Ping(ctx, nil); err != nil {
		Unavailable(t, err)
	}
	return client
}

// NewDatabase returns a database with a random name on the test server,
// dropped when the test ends.
func NewDatabase(t testing.TB, prefix string) *mongo.Database {
	t.Helper()
	client := Client(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	db := client.Database(prefix + "_" + hex.EncodeToString(b[:]))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("drop database %s: %v", db.Name(), err)
		}
	})
	return db
}

// SupportsDecimal128 reports whether the server stores decimal128 values
// (FerretDB 1.x does not).
func SupportsDecimal128(t testing.TB, db *mongo.Database) bool {
	t.Helper()
	d, _ := bson.ParseDecimal128("1.5")
	return stores(t, db, "decimal128", d, bson.TypeDecimal128)
}

// SupportsNestedArrays reports whether the server stores arrays inside
// arrays (FerretDB 1.x does not).
func SupportsNestedArrays(t testing.TB, db *mongo.Database) bool {
	t.Helper()
	return stores(t, db, "nested arrays", bson.A{int64(1), bson.A{}}, bson.TypeArray)
}

// stores inserts v into a scratch collection and reports whether it comes
// back with BSON type typ.
func stores(t testing.TB, db *mongo.Database, what string, v any, typ bson.Type) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	coll := db.Collection("lethe_probe")
	defer func() { _ = coll.Drop(ctx) }()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "v", Value: v}}); err != nil {
		t.Logf("the server does not store %s: %v", what, err)
		return false
	}
	var got bson.Raw
	if err := coll.FindOne(ctx, bson.D{}).Decode(&got); err != nil {
		t.Logf("the server does not read %s back: %v", what, err)
		return false
	}
	return got.Lookup("v").Type == typ
}
