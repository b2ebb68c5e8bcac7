package mysql

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lethehq/lethe/sdk/value"
)

// kind is how the connector reads and writes a column.
type kind int

const (
	kAny kind = iota
	kInt
	kUint
	kFloat
	kDecimal
	kBool
	kTime      // timestamp: an instant (the session runs in UTC)
	kLocalTime // datetime, date: a wall clock in no zone
	kBytes
	kText
	kJSON
)

// column is a column's kind and its declared type.
type column struct {
	kind kind
	decl string
}

// typeOf maps information_schema's DATA_TYPE and COLUMN_TYPE to a column.
func typeOf(dataType, colType string) column {
	c := column{decl: colType}
	ct := strings.ToLower(colType)
	switch strings.ToLower(dataType) {
	case "tinyint":
		if strings.HasPrefix(ct, "tinyint(1)") {
			c.kind = kBool
		} else {
			c.kind = kInt
		}
	case "smallint", "mediumint", "int", "integer", "bigint", "year":
		c.kind = kInt
		if strings.Contains(ct, "unsigned") && strings.HasPrefix(ct, "bigint") {
			c.kind = kUint
		}
	case "bool", "boolean":
		c.kind = kBool
	case "float", "double", "real":
		c.kind = kFloat
	case "decimal", "numeric":
		c.kind = kDecimal
	case "timestamp":
		c.kind = kTime
	case "date", "datetime":
		c.kind = kLocalTime
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		c.kind = kBytes
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		c.kind = kText
	case "json":
		c.kind = kJSON
	}
	return c
}

// bind converts a Go value to what the driver sends for column c.
func bind(v any, c column) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		switch c.kind {
		case kInt, kUint:
			// Core may send a key as text; compare numbers as numbers.
			return bindInt(x, c)
		case kBool:
			b, err := strconv.ParseBool(x)
			if err != nil {
				return nil, fmt.Errorf("a text value is not a boolean (column type %s; the value is not shown, it may be personal data)", c.decl)
			}
			return b, nil
		case kJSON:
			return jsonText(x)
		}
		return x, nil
	case int64:
		switch c.kind {
		case kJSON:
			return jsonText(x)
		case kText:
			// A number compared with a text column is compared as a
			// double: 'abc' = 0 holds. Text against text matches only
			// the text itself.
			return strconv.FormatInt(x, 10), nil
		}
		return x, nil
	case float64:
		switch c.kind {
		case kJSON:
			return jsonText(x)
		case kText:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
		return x, nil
	case []byte:
		if c.kind == kJSON {
			return jsonText(x)
		}
		return x, nil
	case bool:
		switch c.kind {
		case kJSON:
			return jsonText(x)
		case kText:
			// What MySQL stores for TRUE and FALSE in a text column; bound
			// as a number, false would match every non-numeric text.
			if x {
				return "1", nil
			}
			return "0", nil
		}
		return x, nil
	case value.Decimal:
		switch c.kind {
		case kJSON:
			return jsonText(x)
		case kInt, kUint:
			if !strings.ContainsAny(string(x), ".eE") {
				return bindInt(string(x), c)
			}
		}
		return string(x), nil
	case value.ObjectID:
		return x.String(), nil
	case time.Time:
		if c.kind == kText {
			return x.UTC().Format(time.RFC3339Nano), nil
		}
		return x.UTC(), nil
	case value.LocalTime:
		switch c.kind {
		case kText:
			return x.String(), nil
		case kJSON:
			return jsonText(x)
		}
		// The driver writes a UTC time.Time as its wall clock.
		return x.Time(), nil
	case map[string]any, []any:
		return jsonText(x)
	}
	return nil, fmt.Errorf("cannot store a %T", v)
}

// bindInt parses s for the integer column c: int64, or uint64 for an
// unsigned BIGINT beyond int64.
func bindInt(s string, c column) (any, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+")
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if c.kind == kUint {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n, nil
		}
	}
	return nil, fmt.Errorf("a text value is not an integer in the range of column type %s (the value is not shown, it may be personal data)", c.decl)
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

// decode converts what the driver returned for column c to Lethe's values.
func decode(v any, c column) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		if c.kind == kLocalTime {
			return value.Local(x)
		}
		return x.UTC()
	case float32:
		return float64(x)
	case uint64:
		if x > math.MaxInt64 {
			return value.Decimal(strconv.FormatUint(x, 10))
		}
		v = int64(x)
	case int32:
		v = int64(x)
	case string:
		v = []byte(x)
	}
	switch c.kind {
	case kBool:
		switch x := v.(type) {
		case int64:
			return x != 0
		case []byte:
			if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
				return n != 0
			}
		}
	case kInt:
		if b, ok := v.([]byte); ok {
			if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
				return n
			}
		}
	case kUint:
		if b, ok := v.([]byte); ok {
			if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
				return n
			}
			return value.Decimal(b)
		}
	case kFloat:
		if b, ok := v.([]byte); ok {
			bits := 64
			if strings.HasPrefix(strings.ToLower(c.decl), "float") {
				bits = 32 // the float32 the column holds, widened exactly
			}
			if f, err := strconv.ParseFloat(string(b), bits); err == nil {
				return f
			}
		}
	case kDecimal:
		switch x := v.(type) {
		case []byte:
			if d := value.Decimal(x); d.Valid() {
				return d
			}
		case int64:
			return value.Decimal(strconv.FormatInt(x, 10))
		}
	case kTime, kLocalTime:
		if b, ok := v.([]byte); ok {
			for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02"} {
				if t, err := time.ParseInLocation(layout, string(b), time.UTC); err == nil {
					if c.kind == kLocalTime {
						return value.Local(t)
					}
					return t
				}
			}
		}
	case kBytes:
		if b, ok := v.([]byte); ok {
			return append([]byte(nil), b...)
		}
	case kJSON:
		if b, ok := v.([]byte); ok {
			var out any
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.UseNumber()
			if dec.Decode(&out) == nil {
				return fromJSON(out)
			}
		}
	}
	if b, ok := v.([]byte); ok {
		if utf8.Valid(b) {
			return string(b)
		}
		return append([]byte(nil), b...)
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
