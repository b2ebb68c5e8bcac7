package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/sdktest"
)

// writeFile makes path hold data, the way the fixture's Reset must: with
// the author's own code, not through the plugin.
func writeFile(t testing.TB, path string, data map[string][]connector.Row) {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// fixture points the conformance suite at a fresh JSON file. The suite
// calls Reset before each check with the rows the collection must hold.
func fixture(t *testing.T) sdktest.ConnectorFixture {
	path := filepath.Join(t.TempDir(), "conformance.json")
	coll := connector.Collection{Dataset: "conformance", Name: "lethe_conformance"}
	writeFile(t, path, map[string][]connector.Row{coll.Name: nil})
	return sdktest.ConnectorFixture{
		Config: map[string]any{"path": path},
		BadConfigs: []map[string]any{
			{},                                // path is required
			{"path": 7},                       // of the wrong type
			{"path": path, "extra": true},     // unknown attribute
			{"path": path, "read_only": "no"}, // of the wrong type
			{"path": filepath.Join(t.TempDir(), "missing.json")}, // New refuses it
			{"path": t.TempDir()},                                // a directory
		},
		Collection: coll,
		// What JSON stores exactly besides int64 and string. Floats are
		// left out: an integral float64 comes back as an int64.
		Supports: []sdktest.Kind{sdktest.KindBool, sdktest.KindMap, sdktest.KindList},
		Reset: func(t testing.TB, rows []connector.Row) {
			writeFile(t, path, map[string][]connector.Row{coll.Name: rows})
		},
		// Loose stays empty: Go compares strings byte for byte, so there
		// is no looser comparison to check.
	}
}

// TestConformance runs the suite against a real plugin process, built and
// started exactly as Lethe starts it.
func TestConformance(t *testing.T) {
	c := sdktest.LaunchConnector(t, sdktest.BuildPlugin(t, "."))
	sdktest.RunConnectorConformance(t, c, fixture(t))
}

// TestConformanceInProcess runs the suite in process over real gRPC, where
// the race detector sees the connector's code and a failure shows its stack.
func TestConformanceInProcess(t *testing.T) {
	c := sdktest.NewConnectorHarness(t, definition())
	sdktest.RunConnectorConformance(t, c, fixture(t))
}

// TestErase covers what the suite does not: the file keeps its other
// collections and its mode, nested paths, and the refusals.
func TestErase(t *testing.T) {
	jane := func() connector.Row {
		return connector.Row{"id": int64(1), "email": "jane@example.com", "address": map[string]any{"city": "Lyon"}}
	}
	tests := []struct {
		name     string
		readOnly bool
		coll     string
		set      connector.Row
		wantRows int64
		wantErr  string // a permanent fault containing this; "" for none
		want     connector.Row
	}{
		{name: "top-level field", coll: "customers", set: connector.Row{"email": nil}, wantRows: 1,
			want: connector.Row{"id": int64(1), "email": nil, "address": map[string]any{"city": "Lyon"}}},
		{name: "nested path", coll: "customers", set: connector.Row{"address.city": "***"}, wantRows: 1,
			want: connector.Row{"id": int64(1), "email": "jane@example.com", "address": map[string]any{"city": "***"}}},
		{name: "nested path that is absent", coll: "customers", set: connector.Row{"address.zip": "***"}, want: jane()},
		{name: "field that is absent", coll: "customers", set: connector.Row{"phone": "***"}, want: jane()},
		{name: "same value again", coll: "customers", set: connector.Row{"email": "jane@example.com"}, want: jane()},
		{name: "read only", readOnly: true, coll: "customers", set: connector.Row{"email": nil}, wantErr: "read_only", want: jane()},
		{name: "unknown collection", coll: "nope", set: connector.Row{"email": nil}, wantErr: `no collection "nope"`, want: jane()},
		{name: "value JSON cannot store", coll: "customers", set: connector.Row{"email": []byte("x")}, wantErr: "cannot store", want: jane()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data.json")
			orders := []connector.Row{{"id": int64(10), "customer_id": int64(1)}}
			writeFile(t, path, map[string][]connector.Row{"customers": {jane()}, "orders": orders})
			if err := os.Chmod(path, 0o640); err != nil {
				t.Fatal(err)
			}
			c := &conn{path: path, readOnly: tc.readOnly}
			res, err := c.Erase(context.Background(), connector.EraseRequest{
				Collection: connector.Collection{Name: tc.coll},
				Updates:    []connector.RowUpdate{{Key: connector.Row{"id": int64(1)}, Set: tc.set}},
			})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Erase: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || fault.KindOf(err) != fault.Permanent):
				t.Fatalf("Erase: %v; want a permanent fault containing %q", err, tc.wantErr)
			case res.Rows != tc.wantRows:
				t.Errorf("Erase changed %d rows, want %d", res.Rows, tc.wantRows)
			}
			data, err := c.load()
			if err != nil {
				t.Fatal(err)
			}
			if got := data["customers"][0]; !reflect.DeepEqual(got, map[string]any(tc.want)) {
				t.Errorf("row after Erase: %v, want %v", got, tc.want)
			}
			if got := data["orders"]; len(got) != 1 || !reflect.DeepEqual(got[0], map[string]any(orders[0])) {
				t.Errorf("another collection changed: %v", got)
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
				t.Errorf("file mode after Erase: %v %v, want -rw-r-----", st.Mode(), err)
			}
		})
	}
}
