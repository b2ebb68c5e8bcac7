package value

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"time"
	"unicode/utf8"

	pluginv1 "github.com/lethehq/lethe/proto/plugin/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Decimal is an exact decimal number in text form, e.g. "-12.3400".
type Decimal string

// decimalSyntax is a decimal number in plain or exponent notation. It is
// stricter than big.Rat, which also takes fractions ("1/3") and hex.
var decimalSyntax = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// Valid reports whether d is a decimal number such as "-12.3400" or "1e-7".
func (d Decimal) Valid() bool { return decimalSyntax.MatchString(string(d)) }

// Rat returns d as an exact rational number, or false when d is not valid.
func (d Decimal) Rat() (*big.Rat, bool) {
	if !d.Valid() {
		return nil, false
	}
	return new(big.Rat).SetString(string(d))
}

// LocalTime is a date and time of day in no time zone: PostgreSQL's
// timestamp (without time zone) and date, MySQL's DATETIME and DATE, SQLite
// text without an offset. Unlike a time.Time it claims no zone, and it is
// written without one ("2021-01-01T01:00:00"), as the database holds it.
// The zero LocalTime is 0001-01-01T00:00:00.
type LocalTime struct{ t time.Time }

// Local returns the wall clock of t (its date and time of day, in t's own
// location) as a LocalTime.
func Local(t time.Time) LocalTime {
	return LocalTime{time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)}
}

// Time returns l as a time.Time in UTC with the same wall clock: what a
// driver takes for a column without a zone.
func (l LocalTime) Time() time.Time { return l.t }

// LocalLayout is the form of a LocalTime's String: ISO 8601 without a zone,
// with as many fractional digits as needed.
const LocalLayout = "2006-01-02T15:04:05.999999999"

// String returns l as "2021-01-01T01:00:00" (fractional seconds when there
// are any).
func (l LocalTime) String() string { return l.t.Format(LocalLayout) }

// MarshalText writes l as String does, so that encoding/json shows it as
// "2021-01-01T01:00:00", not as an empty object.
func (l LocalTime) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads the form MarshalText writes; text with a zone offset
// is refused (it is an instant, not a time in no zone).
func (l *LocalTime) UnmarshalText(b []byte) error {
	t, err := time.Parse(LocalLayout, string(b))
	if err != nil {
		return fmt.Errorf("a time in no zone is written like 2021-01-01T01:00:00: %w", err)
	}
	*l = Local(t)
	return nil
}

// ObjectID is a MongoDB ObjectId.
type ObjectID [12]byte

// String returns the 24-character hex form.
func (o ObjectID) String() string { return hex.EncodeToString(o[:]) }

// ParseObjectID parses the 24-character hex form.
func ParseObjectID(s string) (ObjectID, error) {
	var o ObjectID
	if len(s) != 24 {
		return o, fmt.Errorf("object id %q: want 24 hex characters", s)
	}
	if _, err := hex.Decode(o[:], []byte(s)); err != nil {
		return o, fmt.Errorf("object id %q: %w", s, err)
	}
	return o, nil
}

// maxDepth bounds nesting so a hostile or broken value cannot exhaust the stack.
const maxDepth = 100

// ToProto converts a Go value to a wire Value.
func ToProto(v any) (*pluginv1.Value, error) { return toProto(v, 0) }

func toProto(v any, depth int) (*pluginv1.Value, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("value nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return &pluginv1.Value{Kind: &pluginv1.Value_Null{}}, nil
	case bool:
		return &pluginv1.Value{Kind: &pluginv1.Value_Bool{Bool: x}}, nil
	case int64:
		return &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: x}}, nil
	case int:
		return &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: int64(x)}}, nil
	case int32:
		return &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: int64(x)}}, nil
	case int16:
		return &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: int64(x)}}, nil
	case int8:
		return &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: int64(x)}}, nil
	case uint:
		return toProto(uint64(x), depth)
	case uint32:
		return &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: int64(x)}}, nil
	case uint16:
		return &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: int64(x)}}, nil
	case uint8:
		return &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: int64(x)}}, nil
	case uint64:
		if x > 1<<63-1 {
			return &pluginv1.Value{Kind: &pluginv1.Value_Decimal{Decimal: fmt.Sprint(x)}}, nil
		}
		return &pluginv1.Value{Kind: &pluginv1.Value_Int{Int: int64(x)}}, nil
	case float64:
		return &pluginv1.Value{Kind: &pluginv1.Value_Float{Float: x}}, nil
	case float32:
		return &pluginv1.Value{Kind: &pluginv1.Value_Float{Float: float64(x)}}, nil
	case string:
		if !utf8.ValidString(x) {
			// The wire's strings are UTF-8; say so here rather than let the
			// whole batch fail to marshal.
			return nil, errors.New("string is not valid UTF-8; return it as []byte")
		}
		return &pluginv1.Value{Kind: &pluginv1.Value_String_{String_: x}}, nil
	case []byte:
		return &pluginv1.Value{Kind: &pluginv1.Value_Bytes{Bytes: x}}, nil
	case time.Time:
		ts := timestamppb.New(x)
		if err := ts.CheckValid(); err != nil {
			return nil, fmt.Errorf("time %s is outside years 1 to 9999: %w", x.Format(time.RFC3339), err)
		}
		_, off := x.Zone()
		o := int32(off)
		return &pluginv1.Value{Kind: &pluginv1.Value_Time{Time: ts}, TimeZoneOffsetSeconds: &o}, nil
	case LocalTime:
		// No zone on the wire: time_zone_offset_seconds stays unset (a
		// time.Time always sets it, so plugins of earlier SDKs, which sent
		// every time with an offset, keep their meaning).
		ts := timestamppb.New(x.t)
		if err := ts.CheckValid(); err != nil {
			return nil, fmt.Errorf("time %s is outside years 1 to 9999: %w", x, err)
		}
		return &pluginv1.Value{Kind: &pluginv1.Value_Time{Time: ts}}, nil
	case Decimal:
		if !x.Valid() {
			return nil, fmt.Errorf("decimal %q is not a number", string(x))
		}
		return &pluginv1.Value{Kind: &pluginv1.Value_Decimal{Decimal: string(x)}}, nil
	case ObjectID:
		return &pluginv1.Value{Kind: &pluginv1.Value_ObjectId{ObjectId: x[:]}}, nil
	case []any:
		l := &pluginv1.ValueList{Values: make([]*pluginv1.Value, len(x))}
		for i, e := range x {
			pv, err := toProto(e, depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			l.Values[i] = pv
		}
		return &pluginv1.Value{Kind: &pluginv1.Value_List{List: l}}, nil
	case []string:
		l := &pluginv1.ValueList{Values: make([]*pluginv1.Value, len(x))}
		for i, e := range x {
			if !utf8.ValidString(e) {
				return nil, fmt.Errorf("[%d]: string is not valid UTF-8; return it as []byte", i)
			}
			l.Values[i] = &pluginv1.Value{Kind: &pluginv1.Value_String_{String_: e}}
		}
		return &pluginv1.Value{Kind: &pluginv1.Value_List{List: l}}, nil
	case map[string]any:
		m, err := mapToProto(x, depth+1)
		if err != nil {
			return nil, err
		}
		return &pluginv1.Value{Kind: &pluginv1.Value_Map{Map: m}}, nil
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// MapToProto converts a map of Go values.
func MapToProto(m map[string]any) (*pluginv1.ValueMap, error) { return mapToProto(m, 0) }

func mapToProto(m map[string]any, depth int) (*pluginv1.ValueMap, error) {
	out := &pluginv1.ValueMap{Fields: make(map[string]*pluginv1.Value, len(m))}
	for k, e := range m {
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("field name %q is not valid UTF-8", k)
		}
		pv, err := toProto(e, depth)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out.Fields[k] = pv
	}
	return out, nil
}

// FromProto converts a wire Value to its Go value.
func FromProto(v *pluginv1.Value) (any, error) { return fromProto(v, 0) }

func fromProto(v *pluginv1.Value, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("value nested deeper than %d levels", maxDepth)
	}
	if v == nil {
		return nil, nil
	}
	switch k := v.Kind.(type) {
	case nil, *pluginv1.Value_Null:
		return nil, nil
	case *pluginv1.Value_Bool:
		return k.Bool, nil
	case *pluginv1.Value_Int:
		return k.Int, nil
	case *pluginv1.Value_Float:
		return k.Float, nil
	case *pluginv1.Value_String_:
		return k.String_, nil
	case *pluginv1.Value_Bytes:
		if k.Bytes == nil {
			return []byte{}, nil
		}
		return k.Bytes, nil
	case *pluginv1.Value_Time:
		if err := k.Time.CheckValid(); err != nil {
			return nil, fmt.Errorf("timestamp: %w", err)
		}
		t := k.Time.AsTime()
		if v.TimeZoneOffsetSeconds == nil {
			return Local(t), nil // a time in no zone
		}
		off := int(*v.TimeZoneOffsetSeconds)
		if off == 0 {
			return t.UTC(), nil
		}
		return t.In(time.FixedZone("", off)), nil
	case *pluginv1.Value_Decimal:
		d := Decimal(k.Decimal)
		if !d.Valid() {
			return nil, fmt.Errorf("decimal %q is not a number", k.Decimal)
		}
		return d, nil
	case *pluginv1.Value_ObjectId:
		var o ObjectID
		if len(k.ObjectId) != len(o) {
			return nil, fmt.Errorf("object id of %d bytes, want 12", len(k.ObjectId))
		}
		copy(o[:], k.ObjectId)
		return o, nil
	case *pluginv1.Value_List:
		vals := k.List.GetValues()
		out := make([]any, len(vals))
		for i, e := range vals {
			g, err := fromProto(e, depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = g
		}
		return out, nil
	case *pluginv1.Value_Map:
		return mapFromProto(k.Map.GetFields(), depth+1)
	}
	return nil, fmt.Errorf("unknown value kind %T", v.Kind)
}

// MapFromProto converts a wire map to Go values.
func MapFromProto(m *pluginv1.ValueMap) (map[string]any, error) {
	return mapFromProto(m.GetFields(), 0)
}

func mapFromProto(fields map[string]*pluginv1.Value, depth int) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	for k, e := range fields {
		g, err := fromProto(e, depth)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = g
	}
	return out, nil
}

// Keys returns the keys of m sorted, for deterministic output.
func Keys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
