package execute

import (
	"encoding/hex"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/lethehq/lethe/sdk/value"
)

// cast converts a value found in a parent's rows (or an identity) to the
// type declared for the field it will filter, as the reference system does
// (in Fidesops), with its quirks fixed: a string field keeps
// "0" and false as "0" and "false" (the reference dropped every falsy
// value), and an integer field refuses 1.9 instead of truncating it to 1.
// ok is false when the value has no representation in that type; such
// values are dropped from the query and counted.
func cast(typ string, v any) (out any, ok bool) {
	if v == nil {
		return nil, false
	}
	switch typ {
	case "", "object":
		// Undeclared types pass through; object fields cannot filter.
		if typ == "object" {
			return nil, false
		}
		switch v.(type) {
		case []any, map[string]any:
			return nil, false
		}
		return v, true
	case "string":
		switch x := v.(type) {
		case string:
			return x, x != ""
		case int64:
			return strconv.FormatInt(x, 10), true
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), true
		case bool:
			return strconv.FormatBool(x), true
		case value.Decimal:
			return string(x), true
		case value.ObjectID:
			return x.String(), true
		case time.Time:
			return x.Format(time.RFC3339Nano), true
		case value.LocalTime:
			return x.String(), true
		}
		return nil, false
	case "integer":
		switch x := v.(type) {
		case int64:
			return x, true
		case float64:
			if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
				return int64(x), true
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, true
			}
		case value.Decimal:
			if r, ok := x.Rat(); ok && r.IsInt() && r.Num().IsInt64() {
				return r.Num().Int64(), true
			}
		case bool:
			if x {
				return int64(1), true
			}
			return int64(0), true
		}
		return nil, false
	case "float":
		switch x := v.(type) {
		case float64:
			return x, !math.IsNaN(x)
		case int64:
			return float64(x), true
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && !math.IsNaN(f) {
				return f, true
			}
		case value.Decimal:
			if r, ok := x.Rat(); ok {
				f, _ := new(big.Rat).Set(r).Float64()
				return f, true
			}
		}
		return nil, false
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, true
		case int64:
			if x == 0 || x == 1 {
				return x == 1, true
			}
		case string:
			switch x {
			case "true", "True":
				return true, true
			case "false", "False":
				return false, true
			}
		}
		return nil, false
	case "object_id":
		switch x := v.(type) {
		case value.ObjectID:
			return x, true
		case string:
			if id, err := value.ParseObjectID(x); err == nil {
				return id, true
			}
		}
		return nil, false
	}
	return nil, false
}

// valueKey is a comparable key identifying a cast value, for
// de-duplication. Values of different Go types never share a key.
func valueKey(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return "s" + x, true
	case int64:
		return "i" + strconv.FormatInt(x, 10), true
	case float64:
		return "f" + strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return "b" + strconv.FormatBool(x), true
	case value.Decimal:
		return "d" + string(x), true
	case value.ObjectID:
		return "o" + x.String(), true
	case time.Time:
		return "t" + x.UTC().Format(time.RFC3339Nano), true
	case value.LocalTime:
		return "l" + x.String(), true
	case []byte:
		return "x" + hex.EncodeToString(x), true
	}
	return "", false
}

// valueSet is an insertion-ordered set of cast values.
type valueSet struct {
	seen   map[string]struct{}
	values []any
}

func (s *valueSet) add(v any) {
	k, ok := valueKey(v)
	if !ok {
		return
	}
	if s.seen == nil {
		s.seen = map[string]struct{}{}
	}
	if _, dup := s.seen[k]; dup {
		return
	}
	s.seen[k] = struct{}{}
	s.values = append(s.values, v)
}

func (s *valueSet) has(v any) bool {
	k, ok := valueKey(v)
	if !ok {
		return false
	}
	_, hit := s.seen[k]
	return hit
}

func (s *valueSet) len() int {
	if s == nil {
		return 0
	}
	return len(s.values)
}
