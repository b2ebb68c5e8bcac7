package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethehq/lethe/plugins/connector-mongodb/internal/mongodb"
	"github.com/lethehq/lethe/plugins/connector-mongodb/internal/mongotest"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/sdktest"
	"github.com/lethehq/lethe/sdk/value"
)

const collection = "lethe_conformance"

// toDoc converts a conformance row to a document, as a plugin author would
// with the driver: every document gets its own ObjectId _id, and "id" is
// the key the suite erases by.
func toDoc(t testing.TB, r connector.Row) bson.D {
	t.Helper()
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	doc := bson.D{{Key: "_id", Value: bson.NewObjectID()}}
	for _, k := range keys {
		doc = append(doc, bson.E{Key: k, Value: toBSON(t, r[k])})
	}
	return doc
}

func toBSON(t testing.TB, v any) any {
	t.Helper()
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return x
	case []byte:
		return bson.Binary{Data: x}
	case time.Time:
		return bson.NewDateTimeFromTime(x)
	case value.Decimal:
		d, err := bson.ParseDecimal128(string(x))
		if err != nil {
			t.Fatal(err)
		}
		return d
	case []any:
		a := bson.A{}
		for _, e := range x {
			a = append(a, toBSON(t, e))
		}
		return a
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := bson.D{}
		for _, k := range keys {
			d = append(d, bson.E{Key: k, Value: toBSON(t, x[k])})
		}
		return d
	}
	t.Fatalf("conformance value of type %T", v)
	return nil
}

// reset is the fixture's Reset: empty the collection, insert rows.
func reset(coll *mongo.Collection) func(testing.TB, []connector.Row) {
	return func(t testing.TB, rows []connector.Row) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := coll.DeleteMany(ctx, bson.D{}); err != nil {
			t.Fatalf("reset: %v", err)
		}
		docs := make([]any, len(rows))
		for i, r := range rows {
			docs[i] = toDoc(t, r)
		}
		if len(docs) > 0 {
			if _, err := coll.InsertMany(ctx, docs); err != nil {
				t.Fatalf("reset: %v", err)
			}
		}
	}
}

// fixture points the suite at a fresh database. With byDataset, the
// config names no database and the collection's dataset key does.
func fixture(t *testing.T, byDataset bool) sdktest.ConnectorFixture {
	db := mongotest.NewDatabase(t, "lethe_conf")
	uri := mongotest.ServerURI()
	// The suite's lists hold lists, and its decimals need decimal128:
	// FerretDB 1.x stores neither, so they are checked only on servers
	// that do (internal/mongodb's tests cover both conversions).
	supports := []sdktest.Kind{sdktest.KindFloat, sdktest.KindBytes, sdktest.KindBool, sdktest.KindTime, sdktest.KindMap}
	if mongotest.SupportsDecimal128(t, db) {
		supports = append(supports, sdktest.KindDecimal)
	} else {
		t.Log("KindDecimal is left out of the suite: the server does not store decimal128 (FerretDB 1.x)")
	}
	if mongotest.SupportsNestedArrays(t, db) {
		supports = append(supports, sdktest.KindList)
	} else {
		t.Log("KindList is left out of the suite: the server does not store arrays inside arrays (FerretDB 1.x)")
	}
	cfg := map[string]any{"uri": uri, "database": db.Name()}
	coll := connector.Collection{Dataset: "conformance", Name: collection}
	if byDataset {
		cfg = map[string]any{"uri": uri}
		coll.Dataset = db.Name()
	}
	// A collection whose default collation ignores case, accents, width
	// and spaces, with an index of the same collation on email, as an
	// operator might have; FerretDB 1.x has no collations.
	var loose map[string]func(testing.TB, []connector.Row) connector.Collection
	looseOpts := options.CreateCollection().SetCollation(&options.Collation{Locale: "en", Strength: 1, Alternate: "shifted"})
	if err := db.CreateCollection(context.Background(), "lethe_loose", looseOpts); err != nil {
		t.Logf("no loose collection for the exact-matching checks: the server refuses collations (%v)", err)
	} else {
		if _, err := db.Collection("lethe_loose").Indexes().CreateOne(context.Background(), mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}}); err != nil {
			t.Fatal(err)
		}
		resetLoose := reset(db.Collection("lethe_loose"))
		loose = map[string]func(testing.TB, []connector.Row) connector.Collection{
			"collection collation en, strength 1, alternate shifted": func(t testing.TB, rows []connector.Row) connector.Collection {
				resetLoose(t, rows)
				return connector.Collection{Dataset: coll.Dataset, Name: "lethe_loose"}
			},
		}
	}
	return sdktest.ConnectorFixture{
		Loose:  loose,
		Config: cfg,
		BadConfigs: []map[string]any{
			{},
			{"uri": 7},
			{"uri": uri, "host": "127.0.0.1"},
			{"uri": uri, "connect_timeout": "soon"},
			{"uri": uri, "connect_timeout": "0s"},
			{"uri": uri, "path": "x"},
			{"uri": uri, "transactions": "sometimes"},
			{"uri": uri, "database": "no/slashes"},
			{"uri": uri, "max_connections": int64(0)},
			{"uri": "http://127.0.0.1:27017/"},
			{"host": "127.0.0.1", "password": "secret"},
			{"host": "127.0.0.1", "port": int64(70000)},
			{"uri": "mongodb://127.0.0.1:1/", "connect_timeout": "1s"},
		},
		Collection:    coll,
		Supports:      supports,
		TimePrecision: time.Millisecond,
		Reset:         reset(db.Collection(collection)),
	}
}

// TestConformance runs the connector suite against a real plugin process.
func TestConformance(t *testing.T) {
	fx := fixture(t, false)
	c := sdktest.LaunchConnector(t, sdktest.BuildPlugin(t, "."))
	sdktest.RunConnectorConformance(t, c, fx)
}

// TestConformanceInProcess runs the suite in process, where -race sees the
// connector's code too, with the database taken from the dataset's key.
func TestConformanceInProcess(t *testing.T) {
	fx := fixture(t, true)
	c := sdktest.NewConnectorHarness(t, mongodb.Definition("0.1.0"))
	sdktest.RunConnectorConformance(t, c, fx)
}

func TestDescribeFlag(t *testing.T) {
	out, err := exec.Command(sdktest.BuildPlugin(t, "."), "-describe").Output()
	if err != nil {
		t.Fatalf("-describe: %v", err)
	}
	var info schema.Info
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("-describe printed invalid JSON: %v\n%s", err, out)
	}
	if info.Kind != schema.KindConnector || info.Name != "mongodb" || info.Version != version || !info.Has(schema.CapabilityDryRun) {
		t.Errorf("-describe: %+v", info)
	}
	for _, a := range info.Config.Attributes {
		if (a.Name == "password" || a.Name == "uri") != a.Sensitive {
			t.Errorf("attribute %s: sensitive = %v", a.Name, a.Sensitive)
		}
	}
}

// TestConfigureReportsWhatToFix checks that the diagnostics of a bad
// configuration name the attribute to fix and never print a password.
func TestConfigureReportsWhatToFix(t *testing.T) {
	c := sdktest.NewConnectorHarness(t, mongodb.Definition("0.1.0"))
	ctx := context.Background()
	tests := []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{}, "set uri, or host"},
		{map[string]any{"uri": "mongodb://127.0.0.1/", "port": int64(27018)}, "both uri and port"},
		{map[string]any{"uri": "mongodb://u:hunter2-pw@127.0.0.1:notaport/"}, "uri is not a valid"},
		{map[string]any{"host": "127.0.0.1", "password": "hunter2-pw"}, "set username"},
		{map[string]any{"host": "127.0.0.1", "port": int64(1), "connect_timeout": "500ms"}, "127.0.0.1:1"},
		{map[string]any{"host": "127.0.0.1", "transactions": "maybe"}, "transactions"},
	}
	for i, tc := range tests {
		diags, err := c.Configure(ctx, fmt.Sprint("bad-", i), tc.cfg)
		if err != nil {
			t.Fatalf("Configure %v: %v", tc.cfg, err)
		}
		msg := diags.Err()
		if msg == nil || !strings.Contains(msg.Error(), tc.want) {
			t.Errorf("Configure %v: %v, want a diagnostic mentioning %q", tc.cfg, msg, tc.want)
			continue
		}
		if strings.Contains(msg.Error(), "hunter2-pw") {
			t.Errorf("Configure %v printed the password: %v", tc.cfg, msg)
		}
	}
}
