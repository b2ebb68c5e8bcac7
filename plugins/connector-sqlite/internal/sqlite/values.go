package sqlite

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lethehq/lethe/sdk/value"
)

// colType is how the connector reads and writes a column, from its
// declared type.
type colType int

const (
	tAny colType = iota
	tInt
	tFloat
	tBool
	tDecimal
	tTime
	tJSON
	tBlob
	tText
)

// typeOf maps a declared type to a colType. The order matters: BOOLEAN is
// not an INT, DECIMAL_TEXT is a decimal, DATETIME is a time.
func typeOf(decl string) colType {
	d := strings.ToUpper(decl)
	switch {
	case strings.Contains(d, "BOOL"):
		return tBool
	case strings.Contains(d, "DECIMAL"), strings.Contains(d, "NUMERIC"):
		return tDecimal
	case strings.Contains(d, "INT"):
		return tInt
	case strings.Contains(d, "REAL"), strings.Contains(d, "FLOA"), strings.Contains(d, "DOUB"):
		return tFloat
	case strings.Contains(d, "DATE"), strings.Contains(d, "TIME"):
		return tTime
	case strings.Contains(d, "JSON"):
		return tJSON
	case strings.Contains(d, "BLOB"):
		return tBlob
	case strings.Contains(d, "CHAR"), strings.Contains(d, "TEXT"), strings.Contains(d, "CLOB"):
		return tText
	}
	return tAny
}

// timeLayouts are the text forms of a time with a zone (an instant) that a
// time column is read in: what this connector writes first, then others.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999 -0700 MST",
}

// localLayouts are the text forms of a time in no zone: SQLite's own date
// functions' forms. They are read as value.LocalTime, never as UTC.
var localLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// localLayout is how a time in no zone is written: SQLite's datetime() form.
const localLayout = "2006-01-02 15:04:05.999999999"

// jsonNumber is the syntax of a JSON number.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// bind converts a Go value to what the driver stores in a column of type t.
func bind(v any, t colType) (any, error) {
	switch x := v.(type) {
	case nil, int64, float64, []byte:
		return x, nil
	case string:
		if t == tInt {
			// Core may send a key as text; compare numbers as numbers.
			if n, err := strconv.ParseInt(x, 10, 64); err == nil {
				return n, nil
			}
		}
		return x, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case value.Decimal:
		return string(x), nil
	case value.ObjectID:
		return x.String(), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case value.LocalTime:
		return x.Time().Format(localLayout), nil
	case map[string]any, []any:
		return jsonText(x)
	}
	return nil, fmt.Errorf("cannot store a %T", v)
}

// jsonText encodes a document; values JSON has no type for become strings
// (decimals stay numbers, so that they keep every digit).
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
		if jsonNumber.MatchString(string(x)) {
			return json.Number(x) // every digit kept
		}
		if r, ok := x.Rat(); ok {
			// "5.", ".5" and "+1" are decimals but not JSON numbers.
			if r.IsInt() {
				return json.Number(r.RatString())
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

// decode converts what the driver returned to the column's Go type. A
// value that does not fit the declared type comes back as stored.
func decode(v any, t colType) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if !utf8.ValidString(x) {
			return []byte(x)
		}
	}
	switch t {
	case tInt:
		if s, ok := v.(string); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n
			}
		}
	case tFloat:
		switch x := v.(type) {
		case int64:
			return float64(x)
		case string:
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return f
			}
		}
	case tBool:
		switch x := v.(type) {
		case int64:
			return x != 0
		case float64:
			return x != 0
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b
			}
		}
	case tDecimal:
		var d value.Decimal
		switch x := v.(type) {
		case string:
			d = value.Decimal(strings.TrimSpace(x))
		case int64:
			d = value.Decimal(strconv.FormatInt(x, 10))
		case float64:
			if !math.IsInf(x, 0) && !math.IsNaN(x) {
				d = value.Decimal(strconv.FormatFloat(x, 'f', -1, 64))
			}
		}
		if d.Valid() {
			return d
		}
	case tTime:
		// Access selects time columns as +"col", so that the text comes
		// here unparsed and a time without a zone stays without one.
		switch x := v.(type) {
		case string:
			for _, layout := range timeLayouts {
				if ts, err := time.Parse(layout, x); err == nil {
					return ts
				}
			}
			for _, layout := range localLayouts {
				if ts, err := time.Parse(layout, x); err == nil {
					return value.Local(ts)
				}
			}
		case time.Time:
			// Parsed by the driver, which reads text without a zone as
			// UTC: the zone, if the text had one, is lost.
			return x
		}
	case tJSON:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		default:
			return v
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var out any
		if err := dec.Decode(&out); err == nil && !dec.More() {
			return fromJSON(out)
		}
	case tBlob:
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	case tText:
		if b, ok := v.([]byte); ok && utf8.Valid(b) {
			return string(b)
		}
	}
	return v
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
			// A whole number beyond int64: keep every digit.
			return value.Decimal(x.String())
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
