package postgres

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/lethehq/lethe/sdk/value"
)

// kind is how the connector reads and writes a column.
type kind int

const (
	kAny kind = iota
	kInt
	kFloat
	kDecimal
	kBool
	kTime      // timestamptz: an instant
	kLocalTime // timestamp without time zone, date: wall clock, kept in UTC
	kBytes
	kText
	kJSON
	kJSONB
	kArray
)

// column is a column's kind and its PostgreSQL type name.
type column struct {
	kind kind
	udt  string
}

// typeOf maps information_schema's data_type and udt_name to a column.
func typeOf(dataType, udt string) column {
	c := column{udt: udt}
	switch udt {
	case "int2", "int4", "int8":
		c.kind = kInt
	case "float4", "float8":
		c.kind = kFloat
	case "numeric":
		c.kind = kDecimal
	case "bool":
		c.kind = kBool
	case "timestamptz":
		c.kind = kTime
	case "timestamp", "date":
		c.kind = kLocalTime
	case "bytea":
		c.kind = kBytes
	case "text", "varchar", "bpchar", "name", "citext", "uuid":
		c.kind = kText
	case "json":
		c.kind = kJSON
	case "jsonb":
		c.kind = kJSONB
	default:
		if dataType == "ARRAY" {
			c.kind = kArray
		}
	}
	return c
}

// bind converts a Go value to what pgx sends for a column of kind k.
func bind(v any, c column) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		switch c.kind {
		case kInt:
			// Core may send a key as text; compare numbers as numbers.
			n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("a text value is not an integer (column type %s; the value is not shown, it may be personal data)", c.udt)
			}
			return n, nil
		case kDecimal:
			return numeric(x)
		case kFloat:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("a text value is not a number (column type %s; the value is not shown, it may be personal data)", c.udt)
			}
			return f, nil
		case kBool:
			b, err := strconv.ParseBool(x)
			if err != nil {
				return nil, fmt.Errorf("a text value is not a boolean (column type %s; the value is not shown, it may be personal data)", c.udt)
			}
			return b, nil
		case kJSON, kJSONB:
			return jsonText(x)
		}
		return x, nil
	case int64:
		switch c.kind {
		case kDecimal:
			return pgtype.Numeric{Int: big.NewInt(x), Valid: true}, nil
		case kText:
			return strconv.FormatInt(x, 10), nil
		case kJSON, kJSONB:
			return jsonText(x)
		}
		return x, nil
	case float64:
		switch c.kind {
		case kText:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		case kJSON, kJSONB:
			return jsonText(x)
		}
		return x, nil
	case bool:
		if c.kind == kJSON || c.kind == kJSONB {
			return jsonText(x)
		}
		return x, nil
	case []byte:
		return x, nil
	case value.Decimal:
		switch c.kind {
		case kText:
			return string(x), nil
		case kJSON, kJSONB:
			return jsonText(x)
		}
		return numeric(string(x))
	case value.ObjectID:
		return x.String(), nil
	case time.Time:
		if c.kind == kLocalTime {
			return x.UTC(), nil
		}
		if c.kind == kText {
			return x.Format(time.RFC3339Nano), nil
		}
		return x, nil
	case value.LocalTime:
		switch c.kind {
		case kText:
			return x.String(), nil
		case kJSON, kJSONB:
			return jsonText(x)
		}
		// pgx sends a UTC time.Time to a timestamp column as its wall clock.
		return x.Time(), nil
	case map[string]any, []any:
		if c.kind == kArray {
			return x, nil
		}
		return jsonText(x)
	}
	return nil, fmt.Errorf("cannot store a %T", v)
}

// numeric parses a decimal for a numeric parameter.
func numeric(s string) (pgtype.Numeric, error) {
	var n pgtype.Numeric
	if err := n.Scan(strings.TrimSpace(s)); err != nil {
		return n, errors.New("a text value is not a decimal number (the value is not shown, it may be personal data)")
	}
	return n, nil
}

// jsonText encodes a JSON document as text, decimals as exact numbers.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return "", fmt.Errorf("encode JSON: %w", err)
	}
	return string(b), nil
}

func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = jsonable(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = jsonable(e)
		}
		return l
	case value.Decimal:
		if r, ok := x.Rat(); ok {
			if r.IsInt() {
				return json.Number(r.RatString())
			}
			if s := strings.TrimLeft(string(x), "+"); json.Valid([]byte(s)) {
				return json.Number(s)
			}
			return json.Number(strings.TrimRight(r.FloatString(40), "0"))
		}
		return string(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case value.LocalTime:
		return x.String()
	case value.ObjectID:
		return x.String()
	}
	return v
}

// decode converts what pgx returned for a column to Lethe's Go values.
func decode(v any, c column) any {
	switch x := v.(type) {
	case nil:
		return nil
	case int64, float64, bool, []byte, map[string]any:
		return x
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case float32:
		return float64(x)
	case string:
		if !utf8.ValidString(x) {
			return []byte(x)
		}
		if c.kind == kJSON || c.kind == kJSONB {
			var out any
			dec := json.NewDecoder(strings.NewReader(x))
			dec.UseNumber()
			if dec.Decode(&out) == nil {
				return fromJSON(out)
			}
		}
		return x
	case time.Time:
		if c.kind == kLocalTime {
			// timestamp without time zone, date: pgx reads the wall
			// clock into UTC; the value is in no zone.
			return value.Local(x)
		}
		return x.UTC()
	case pgtype.Numeric:
		return decimal(x)
	case [16]byte: // uuid
		return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16])
	case netip.Prefix:
		return x.String()
	case netip.Addr:
		return x.String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = decode(e, column{kind: kAny})
		}
		return out
	case driver.Valuer:
		if dv, err := x.Value(); err == nil {
			return decode(dv, column{kind: kAny})
		}
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// decimal writes a numeric's exact digits; NaN and infinities, which no
// decimal can hold, become float64.
func decimal(n pgtype.Numeric) any {
	switch {
	case !n.Valid:
		return nil
	case n.NaN:
		return math.NaN()
	case n.InfinityModifier == pgtype.Infinity:
		return math.Inf(1)
	case n.InfinityModifier == pgtype.NegativeInfinity:
		return math.Inf(-1)
	}
	digits := n.Int.String()
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	if n.Exp >= 0 {
		digits += strings.Repeat("0", int(n.Exp))
	} else {
		frac := int(-n.Exp)
		if len(digits) <= frac {
			digits = strings.Repeat("0", frac-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-frac] + "." + digits[len(digits)-frac:]
	}
	if neg {
		digits = "-" + digits
	}
	return value.Decimal(digits)
}

// fromJSON turns decoded JSON numbers into int64 when whole and in range,
// float64 otherwise.
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		if !strings.ContainsAny(x.String(), ".eE") {
			return value.Decimal(x.String()) // a whole number beyond int64
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return value.Decimal(x.String())
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSON(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fromJSON(e)
		}
		return x
	}
	return v
}
