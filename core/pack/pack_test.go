package pack

import (
	"archive/zip"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/sdk/value"
)

func field(name string, cats ...string) *dataset.Field {
	return &dataset.Field{Name: name, Categories: cats}
}

func testCollection() *dataset.Collection {
	return &dataset.Collection{Name: "c", Fields: []*dataset.Field{
		field("id", "system.operations"),
		field("email", "user.contact.email"),
		field("odd", "user.contactless"),
		{Name: "address", Fields: []*dataset.Field{field("city", "user.contact.address.city"), field("zip", "system.operations")}},
		{Name: "kids", Array: true, Fields: []*dataset.Field{field("name", "user.name"), field("ref", "system.operations")}},
		{Name: "tags", Array: true, Categories: []string{"user.contact"}},
	}}
}

func TestSelector(t *testing.T) {
	sel := NewSelector(testCollection(), []string{"user.contact", "user.name"})
	var paths []string
	for _, p := range sel.Paths() {
		paths = append(paths, p.String())
	}
	if want := []string{"email", "address.city", "kids.name", "tags"}; !reflect.DeepEqual(paths, want) {
		t.Fatalf("paths %v, want %v (user.contact must not cover user.contactless)", paths, want)
	}
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any
	}{
		{"scalars", map[string]any{"id": int64(1), "email": "a@b", "odd": "x"}, map[string]any{"email": "a@b"}},
		{"null kept, absent absent", map[string]any{"email": nil}, map[string]any{"email": nil}},
		{"nested", map[string]any{"address": map[string]any{"city": "Lyon", "zip": "1"}}, map[string]any{"address": map[string]any{"city": "Lyon"}}},
		{"empty object removed", map[string]any{"address": map[string]any{"zip": "1"}}, map[string]any{}},
		{"array of objects", map[string]any{"kids": []any{map[string]any{"name": "A", "ref": 1}, map[string]any{"ref": 2}}},
			map[string]any{"kids": []any{map[string]any{"name": "A"}}}},
		{"array of scalars", map[string]any{"tags": []any{"x", "y"}}, map[string]any{"tags": []any{"x", "y"}}},
		{"empty array removed", map[string]any{"tags": []any{}}, map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := json.Marshal(tt.in)
			got := sel.Apply(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			after, _ := json.Marshal(tt.in)
			if !bytes.Equal(before, after) {
				t.Fatal("Apply modified its input")
			}
		})
	}
	if !NewSelector(testCollection(), []string{"user.financial"}).Empty() {
		t.Fatal("selector with no covered field is not Empty")
	}
}

func TestJSONExact(t *testing.T) {
	var buf bytes.Buffer
	w := NewJSON(&buf)
	sel := NewSelector(testCollection(), []string{"user"})
	ts := time.Date(2024, 3, 1, 10, 0, 0, 500, time.FixedZone("", 2*3600))
	must(t, w.Begin("d:empty", sel))
	must(t, w.Begin("d:c", sel))
	must(t, w.Row(map[string]any{
		"s": "a\"b<", "i": int64(-9007199254740993), "f": 1.5, "d": value.Decimal("12345678901234567890.123456789"),
		"t": ts, "b": []byte{0, 1, 2}, "n": nil, "l": []any{true, false}, "m": map[string]any{"z": int64(1), "a": "x"},
	}))
	must(t, w.Row(map[string]any{}))
	must(t, w.Close())
	want := `{"d:c":[{"b":"AAEC","d":12345678901234567890.123456789,"f":1.5,"i":-9007199254740993,"l":[true,false],"m":{"a":"x","z":1},"n":null,"s":"a\"b\u003c","t":"2024-03-01T10:00:00.0000005+02:00"},{}]}`
	if got := buf.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatal("not valid JSON")
	}
	var empty bytes.Buffer
	w = NewJSON(&empty)
	must(t, w.Begin("d:c", sel))
	must(t, w.Close())
	if empty.String() != "{}" {
		t.Fatalf("empty package %q", empty.String())
	}
}

func TestCSV(t *testing.T) {
	var buf bytes.Buffer
	w := NewCSV(&buf)
	sel := NewSelector(testCollection(), []string{"user.contact", "user.name"})
	must(t, w.Begin("d:c", sel))
	must(t, w.Row(sel.Apply(map[string]any{"email": "=HYPERLINK(\"x\")", "address": map[string]any{"city": "Lyon"},
		"kids": []any{map[string]any{"name": "A"}}, "tags": []any{"x", int64(2)}})))
	must(t, w.Row(sel.Apply(map[string]any{"email": "-12"})))
	must(t, w.Begin("d:none", sel))
	must(t, w.Close())
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "d.c.csv" {
		t.Fatalf("zip files %v", zr.File)
	}
	f, _ := zr.File[0].Open()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"email", "address.city", "kids.name", "tags"},
		{"'=HYPERLINK(\"x\")", "Lyon", `["A"]`, `["x",2]`},
		{"-12", "", "", ""},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Fatalf("csv %q\nwant %q", recs, want)
	}
}

func TestEncrypt(t *testing.T) {
	plain := []byte(`{"d:c":[{"email":"a@b"}]}`)
	for _, n := range []int{16, 24, 32} {
		key := bytes.Repeat([]byte{byte(n)}, n)
		var buf bytes.Buffer
		w, err := Encrypt(&buf, key, 1<<20)
		must(t, err)
		_, err = w.Write(plain)
		must(t, err)
		must(t, w.Close())
		got, err := Decrypt(buf.Bytes(), key)
		must(t, err)
		if !bytes.Equal(got, plain) {
			t.Fatalf("round trip with %d-byte key", n)
		}
		// The reference recipe, independently: nonce = first 12 bytes, aad = nonce.
		raw, _ := base64.StdEncoding.DecodeString(buf.String())
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		out, err := gcm.Open(nil, raw[:12], raw[12:], raw[:12])
		if err != nil || !bytes.Equal(out, plain) {
			t.Fatalf("reference recipe fails: %v", err)
		}
		raw[len(raw)-1] ^= 1
		if _, err := Decrypt([]byte(base64.StdEncoding.EncodeToString(raw)), key); err == nil {
			t.Fatal("tampered package decrypted")
		}
	}
	if _, err := Encrypt(io.Discard, make([]byte, 15), 0); err == nil || !strings.Contains(err.Error(), "16, 24 or 32") {
		t.Fatalf("15-byte key: %v", err)
	}
	w, _ := Encrypt(io.Discard, make([]byte, 16), 10)
	if _, err := w.Write(make([]byte, 11)); err == nil {
		t.Fatal("size cap not enforced")
	}
}

func FuzzJSONString(f *testing.F) {
	f.Add("plain")
	f.Add("\x00\xff\u2028\"\\<>&")
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		w := NewJSON(&buf)
		must(t, w.Begin("d:c", nil))
		must(t, w.Row(map[string]any{s: s}))
		must(t, w.Close())
		if !json.Valid(buf.Bytes()) {
			t.Fatalf("invalid JSON for %q: %s", s, buf.Bytes())
		}
	})
}

func BenchmarkJSON(b *testing.B) {
	row := map[string]any{"id": int64(12345), "email": "jane@example.com", "name": "Jane Doe", "city": "Springfield",
		"total": value.Decimal("42.30"), "at": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "n": int64(7), "ok": true,
		"note": "leave the parcel at the door", "score": 1.25}
	var cw countWriter
	w := NewJSON(&cw)
	must(b, w.Begin("d:c", nil))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		must(b, w.Row(row))
	}
	must(b, w.Close())
	b.SetBytes(cw.n / int64(max(b.N, 1)))
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestFormulaQuoteOnlyInCSV: a cell a spreadsheet would run as a formula
// gains a leading ' in CSV packages, and the same value is unchanged in
// JSON packages (a phone number like +1-555-0101 stays as it is there).
func TestFormulaQuoteOnlyInCSV(t *testing.T) {
	tests := []struct{ in, csv string }{
		{"+1-555-0101", "'+1-555-0101"},
		{"=SUM(A1:A2)", "'=SUM(A1:A2)"},
		{"@cmd", "'@cmd"},
		{"-x", "'-x"},
		{"\tx", "'\tx"},
		{"-12.5", "-12.5"},
		{"+33", "+33"},
		{"a+b", "a+b"},
		{"", ""},
	}
	sel := NewSelector(testCollection(), []string{"user.contact"})
	for _, tt := range tests {
		var jb, cb bytes.Buffer
		jw, cw := NewJSON(&jb), NewCSV(&cb)
		for _, w := range []Writer{jw, cw} {
			must(t, w.Begin("d:c", sel))
			must(t, w.Row(sel.Apply(map[string]any{"email": tt.in})))
			must(t, w.Close())
		}
		var pkg map[string][]map[string]string
		must(t, json.Unmarshal(jb.Bytes(), &pkg))
		if got := pkg["d:c"][0]["email"]; got != tt.in {
			t.Errorf("JSON %q: got %q, want it unchanged", tt.in, got)
		}
		zr, err := zip.NewReader(bytes.NewReader(cb.Bytes()), int64(cb.Len()))
		must(t, err)
		f, err := zr.File[0].Open()
		must(t, err)
		recs, err := csv.NewReader(f).ReadAll()
		must(t, err)
		if len(recs) != 2 || recs[1][0] != tt.csv {
			t.Errorf("CSV %q: got %q, want %q", tt.in, recs, tt.csv)
		}
	}
}

// TestTimesInPackages (issue 15): a time in no zone is written without one
// in JSON and CSV packages ("2021-01-01T01:00:00", as the reference system
// wrote it); a time with a zone keeps its offset.
func TestTimesInPackages(t *testing.T) {
	row := map[string]any{
		"naive":  value.Local(time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC)),
		"utc":    time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC),
		"offset": time.Date(2021, 1, 1, 1, 0, 0, 250e6, time.FixedZone("", -5*3600)),
	}
	want := map[string]string{"naive": "2021-01-01T01:00:00", "utc": "2021-01-01T01:00:00Z", "offset": "2021-01-01T01:00:00.25-05:00"}
	coll := &dataset.Collection{Name: "c", Fields: []*dataset.Field{field("naive", "user"), field("utc", "user"), field("offset", "user")}}
	sel := NewSelector(coll, []string{"user"})
	var jb, cb bytes.Buffer
	jw, cw := NewJSON(&jb), NewCSV(&cb)
	for _, w := range []Writer{jw, cw} {
		must(t, w.Begin("d:c", sel))
		must(t, w.Row(sel.Apply(row)))
		must(t, w.Close())
	}
	var pkg map[string][]map[string]string
	must(t, json.Unmarshal(jb.Bytes(), &pkg))
	zr, err := zip.NewReader(bytes.NewReader(cb.Bytes()), int64(cb.Len()))
	must(t, err)
	f, err := zr.File[0].Open()
	must(t, err)
	recs, err := csv.NewReader(f).ReadAll()
	must(t, err)
	for col, w := range want {
		if got := pkg["d:c"][0][col]; got != w {
			t.Errorf("JSON %s = %q, want %q", col, got, w)
		}
		i := slices.Index(recs[0], col)
		if i < 0 || recs[1][i] != w {
			t.Errorf("CSV %s: %q, want %q", col, recs, w)
		}
	}
}
