package execute

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/value"
)

func pageOf(t testing.TB, rows ...connector.Row) []byte {
	t.Helper()
	var b pageBuffer
	for _, r := range rows {
		if err := b.add(r); err != nil {
			t.Fatal(err)
		}
	}
	data, err := b.take()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readPage(t testing.TB, data []byte) ([]connector.Row, error) {
	t.Helper()
	var out []connector.Row
	err := decodePage(data, func(r connector.Row) error { out = append(out, r); return nil })
	return out, err
}

// TestPageRoundTrip: every kind of value comes back exactly, with the
// zone offset of times kept (UTC for a zero offset).
func TestPageRoundTrip(t *testing.T) {
	paris := time.FixedZone("", 3600)
	rows := []connector.Row{
		{"id": int64(math.MinInt64), "n": int64(math.MaxInt64), "f": math.Inf(-1), "z": math.Copysign(0, -1), "s": "héllo\x00", "b": []byte{0, 255},
			"d": value.Decimal("-12345678901234567890.000000001"), "t": time.Date(1960, 1, 2, 3, 4, 5, 6, paris), "u": time.Date(2024, 3, 1, 10, 0, 0, 999999999, time.UTC),
			"o": value.ObjectID{1, 2, 3}, "nil": nil, "yes": true, "no": false,
			"local": value.Local(time.Date(2021, 1, 1, 1, 0, 0, 500, time.UTC)), "epoch": value.Local(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)),
			"doc": map[string]any{"a": []any{int64(1), "x", nil, map[string]any{"deep": 1.5}}, "e": map[string]any{}}, "l": []any{},
			matchedKey: []any{int64(0), int64(2)}},
		{"id": int64(2), "s": ""},
		{},
	}
	got, err := readPage(t, pageOf(t, rows...))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Fatalf("round trip\n got %#v\nwant %#v", got, rows)
	}
	if f := got[0]["z"].(float64); !math.Signbit(f) {
		t.Error("-0 lost its sign")
	}
	if tm := got[0]["u"].(time.Time); tm.Location() != time.UTC {
		t.Errorf("a UTC time came back in %v", tm.Location())
	}
	if _, off := got[0]["t"].(time.Time).Zone(); off != 3600 {
		t.Errorf("offset %d, want 3600", off)
	}
}

// TestPageBeforeLocalTimes: a page written before times in no zone had a
// tag of their own (a request interrupted across the upgrade) still reads,
// its times as the instants they were. The bytes are the previous
// version's encoding of {"t": 2021-01-01T01:00:00Z}, written out by hand.
func TestPageBeforeLocalTimes(t *testing.T) {
	old := []byte{pageMagic, pageVersion, 1, // one row
		1, 0, 1, 't', // one field, name 0 = "t"
		tagTime}
	old = binary.AppendVarint(old, time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC).Unix())
	old = binary.AppendUvarint(old, 0)
	old = binary.AppendVarint(old, 0)
	got, err := readPage(t, old)
	if err != nil {
		t.Fatal(err)
	}
	want := []connector.Row{{"t": time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("old page read as %#v, want %#v", got, want)
	}
}

// TestPageRefusesDamage: a truncated or altered page is an error, never a
// panic or a silently shorter row set.
func TestPageRefusesDamage(t *testing.T) {
	data := pageOf(t, connector.Row{"id": int64(1), "email": "jane@example.com", "doc": map[string]any{"a": []any{"x"}}}, connector.Row{"id": int64(2)})
	for n := range len(data) {
		if _, err := readPage(t, data[:n]); err == nil {
			t.Errorf("a page cut to %d of %d bytes decoded without error", n, len(data))
		}
	}
	if _, err := readPage(t, append(append([]byte{}, data...), 0)); err == nil {
		t.Error("trailing bytes accepted")
	}
	old := append([]byte{}, data...)
	old[1] = 0
	if _, err := readPage(t, old); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("a page of another version: %v", err)
	}
	if err := new(pageBuffer).add(connector.Row{"x": struct{}{}}); err == nil {
		t.Error("an unsupported Go type was encoded")
	}
}

func FuzzDecodePage(f *testing.F) {
	f.Add(pageOf(f, connector.Row{"id": int64(1), "doc": map[string]any{"a": []any{"x", 1.5}}}))
	f.Add([]byte{pageMagic, pageVersion, 1, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := readPage(t, data)
		if err != nil {
			return
		}
		// What decodes must encode, and decode and encode again to the
		// same bytes (bytes, not values: NaN is not equal to itself).
		first := pageOf(t, rows...)
		again, err := readPage(t, first)
		if err != nil {
			t.Fatalf("a re-encoded page does not decode: %v", err)
		}
		if second := pageOf(t, again...); !bytes.Equal(first, second) {
			t.Fatal("re-encoding is not stable")
		}
	})
}

func BenchmarkPageDecode(b *testing.B) {
	var rows []connector.Row
	for i := range 2000 {
		rows = append(rows, connector.Row{"id": int64(i), "email": "jane@example.com", "page": "/products/teapot", "visited_at": "2024-01-10T09:57:00Z", "total": value.Decimal("42.30")})
	}
	data := pageOf(b, rows...)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := readPage(b, data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRowKey(t *testing.T) {
	key := func(row connector.Row, pk ...string) string {
		t.Helper()
		k, _, err := rowKey(nil, row, pk)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a := connector.Row{"id": int64(1), "name": "a"}
	tests := []struct {
		name  string
		x, y  string
		equal bool
	}{
		{"same key, other values", key(a, "id"), key(connector.Row{"id": int64(1), "name": "b"}, "id"), true},
		{"integer widths", key(a, "id"), key(connector.Row{"id": int32(1)}, "id"), true},
		{"other key", key(a, "id"), key(connector.Row{"id": int64(2)}, "id"), false},
		{"string vs integer", key(connector.Row{"id": "1"}, "id"), key(a, "id"), false},
		{"composite order matters", key(connector.Row{"a": "x", "b": "y"}, "a", "b"), key(connector.Row{"a": "y", "b": "x"}, "a", "b"), false},
		{"composite no ambiguity", key(connector.Row{"a": "xy", "b": ""}, "a", "b"), key(connector.Row{"a": "x", "b": "y"}, "a", "b"), false},
		{"whole row equal", key(connector.Row{"a": "x", "b": []any{int64(1)}}), key(connector.Row{"b": []any{int64(1)}, "a": "x"}), true},
		{"whole row differs", key(connector.Row{"a": "x"}), key(connector.Row{"a": "y"}), false},
		{"missing key is nil", key(connector.Row{"name": "a"}, "id"), key(connector.Row{"id": nil}, "id"), true},
	}
	for _, tc := range tests {
		if (tc.x == tc.y) != tc.equal {
			t.Errorf("%s: equal=%v, want %v", tc.name, tc.x == tc.y, tc.equal)
		}
	}
}
