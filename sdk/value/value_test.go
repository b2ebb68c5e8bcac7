package value

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pluginv1 "github.com/lethehq/lethe/proto/plugin/v1"
)

// roundTrip sends v through ToProto, the protobuf wire encoding and
// FromProto, as a value crossing the plugin boundary does.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	pv, err := ToProto(v)
	if err != nil {
		t.Fatalf("ToProto(%#v): %v", v, err)
	}
	wire, err := proto.Marshal(pv)
	if err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	var back pluginv1.Value
	if err := proto.Unmarshal(wire, &back); err != nil {
		t.Fatalf("unmarshal %#v: %v", v, err)
	}
	got, err := FromProto(&back)
	if err != nil {
		t.Fatalf("FromProto(%#v): %v", v, err)
	}
	return got
}

func TestRoundTripExact(t *testing.T) {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	oid, err := ParseObjectID("65a1f0c2e4b0a1b2c3d4e5f6")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   any
	}{
		{"null", nil},
		{"true", true},
		{"false", false},
		{"int64 max", int64(math.MaxInt64)},
		{"int64 min", int64(math.MinInt64)},
		{"int64 zero", int64(0)},
		{"float", 3.25},
		{"float max", math.MaxFloat64},
		{"float smallest", math.SmallestNonzeroFloat64},
		{"float negative zero", math.Copysign(0, -1)},
		{"float +inf", math.Inf(1)},
		{"string", "Zoë ☃ \"quoted\" \x00 nul"},
		{"empty string", ""},
		{"bytes", allBytes},
		{"empty bytes", []byte{}},
		{"decimal", Decimal("12345678901234567890.123456789012345678")},
		{"negative decimal", Decimal("-0.000001")},
		{"decimal with exponent", Decimal("1.5e-30")},
		{"decimal trailing zeros", Decimal("12.3400")},
		{"object id", oid},
		{"list", []any{int64(1), "two", nil, []byte{3}, []any{}}},
		{"empty list", []any{}},
		{"map", map[string]any{"a": int64(math.MaxInt64), "b": nil, "c": map[string]any{}}},
		{"nested", map[string]any{
			"address": map[string]any{"city": "Zürich", "zip": Decimal("8001")},
			"tags":    []any{map[string]any{"k": "v", "n": int64(math.MinInt64)}, []any{true, 1.5}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := roundTrip(t, tc.in)
			if !reflect.DeepEqual(got, tc.in) {
				t.Errorf("round trip changed the value:\n got %#v\nwant %#v", got, tc.in)
			}
		})
	}
}

func TestRoundTripNaN(t *testing.T) {
	got, ok := roundTrip(t, math.NaN()).(float64)
	if !ok || !math.IsNaN(got) {
		t.Errorf("NaN came back as %#v", got)
	}
}

func TestRoundTripNegativeZeroKeepsSign(t *testing.T) {
	got := roundTrip(t, math.Copysign(0, -1)).(float64)
	if !math.Signbit(got) {
		t.Errorf("-0 lost its sign")
	}
}

// Go integer types are widened to int64; uint64 beyond int64 becomes an
// exact decimal.
func TestRoundTripWidens(t *testing.T) {
	tests := []struct {
		in   any
		want any
	}{
		{int(-7), int64(-7)},
		{int8(-8), int64(-8)},
		{int16(16), int64(16)},
		{int32(math.MinInt32), int64(math.MinInt32)},
		{uint8(255), int64(255)},
		{uint16(65535), int64(65535)},
		{uint32(math.MaxUint32), int64(math.MaxUint32)},
		{uint(42), int64(42)},
		{uint64(math.MaxInt64), int64(math.MaxInt64)},
		{uint64(math.MaxUint64), Decimal("18446744073709551615")},
		{float32(1.5), 1.5},
		{[]string{"a", "b"}, []any{"a", "b"}},
	}
	for _, tc := range tests {
		if got := roundTrip(t, tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%T %v: got %#v, want %#v", tc.in, tc.in, got, tc.want)
		}
	}
}

func TestRoundTripTime(t *testing.T) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	tests := []struct {
		name string
		in   time.Time
	}{
		{"utc", time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC)},
		{"positive half-hour offset", time.Date(1999, 12, 31, 23, 59, 59, 123456789, kolkata)},
		{"negative offset", time.Date(2038, 1, 19, 3, 14, 8, 0, time.FixedZone("", -8*3600))},
		{"offset with seconds", time.Date(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("", 4*3600+1172))},
		{"year 1", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := roundTrip(t, tc.in).(time.Time)
			if !ok {
				t.Fatalf("came back as %T", got)
			}
			_, wantOff := tc.in.Zone()
			_, gotOff := got.Zone()
			if !got.Equal(tc.in) || gotOff != wantOff {
				t.Errorf("got %s (offset %d), want %s (offset %d)", got.Format(time.RFC3339Nano), gotOff, tc.in.Format(time.RFC3339Nano), wantOff)
			}
			if got.Format(time.RFC3339Nano) != tc.in.Format(time.RFC3339Nano) {
				t.Errorf("wall clock changed: got %s, want %s", got.Format(time.RFC3339Nano), tc.in.Format(time.RFC3339Nano))
			}
		})
	}
}

// TestRoundTripLocalTime: a time in no zone crosses the wire without an
// offset and comes back as the same wall clock, never as a time.Time; a
// time.Time from a plugin built with an earlier SDK (which always set the
// offset, UTC included) still comes back as the instant it was.
func TestRoundTripLocalTime(t *testing.T) {
	for _, in := range []LocalTime{
		Local(time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC)),
		Local(time.Date(1999, 12, 31, 23, 59, 59, 123456789, time.FixedZone("", 5*3600))), // the wall clock is kept
		{}, // the zero LocalTime: 0001-01-01T00:00:00
	} {
		pv, err := ToProto(in)
		if err != nil {
			t.Fatal(err)
		}
		if pv.TimeZoneOffsetSeconds != nil {
			t.Errorf("%s crossed the wire with an offset", in)
		}
		got, ok := roundTrip(t, in).(LocalTime)
		if !ok || got != in {
			t.Errorf("%s came back as %#v", in, got)
		}
	}
	if s := Local(time.Date(1999, 12, 31, 23, 59, 59, 123456789, time.FixedZone("", 5*3600))).String(); s != "1999-12-31T23:59:59.123456789" {
		t.Errorf("String() = %q", s)
	}
	utc := time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC)
	if got, ok := roundTrip(t, utc).(time.Time); !ok || !got.Equal(utc) || got.Location() != time.UTC {
		t.Errorf("a UTC time.Time came back as %#v", got)
	}
}

// A zero offset comes back as UTC, whatever the zone was called.
func TestRoundTripZeroOffsetIsUTC(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	in := time.Date(2024, 1, 15, 10, 0, 0, 0, london)
	got := roundTrip(t, in).(time.Time)
	if got.Location() != time.UTC || !got.Equal(in) {
		t.Errorf("got %v in %v, want the same instant in UTC", got, got.Location())
	}
}

func TestRoundTripMapOfEveryKind(t *testing.T) {
	row := map[string]any{
		"null": nil, "bool": true, "int": int64(math.MaxInt64), "float": -2.5, "string": "s",
		"bytes": []byte{0, 1}, "time": time.Date(2020, 5, 6, 7, 8, 9, 0, time.FixedZone("", 3600)),
		"decimal": Decimal("-1.10"), "list": []any{int64(1)}, "map": map[string]any{"k": "v"},
	}
	pm, err := MapToProto(row)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := proto.Marshal(pm)
	if err != nil {
		t.Fatal(err)
	}
	var back pluginv1.ValueMap
	if err := proto.Unmarshal(wire, &back); err != nil {
		t.Fatal(err)
	}
	got, err := MapFromProto(&back)
	if err != nil {
		t.Fatal(err)
	}
	gotTime, wantTime := got["time"].(time.Time), row["time"].(time.Time)
	if !gotTime.Equal(wantTime) || gotTime.Format(time.RFC3339) != wantTime.Format(time.RFC3339) {
		t.Errorf("time: got %v, want %v", gotTime, wantTime)
	}
	delete(got, "time")
	delete(row, "time")
	if !reflect.DeepEqual(got, row) {
		t.Errorf("got %#v\nwant %#v", got, row)
	}
}

func TestToProtoRefuses(t *testing.T) {
	deep := any("leaf")
	for i := 0; i < maxDepth+2; i++ {
		deep = []any{deep}
	}
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"unsupported type", struct{}{}, "unsupported value type"},
		{"invalid decimal", Decimal("12,5"), "not a number"},
		{"fraction is not a decimal", Decimal("1/3"), "not a number"},
		{"hex is not a decimal", Decimal("0x10"), "not a number"},
		{"empty decimal", Decimal(""), "not a number"},
		{"invalid UTF-8", "\xff\xfe", "not valid UTF-8"},
		{"invalid UTF-8 in list", []string{"ok", "\xc3"}, "not valid UTF-8"},
		{"invalid UTF-8 key", map[string]any{"\xff": int64(1)}, "not valid UTF-8"},
		{"nested unsupported", map[string]any{"a": []any{int64(1), make(chan int)}}, "a: [1]: unsupported"},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "outside years"},
		{"too deep", deep, "nested deeper"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ToProto(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestFromProtoRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   *pluginv1.Value
		want string
	}{
		{"bad decimal", &pluginv1.Value{Kind: &pluginv1.Value_Decimal{Decimal: "abc"}}, "not a number"},
		{"short object id", &pluginv1.Value{Kind: &pluginv1.Value_ObjectId{ObjectId: []byte{1, 2}}}, "want 12"},
		{"bad list element", &pluginv1.Value{Kind: &pluginv1.Value_List{List: &pluginv1.ValueList{Values: []*pluginv1.Value{
			{Kind: &pluginv1.Value_Decimal{Decimal: "x"}},
		}}}}, "[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromProto(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// A Value with no kind set (an older or broken peer) reads as NULL.
func TestFromProtoEmptyIsNull(t *testing.T) {
	for _, v := range []*pluginv1.Value{nil, {}} {
		got, err := FromProto(v)
		if err != nil || got != nil {
			t.Errorf("FromProto(%v) = %#v, %v; want nil", v, got, err)
		}
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		in    Decimal
		valid bool
	}{
		{"0", true}, {"-0", true}, {"+1", true}, {"12.3400", true}, {".5", true}, {"5.", true},
		{"1e10", true}, {"-1.5E-7", true}, {"123456789012345678901234567890.5", true},
		{"", false}, {"-", false}, {".", false}, {"1/3", false}, {"0x1F", false}, {"1e", false},
		{"NaN", false}, {"Inf", false}, {" 1", false}, {"1,5", false}, {"1.2.3", false},
	}
	for _, tc := range tests {
		if got := tc.in.Valid(); got != tc.valid {
			t.Errorf("Decimal(%q).Valid() = %v, want %v", tc.in, got, tc.valid)
		}
		r, ok := tc.in.Rat()
		if ok != tc.valid {
			t.Errorf("Decimal(%q).Rat() ok = %v, want %v", tc.in, ok, tc.valid)
		}
		if ok && r == nil {
			t.Errorf("Decimal(%q).Rat() = nil", tc.in)
		}
	}
	a, _ := Decimal("12.3400").Rat()
	b, _ := Decimal("1234e-2").Rat()
	if a.Cmp(b) != 0 {
		t.Errorf("12.3400 and 1234e-2 differ as numbers: %v %v", a, b)
	}
}

func TestObjectID(t *testing.T) {
	const hexID = "65a1f0c2e4b0a1b2c3d4e5f6"
	o, err := ParseObjectID(hexID)
	if err != nil {
		t.Fatal(err)
	}
	if o.String() != hexID {
		t.Errorf("String() = %s, want %s", o, hexID)
	}
	if !bytes.Equal(o[:1], []byte{0x65}) {
		t.Errorf("first byte %x, want 65", o[0])
	}
	for _, bad := range []string{"", "65a1", "zza1f0c2e4b0a1b2c3d4e5f6", hexID + "00"} {
		if _, err := ParseObjectID(bad); err == nil {
			t.Errorf("ParseObjectID(%q) accepted", bad)
		}
	}
}

func TestKeysSorted(t *testing.T) {
	got := Keys(map[string]int{"b": 1, "a": 2, "c": 3})
	if !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("Keys = %v", got)
	}
}

func TestLocalTimeText(t *testing.T) {
	in := Local(time.Date(2021, 1, 1, 1, 0, 0, 5e8, time.UTC))
	b, err := json.Marshal(map[string]any{"t": in})
	if err != nil || string(b) != `{"t":"2021-01-01T01:00:00.5"}` {
		t.Fatalf("json %s %v", b, err)
	}
	var back struct{ T LocalTime }
	if err := json.Unmarshal([]byte(`{"T":"2021-01-01T01:00:00.5"}`), &back); err != nil || back.T != in {
		t.Fatalf("back %v %v", back.T, err)
	}
	if err := json.Unmarshal([]byte(`{"T":"2021-01-01T01:00:00Z"}`), &back); err == nil {
		t.Fatal("a time with a zone was read as a time in no zone")
	}
}
