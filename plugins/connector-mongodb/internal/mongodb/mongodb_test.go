package mongodb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

const hexID = "65a000000000000000000001"

var oid, _ = bson.ObjectIDFromHex(hexID)

// extJSON prints v as relaxed Extended JSON, for readable comparisons.
func extJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	s := string(b)
	return s[len(`{"v":`) : len(s)-1]
}

func TestBuildFind(t *testing.T) {
	f := func(path string, vals ...any) connector.Filter {
		return connector.Filter{Field: strings.Split(path, "."), Values: vals}
	}
	fields := func(paths ...string) []connector.Path {
		out := make([]connector.Path, len(paths))
		for i, p := range paths {
			out[i] = strings.Split(p, ".")
		}
		return out
	}
	tests := []struct {
		name               string
		req                connector.AccessRequest
		filter, projection string
		err                string
	}{
		{
			name:       "flat, _id left out",
			req:        connector.AccessRequest{Fields: fields("email", "name"), Filters: []connector.Filter{f("email", "a@x", "b@x")}},
			filter:     `{"email":{"$in":["a@x","b@x"]}}`,
			projection: `{"email":1,"name":1,"_id":0}`,
		},
		{
			name: "filters are ORed",
			req: connector.AccessRequest{Fields: fields("_id", "email"),
				Filters: []connector.Filter{f("email", "a@x"), f("n", int64(5), int64(1)<<40)}},
			filter:     `{"$or":[{"email":{"$in":["a@x"]}},{"n":{"$in":[5,1099511627776]}}]}`,
			projection: `{"_id":1,"email":1}`,
		},
		{
			name:       "dotted filter into an array of documents; nested projection",
			req:        connector.AccessRequest{Fields: fields("orders.address.city", "emails"), Filters: []connector.Filter{f("orders.address.city", "Springfield")}},
			filter:     `{"orders.address.city":{"$in":["Springfield"]}}`,
			projection: `{"emails":1,"orders.address.city":1,"_id":0}`,
		},
		{
			name:       "a path under a requested path is dropped, duplicates once",
			req:        connector.AccessRequest{Fields: fields("address.city", "address", "email", "email", "addressbook"), Filters: []connector.Filter{f("email", "a@x")}},
			filter:     `{"email":{"$in":["a@x"]}}`,
			projection: `{"address":1,"addressbook":1,"email":1,"_id":0}`,
		},
		{
			name:       "a hex string also matches the ObjectId, an ObjectID also its hex",
			req:        connector.AccessRequest{Fields: fields("_id"), Filters: []connector.Filter{f("_id", hexID, value.ObjectID(oid), "not-hex")}},
			filter:     `{"_id":{"$in":["65a000000000000000000001",{"$oid":"65a000000000000000000001"},{"$oid":"65a000000000000000000001"},"65a000000000000000000001","not-hex"]}}`,
			projection: `{"_id":1}`,
		},
		{
			name: "time, bool, bytes, decimal, null",
			req: connector.AccessRequest{Fields: fields("a"), Filters: []connector.Filter{
				f("a", time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC), true, []byte{1, 2}, value.Decimal("1.50"), nil)}},
			filter:     `{"a":{"$in":[{"$date":"2024-03-01T12:00:00.123Z"},true,{"$binary":{"base64":"AQI=","subType":"00"}},{"$numberDecimal":"1.50"},null]}}`,
			projection: `{"a":1,"_id":0}`,
		},
		{name: "no field", req: connector.AccessRequest{Filters: []connector.Filter{f("a", "x")}}, err: "no field requested"},
		{name: "no filter", req: connector.AccessRequest{Fields: fields("a")}, err: "at least one filter"},
		{name: "filter without values", req: connector.AccessRequest{Fields: fields("a"), Filters: []connector.Filter{f("a")}}, err: "has no values"},
		{name: "operator in a filter path", req: connector.AccessRequest{Fields: fields("a"), Filters: []connector.Filter{{Field: connector.Path{"$where"}, Values: []any{"1"}}}}, err: "starts with $"},
		{name: "operator in a field", req: connector.AccessRequest{Fields: []connector.Path{{"a", "$x"}}, Filters: []connector.Filter{f("a", "x")}}, err: "starts with $"},
		{name: "empty segment", req: connector.AccessRequest{Fields: []connector.Path{{"a", ""}}, Filters: []connector.Filter{f("a", "x")}}, err: "empty segment"},
		{name: "dot inside a segment", req: connector.AccessRequest{Fields: fields("a"), Filters: []connector.Filter{{Field: connector.Path{"a.b"}, Values: []any{"x"}}}}, err: "contains a dot"},
		{name: "decimal too long for decimal128", req: connector.AccessRequest{Fields: fields("a"), Filters: []connector.Filter{f("a", value.Decimal("1234567890123456789012345678901234567.1"))}}, err: "decimal128"},
		{name: "unsupported Go type", req: connector.AccessRequest{Fields: fields("a"), Filters: []connector.Filter{f("a", struct{}{})}}, err: "unsupported value type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			filter, projection, err := buildFind(tc.req)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || fault.KindOf(err) != fault.Permanent {
					t.Fatalf("err %v, want a permanent error mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := extJSON(t, filter); got != tc.filter {
				t.Errorf("filter\n got %s\nwant %s", got, tc.filter)
			}
			if got := extJSON(t, projection); got != tc.projection {
				t.Errorf("projection\n got %s\nwant %s", got, tc.projection)
			}
		})
	}
}

func TestBuildUpdate(t *testing.T) {
	tests := []struct {
		name           string
		u              connector.RowUpdate
		filter, update string
		err            string
	}{
		{
			name:   "array elements by index, nested document in an array",
			u:      connector.RowUpdate{Key: connector.Row{"_id": value.ObjectID(oid)}, Set: connector.Row{"emails.1": "MASKED", "orders.0.address.city": nil}},
			filter: `{"_id":{"$in":[{"$oid":"65a000000000000000000001"},"65a000000000000000000001"]}}`,
			update: `{"$set":{"emails.1":"MASKED","orders.0.address.city":null}}`,
		},
		{
			name:   "composite key, every field must match, sorted",
			u:      connector.RowUpdate{Key: connector.Row{"tenant": "t1", "id": int64(3)}, Set: connector.Row{"name": "x", "ts": time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}},
			filter: `{"id":3,"tenant":"t1"}`,
			update: `{"$set":{"name":"x","ts":{"$date":"2000-01-01T00:00:00Z"}}}`,
		},
		{
			name:   "a hex string key also matches the ObjectId; nested key; map value",
			u:      connector.RowUpdate{Key: connector.Row{"_id": hexID, "meta.id": int64(1)}, Set: connector.Row{"doc": map[string]any{"b": int64(1), "a": []any{"x", nil}}}},
			filter: `{"_id":{"$in":["65a000000000000000000001",{"$oid":"65a000000000000000000001"}]},"meta.id":1}`,
			update: `{"$set":{"doc":{"a":["x",null],"b":1}}}`,
		},
		{name: "null key", u: connector.RowUpdate{Key: connector.Row{"_id": nil}, Set: connector.Row{"a": "x"}}, err: "is null"},
		{name: "document key", u: connector.RowUpdate{Key: connector.Row{"k": map[string]any{}}, Set: connector.Row{"a": "x"}}, err: "scalar keys"},
		{name: "positional operator", u: connector.RowUpdate{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"emails.$": "x"}}, err: "starts with $"},
		{name: "all-elements operator", u: connector.RowUpdate{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"emails.$[]": "x"}}, err: "starts with $"},
		{name: "empty segment", u: connector.RowUpdate{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"a..b": "x"}}, err: "empty segment"},
		{name: "no key", u: connector.RowUpdate{Set: connector.Row{"a": "x"}}, err: "no key"},
		{name: "nothing to set", u: connector.RowUpdate{Key: connector.Row{"id": int64(1)}}, err: "sets no field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			filter, update, err := buildUpdate(tc.u)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := extJSON(t, filter); got != tc.filter {
				t.Errorf("filter\n got %s\nwant %s", got, tc.filter)
			}
			if got := extJSON(t, update); got != tc.update {
				t.Errorf("update\n got %s\nwant %s", got, tc.update)
			}
		})
	}
}

func TestFromBSON(t *testing.T) {
	dec, _ := bson.ParseDecimal128("-12345678901234567890.123456789")
	nan, _ := bson.ParseDecimal128("NaN")
	inf, _ := bson.ParseDecimal128("-Infinity")
	when := time.Date(2024, 3, 1, 12, 0, 0, 123000000, time.UTC)
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"int32 widens", int32(-7), int64(-7)},
		{"int64", int64(math.MinInt64), int64(math.MinInt64)},
		{"double bit for bit", -1.5e-300, -1.5e-300},
		{"decimal128 every digit", dec, value.Decimal("-12345678901234567890.123456789")},
		{"string", "Zoë ☃", "Zoë ☃"},
		{"bool", true, true},
		{"date in UTC", bson.NewDateTimeFromTime(when), when},
		{"ObjectId as value.ObjectID", oid, value.ObjectID(oid)},
		{"binary, any subtype", bson.Binary{Subtype: 4, Data: []byte{1, 2, 3}}, []byte{1, 2, 3}},
		{"empty binary", bson.Binary{Data: []byte{}}, []byte{}},
		{"null", nil, nil},
		{"undefined", bson.Undefined{}, nil},
		{"document as map", bson.D{{Key: "b", Value: int32(1)}, {Key: "a", Value: bson.D{{Key: "c", Value: "x"}}}},
			map[string]any{"b": int64(1), "a": map[string]any{"c": "x"}}},
		{"array as list", bson.A{"a", int32(1), bson.D{{Key: "k", Value: nil}}, bson.A{}}, []any{"a", int64(1), map[string]any{"k": nil}, []any{}}},
		{"symbol as string", bson.Symbol("s"), "s"},
		{"regex as Extended JSON", bson.Regex{Pattern: "^a", Options: "i"}, map[string]any{"$regularExpression": map[string]any{"pattern": "^a", "options": "i"}}},
		{"timestamp as Extended JSON", bson.Timestamp{T: 5, I: 2}, map[string]any{"$timestamp": map[string]any{"t": int64(5), "i": int64(2)}}},
		{"javascript", bson.JavaScript("f()"), map[string]any{"$code": "f()"}},
		{"minKey", bson.MinKey{}, map[string]any{"$minKey": int64(1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := bson.Marshal(bson.D{{Key: "v", Value: tc.in}})
			if err != nil {
				t.Fatal(err)
			}
			row, err := fromRow(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := row["v"]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %T %#v, want %T %#v", got, got, tc.want, tc.want)
			}
		})
	}
	t.Run("NaN and infinite decimals become floats", func(t *testing.T) {
		raw, _ := bson.Marshal(bson.D{{Key: "n", Value: nan}, {Key: "i", Value: inf}})
		row, err := fromRow(raw)
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := row["n"].(float64); !ok || !math.IsNaN(f) {
			t.Errorf("NaN: %#v", row["n"])
		}
		if row["i"] != math.Inf(-1) {
			t.Errorf("-Infinity: %#v", row["i"])
		}
	})
	t.Run("a string that is not UTF-8 comes back as bytes", func(t *testing.T) {
		raw, _ := bson.Marshal(bson.D{{Key: "s", Value: "a\xffb"}})
		row, err := fromRow(raw)
		if err != nil || !reflect.DeepEqual(row["s"], []byte("a\xffb")) {
			t.Errorf("got %#v, %v", row["s"], err)
		}
	})
	t.Run("a date outside years 1 to 9999 is refused", func(t *testing.T) {
		raw, _ := bson.Marshal(bson.D{{Key: "d", Value: bson.DateTime(math.MaxInt64)}})
		if _, err := fromRow(raw); err == nil || !strings.Contains(err.Error(), "d: date") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("malformed BSON is an error, not a panic", func(t *testing.T) {
		raw, _ := bson.Marshal(bson.D{{Key: "s", Value: "abc"}})
		raw[len(raw)-3] = 0xff
		raw[4] = 0x7f // an unknown type byte
		if _, err := fromRow(raw); err == nil {
			t.Error("malformed BSON accepted")
		}
	})
}

func TestToBSONRoundTrip(t *testing.T) {
	vals := []any{
		nil, true, int64(math.MaxInt64), math.MaxFloat64, "x", []byte{0, 0xff}, []byte{},
		time.Date(1999, 12, 31, 23, 59, 59, 123000000, time.UTC), value.Decimal("12345678901234567890.123456789"),
		value.ObjectID(oid), []any{"a", int64(1), nil, map[string]any{"k": "v"}},
		map[string]any{"n": int64(math.MinInt64), "inner": map[string]any{"list": []any{false}}},
	}
	for _, v := range vals {
		b, err := toBSON(v)
		if err != nil {
			t.Fatalf("toBSON(%#v): %v", v, err)
		}
		raw, err := bson.Marshal(bson.D{{Key: "v", Value: b}})
		if err != nil {
			t.Fatal(err)
		}
		row, err := fromRow(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(row["v"], v) {
			t.Errorf("round trip of %T %#v gave %T %#v", v, v, row["v"], row["v"])
		}
	}
	// Widened and converted on the way in.
	for in, want := range map[any]any{int32(5): int64(5), uint64(math.MaxUint64): value.Decimal("18446744073709551615"), float32(0.5): 0.5} {
		b, err := toBSON(in)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := bson.Marshal(bson.D{{Key: "v", Value: b}})
		row, _ := fromRow(raw)
		if !reflect.DeepEqual(row["v"], want) {
			t.Errorf("%T %v came back as %T %v, want %T %v", in, in, row["v"], row["v"], want, want)
		}
	}
	if _, err := toBSON(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("a time after year 9999 was accepted")
	}
}

func TestDryRun(t *testing.T) {
	c := &Conn{database: "shop"}
	q, err := c.DryRun(context.Background(), connector.AccessRequest{
		Collection: connector.Collection{Dataset: "crm", Name: "customers"},
		Fields:     []connector.Path{{"email"}, {"address", "city"}},
		Filters:    []connector.Filter{{Field: connector.Path{"contact", "emails"}, Values: []any{"a@x"}}},
		Limit:      10,
	})
	want := `{"database":"shop","collection":"customers","filter":{"contact.emails":{"$in":["a@x"]}},"projection":{"address.city":1,"email":1,"_id":0},"limit":10}`
	if err != nil || q != want {
		t.Errorf("dry run:\n got %s %v\nwant %s", q, err, want)
	}
	// Without a configured database, the dataset's key names it.
	c = &Conn{}
	q, err = c.DryRun(context.Background(), connector.AccessRequest{
		Collection: connector.Collection{Dataset: "crm", Name: "customers"},
		Fields:     []connector.Path{{"_id"}},
		Filters:    []connector.Filter{{Field: connector.Path{"_id"}, Values: []any{value.ObjectID(oid)}}},
	})
	want = `{"database":"crm","collection":"customers","filter":{"_id":{"$in":[{"$oid":"65a000000000000000000001"},"65a000000000000000000001"]}},"projection":{"_id":1}}`
	if err != nil || q != want {
		t.Errorf("dry run:\n got %s %v\nwant %s", q, err, want)
	}
}

func TestNamespace(t *testing.T) {
	tests := []struct {
		conf string
		coll connector.Collection
		db   string
		err  string
	}{
		{"shop", connector.Collection{Dataset: "crm", Name: "c"}, "shop", ""},
		{"", connector.Collection{Dataset: "crm", Name: "c"}, "crm", ""},
		{"", connector.Collection{Name: "c"}, "", "set database"},
		{"", connector.Collection{Dataset: "my.crm", Name: "c"}, "", "set database"},
		{"shop", connector.Collection{Name: "system.users"}, "", "system collection"},
		{"shop", connector.Collection{Name: "a$b"}, "", "contains $"},
	}
	for _, tc := range tests {
		c := &Conn{database: tc.conf}
		db, _, err := c.namespace(tc.coll)
		switch {
		case tc.err == "" && (err != nil || db != tc.db):
			t.Errorf("namespace(%q, %+v) = %q, %v; want %q", tc.conf, tc.coll, db, err, tc.db)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || fault.KindOf(err) != fault.Permanent):
			t.Errorf("namespace(%q, %+v): %v; want a permanent error mentioning %q", tc.conf, tc.coll, err, tc.err)
		}
	}
}

func TestParseConfig(t *testing.T) {
	t.Run("from parts", func(t *testing.T) {
		s, err := parseConfig(schema.Config{"host": "db.internal", "port": int64(27018), "username": "lethe", "password": "p@ss:w/rd",
			"tls": true, "database": "crm", "connect_timeout": 3 * time.Second, "max_connections": int64(5), "transactions": "never"})
		if err != nil {
			t.Fatal(err)
		}
		o := s.opts
		if s.where != "db.internal:27018" || len(o.Hosts) != 1 || o.Hosts[0] != "db.internal:27018" || s.database != "crm" || s.transactions != "never" {
			t.Errorf("settings %+v, hosts %v", s, o.Hosts)
		}
		if o.Auth == nil || o.Auth.Username != "lethe" || o.Auth.Password != "p@ss:w/rd" || o.Auth.AuthSource != "admin" {
			t.Errorf("auth %+v", o.Auth)
		}
		if o.TLSConfig == nil || *o.MaxPoolSize != 5 || *o.ServerSelectionTimeout != 3*time.Second {
			t.Errorf("tls %v, pool %d, selection timeout %v", o.TLSConfig, *o.MaxPoolSize, *o.ServerSelectionTimeout)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		s, err := parseConfig(schema.Config{"host": "::1", "username": "u", "password": ""})
		if err != nil {
			t.Fatal(err)
		}
		if s.where != "[::1]:27017" || s.opts.Auth.AuthSource != "admin" || !s.opts.Auth.PasswordSet || s.transactions != "auto" || *s.opts.MaxPoolSize != 8 {
			t.Errorf("settings %+v auth %+v", s, s.opts.Auth)
		}
	})
	t.Run("uri options win", func(t *testing.T) {
		s, err := parseConfig(schema.Config{"uri": "mongodb://u:pw@a:1,b:2/?authSource=users&maxPoolSize=3", "max_connections": int64(9)})
		if err != nil {
			t.Fatal(err)
		}
		if s.where != "a:1,b:2" || *s.opts.MaxPoolSize != 3 || s.opts.Auth.AuthSource != "users" || !strings.Contains(s.auth, `"u"`) {
			t.Errorf("settings %+v", s)
		}
	})
	tests := []struct {
		cfg  schema.Config
		want string
	}{
		{schema.Config{}, "no server named: set uri, or host"},
		{schema.Config{"uri": "mongodb://a/", "username": "u", "tls": false}, "both uri and username, tls are set"},
		{schema.Config{"uri": "postgres://a/"}, "uri is not a valid MongoDB connection string"},
		{schema.Config{"uri": "mongodb://u:s3cret-pw@a:notaport/"}, "uri is not a valid"},
		{schema.Config{"host": "mongodb://a"}, "put a connection string or several hosts in uri"},
		{schema.Config{"host": "a,b"}, "several hosts in uri"},
		{schema.Config{"host": "a", "port": int64(0)}, "port 0 is out of range"},
		{schema.Config{"host": "a", "password": "s3cret-pw"}, "password is set but username is not"},
		{schema.Config{"host": "a", "auth_database": "users"}, "auth_database is set but username is not"},
		{schema.Config{"host": "a", "username": "u", "auth_database": "a.b"}, "auth_database: database name"},
		{schema.Config{"host": "a", "database": "a b"}, "database: database name"},
		{schema.Config{"host": "a", "database": ""}, "database is empty"},
		{schema.Config{"host": "a", "connect_timeout": time.Duration(0)}, "connect_timeout 0s must be positive"},
		{schema.Config{"host": "a", "max_connections": int64(0)}, "max_connections 0 is out of range"},
		{schema.Config{"host": "a", "transactions": "yes"}, `transactions "yes" is not one of auto, always, never`},
	}
	for _, tc := range tests {
		_, err := parseConfig(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%v) = %v, want an error mentioning %q", tc.cfg, err, tc.want)
		} else if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("parseConfig(%v) printed the password: %v", tc.cfg, err)
		}
	}
}

func TestRedact(t *testing.T) {
	uri := "mongodb://lethe:s3cret-pw@db:27017/?authSource=admin"
	for _, msg := range []string{
		"error parsing uri " + uri,
		"bad password s3cret-pw",
		"bad user info lethe:s3cret-pw",
	} {
		if got := redact(msg, uri); strings.Contains(got, "s3cret-pw") {
			t.Errorf("redact(%q) = %q", msg, got)
		}
	}
}

func TestClassify(t *testing.T) {
	c := &Conn{where: "db:27017", auth: `user "u" (auth_database admin)`}
	bulk := func(code int) error {
		return mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{{WriteError: mongo.WriteError{Code: code, Message: "m"}}}}
	}
	tests := []struct {
		err  error
		want fault.Kind
		msg  string
	}{
		{mongo.CommandError{Code: 18, Message: "Authentication failed."}, fault.Permanent, "check username, password and auth_database"},
		{topology.ConnectionError{Wrapped: mongo.CommandError{Code: 18}}, fault.Permanent, `as user "u"`},
		{mongo.CommandError{Code: 13, Message: "not authorized"}, fault.Permanent, "lacks a privilege"},
		{mongo.CommandError{Code: 2, Message: "bad value"}, fault.Permanent, ""},
		{mongo.CommandError{Code: 20, Message: "Transaction numbers are only allowed on a replica set member or mongos"}, fault.Permanent, ""},
		{mongo.CommandError{Code: 238, Message: "not implemented"}, fault.Permanent, ""},
		{bulk(66), fault.Permanent, ""},                      // immutable field
		{bulk(40), fault.Permanent, ""},                      // conflicting update paths
		{mongo.CommandError{Code: 112}, fault.Transient, ""}, // write conflict
		{mongo.CommandError{Code: 91}, fault.Transient, ""},  // shutting down
		{mongo.CommandError{Code: 1, Labels: []string{"TransientTransactionError"}}, fault.Transient, ""},
		{bulk(11602), fault.Transient, ""},
		{topology.ServerSelectionError{Wrapped: context.DeadlineExceeded}, fault.Transient, "no server answered at db:27017"},
		{topology.ConnectionError{Wrapped: io.EOF}, fault.Transient, ""},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), fault.Transient, ""},
		{context.DeadlineExceeded, fault.Transient, ""},
		{mongo.CommandError{Code: 99999}, fault.Unknown, ""},
		{errors.New("something else"), fault.Unknown, ""},
	}
	for _, tc := range tests {
		err := c.classify(fmt.Errorf("op: %w", tc.err))
		if got := fault.KindOf(err); got != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
		if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("classify(%v) = %q, want it to mention %q", tc.err, err, tc.msg)
		}
	}
	if err := c.classify(fmt.Errorf("op: %w", context.Canceled)); !errors.Is(err, context.Canceled) || fault.KindOf(err) != fault.Unknown {
		t.Errorf("a cancellation must stay a cancellation: %v", err)
	}
}

func TestTxnCapable(t *testing.T) {
	thirty := int64(30)
	tests := []struct {
		h    hello
		want bool
	}{
		{hello{SetName: "rs0", LogicalSessionTimeoutMinutes: &thirty}, true},
		{hello{Msg: "isdbgrid", LogicalSessionTimeoutMinutes: &thirty}, true},
		{hello{LogicalSessionTimeoutMinutes: &thirty}, false}, // standalone, FerretDB
		{hello{SetName: "rs0"}, false},                        // no sessions
		{hello{}, false},
	}
	for _, tc := range tests {
		if got := txnCapable(tc.h); got != tc.want {
			t.Errorf("txnCapable(%+v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

// A date-time in no zone is sent as its text: a BSON date would claim an
// instant.
func TestLocalTimeToBSON(t *testing.T) {
	b, err := toBSON(value.Local(time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC)))
	if err != nil || b != "2021-01-01T01:00:00" {
		t.Errorf("toBSON = %#v, %v", b, err)
	}
}
