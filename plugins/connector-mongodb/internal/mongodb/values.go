package mongodb

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/lethehq/lethe/sdk/value"
)

// Values read from MongoDB become the Go types of package value:
//
//	BSON type                     Go value
//	double                        float64 (bit for bit, NaN and ±Inf too)
//	int32, int64                  int64
//	decimal128                    value.Decimal (every digit); NaN and ±Inf as float64
//	string, symbol                string ([]byte when not valid UTF-8)
//	bool                          bool
//	date                          time.Time, UTC, millisecond precision
//	objectId                      value.ObjectID
//	binData (any subtype)         []byte
//	null, undefined               nil
//	embedded document             map[string]any
//	array                         []any
//	regex, javascript, code w/
//	scope, dbPointer, timestamp,
//	minKey, maxKey                their canonical Extended JSON document as a
//	                              map, e.g. {"$timestamp": {"t": 1, "i": 2}}
//
// Values written to MongoDB (filter values, keys, masked values) go the
// other way: int64 as int64, float64 as double, value.Decimal as decimal128
// (refused when it does not fit exactly), time.Time as date (truncated to
// the millisecond), value.ObjectID as objectId, []byte as binData subtype 0,
// maps as documents with their keys sorted, lists as arrays.

// minTime and maxTime bound the dates a Lethe value can carry.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// maxDepth bounds nesting, as package value does.
const maxDepth = 100

// fromRow converts one document read from the server to a row. The
// document is validated once, whole: the accessors below assume it is
// well formed.
func fromRow(doc bson.Raw) (map[string]any, error) {
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("malformed BSON document: %w", err)
	}
	return fromDocument(doc, 0)
}

// fromDocument converts a BSON document to a row or nested map.
func fromDocument(doc bson.Raw, depth int) (map[string]any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("document nested deeper than %d levels", maxDepth)
	}
	elems, err := doc.Elements()
	if err != nil {
		return nil, fmt.Errorf("malformed BSON document: %w", err)
	}
	out := make(map[string]any, len(elems))
	for _, e := range elems {
		k, err := e.KeyErr()
		if err != nil {
			return nil, fmt.Errorf("malformed BSON document: %w", err)
		}
		v, err := fromValue(e.Value(), depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// fromValue converts one BSON value to its Go value. Binary data and
// strings are copied: the cursor reuses its buffer.
func fromValue(rv bson.RawValue, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("value nested deeper than %d levels", maxDepth)
	}
	switch rv.Type {
	case bson.TypeDouble:
		return rv.Double(), nil
	case bson.TypeInt32:
		return int64(rv.Int32()), nil
	case bson.TypeInt64:
		return rv.Int64(), nil
	case bson.TypeDecimal128:
		return fromDecimal(rv.Decimal128()), nil
	case bson.TypeString:
		return text(rv.StringValue()), nil
	case bson.TypeSymbol:
		return text(rv.Symbol()), nil
	case bson.TypeBoolean:
		return rv.Boolean(), nil
	case bson.TypeDateTime:
		ms := rv.DateTime()
		t := time.UnixMilli(ms).UTC()
		if t.Before(minTime) || t.After(maxTime) {
			return nil, fmt.Errorf("date %d ms from 1970 is outside years 1 to 9999, which Lethe cannot carry", ms)
		}
		return t, nil
	case bson.TypeObjectID:
		return value.ObjectID(rv.ObjectID()), nil
	case bson.TypeBinary:
		_, data := rv.Binary()
		return append([]byte{}, data...), nil
	case bson.TypeNull, bson.TypeUndefined:
		return nil, nil
	case bson.TypeEmbeddedDocument:
		return fromDocument(rv.Document(), depth)
	case bson.TypeArray:
		vals, err := rv.Array().Values()
		if err != nil {
			return nil, fmt.Errorf("malformed BSON array: %w", err)
		}
		out := make([]any, len(vals))
		for i, e := range vals {
			v, err := fromValue(e, depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	case bson.TypeRegex:
		p, o := rv.Regex()
		return map[string]any{"$regularExpression": map[string]any{"pattern": text(p), "options": o}}, nil
	case bson.TypeJavaScript:
		return map[string]any{"$code": text(rv.JavaScript())}, nil
	case bson.TypeCodeWithScope:
		code, scope := rv.CodeWithScope()
		s, err := fromDocument(scope, depth+1)
		if err != nil {
			return nil, fmt.Errorf("$scope: %w", err)
		}
		return map[string]any{"$code": text(code), "$scope": s}, nil
	case bson.TypeDBPointer:
		ns, id := rv.DBPointer()
		return map[string]any{"$dbPointer": map[string]any{"$ref": text(ns), "$id": value.ObjectID(id)}}, nil
	case bson.TypeTimestamp:
		t, i := rv.Timestamp()
		return map[string]any{"$timestamp": map[string]any{"t": int64(t), "i": int64(i)}}, nil
	case bson.TypeMinKey:
		return map[string]any{"$minKey": int64(1)}, nil
	case bson.TypeMaxKey:
		return map[string]any{"$maxKey": int64(1)}, nil
	}
	return nil, fmt.Errorf("unsupported BSON type 0x%02x", byte(rv.Type))
}

// text returns s, or its bytes when it is not valid UTF-8 (the wire's
// strings must be).
func text(s string) any {
	if utf8.ValidString(s) {
		return s
	}
	return []byte(s)
}

// fromDecimal returns d as an exact value.Decimal; NaN and infinities,
// which a decimal cannot spell, become float64.
func fromDecimal(d bson.Decimal128) any {
	if _, _, err := d.BigInt(); err != nil {
		switch {
		case errors.Is(err, bson.ErrParseInf):
			return math.Inf(1)
		case errors.Is(err, bson.ErrParseNegInf):
			return math.Inf(-1)
		default:
			return math.NaN()
		}
	}
	return value.Decimal(d.String())
}

// toBSON converts a Go value of package value to what the driver writes.
func toBSON(v any) (any, error) { return toBSONDepth(v, 0) }

func toBSONDepth(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("value nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool, int64, float64, string:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		return toBSONDepth(uint64(x), depth)
	case uint64:
		if x > math.MaxInt64 {
			return toBSONDepth(value.Decimal(strconv.FormatUint(x, 10)), depth)
		}
		return int64(x), nil
	case float32:
		return float64(x), nil
	case []byte:
		if x == nil {
			x = []byte{}
		}
		return bson.Binary{Subtype: bson.TypeBinaryGeneric, Data: x}, nil
	case time.Time:
		if x.Before(minTime) || x.After(maxTime) {
			return nil, errors.New("a time value is outside years 1 to 9999 (the value is not shown, it may be personal data)")
		}
		return bson.NewDateTimeFromTime(x), nil
	case value.LocalTime:
		// BSON has no date-time without a zone, and a BSON date is an
		// instant: the text form keeps "no zone" (a key joined from a SQL
		// timestamp without time zone, for example).
		return x.String(), nil
	case value.Decimal:
		if !x.Valid() {
			return nil, errors.New("a decimal value is not a number (the value is not shown, it may be personal data)")
		}
		d, err := bson.ParseDecimal128(string(x))
		if err != nil {
			return nil, fmt.Errorf("decimal %s does not fit a decimal128 exactly (34 significant digits, exponent -6176 to 6111)", string(x))
		}
		return d, nil
	case value.ObjectID:
		return bson.ObjectID(x), nil
	case bson.ObjectID:
		return x, nil
	case []any:
		out := make(bson.A, len(x))
		for i, e := range x {
			b, err := toBSONDepth(e, depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = b
		}
		return out, nil
	case []string:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(bson.D, 0, len(x))
		for _, k := range keys {
			b, err := toBSONDepth(x[k], depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out = append(out, bson.E{Key: k, Value: b})
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// matchValues converts filter or key values to BSON and adds, for each
// value that spells an ObjectId, its other spelling: a 24-hex-digit string
// also matches the ObjectId with those bytes, and a value.ObjectID also
// matches its hex string. Datasets often declare an ObjectId field as a
// string (or the reverse), and references carry ids in either form.
func matchValues(vals []any) (bson.A, error) {
	out := make(bson.A, 0, len(vals))
	for _, v := range vals {
		b, err := toBSON(v)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
		switch x := v.(type) {
		case string:
			if id, err := value.ParseObjectID(x); err == nil {
				out = append(out, bson.ObjectID(id))
			}
		case value.ObjectID:
			out = append(out, x.String())
		}
	}
	return out, nil
}
