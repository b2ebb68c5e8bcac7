package execute

import (
	"slices"
	"strconv"
	"strings"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/sdk/connector"
)

// Nested documents and arrays, as the reference system treats them
// (fidesops-behaviour.md 1.3 and 2.4):
//
//   - The values at a path are gathered by walking maps by key and lists
//     element by element, at any depth, into one flat list (collect).
//   - A row found because an element of an array matched (an "entry point"
//     array) keeps, for access, only its matching elements, and erasure
//     masks only those, unless the field says return_all_elements. The
//     engine records the matching positions with the row (matchedKey) when
//     it is found, so that downstream inputs, the package and erasure all
//     see the same elements, and indices stay those of the database.

// collect calls fn with every non-list value found at path in v.
func collect(v any, path []string, fn func(any)) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			collect(e, path, fn)
		}
		return
	case map[string]any:
		if len(path) == 0 {
			return // an object where a scalar was expected
		}
		if child, ok := x[path[0]]; ok {
			collect(child, path[1:], fn)
		}
		return
	}
	if len(path) == 0 && v != nil {
		fn(v)
	}
}

// arrayPrefix returns how many segments of path lead to the first array
// declared along it (1 for a "tags" string[] field, 1 for "items.sku" when
// items is object[]), or 0 when no field on the path is an array.
func arrayPrefix(c *dataset.Collection, path dataset.Path) int {
	fields := c.Fields
	for i, seg := range path {
		var f *dataset.Field
		for _, cand := range fields {
			if cand.Name == seg {
				f = cand
				break
			}
		}
		if f == nil {
			return 0
		}
		if f.Array {
			return i + 1
		}
		fields = f.Fields
	}
	return 0
}

// returnsAll reports whether a field on path asks for every element.
func returnsAll(c *dataset.Collection, path dataset.Path) bool {
	for i := range path {
		if f := c.Field(path[:i+1]); f != nil && f.ReturnAllElements {
			return true
		}
	}
	return false
}

// entryArray is a filter whose field lies in an array: rows keep only the
// elements where it matched.
type entryArray struct {
	prefix []string // path to the array
	rest   []string // path inside each element
	typ    string   // the filter field's declared type
	values *valueSet
}

// markMatches records on row the positions of the elements of each entry
// array that hold one of the filter's values. Positions of several filters
// into the same array are merged.
func markMatches(row connector.Row, arrays []entryArray) {
	if len(arrays) == 0 {
		return
	}
	marks := map[string]any{}
	for _, ea := range arrays {
		key := strings.Join(ea.prefix, ".")
		var idx []any
		if prev, ok := marks[key].([]any); ok {
			idx = prev
		}
		arr, _ := lookup(row, ea.prefix).([]any)
		for i, el := range arr {
			hit := false
			collect(el, ea.rest, func(v any) {
				if c, ok := cast(ea.typ, v); ok && ea.values.has(c) {
					hit = true
				}
			})
			if hit && !slices.Contains(idx, any(int64(i))) {
				idx = append(idx, int64(i))
			}
		}
		if idx == nil {
			idx = []any{}
		}
		slices.SortFunc(idx, func(a, b any) int { return int(a.(int64) - b.(int64)) })
		marks[key] = idx
	}
	row[matchedKey] = marks
}

// lookup returns the value at path through maps only.
func lookup(v any, path []string) any {
	for _, seg := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[seg]
	}
	return v
}

// matches returns the recorded positions per array path ("items" → [0 2]).
func matches(row connector.Row) map[string][]int64 {
	marks, _ := row[matchedKey].(map[string]any)
	if len(marks) == 0 {
		return nil
	}
	out := make(map[string][]int64, len(marks))
	for k, v := range marks {
		list, _ := v.([]any)
		idx := make([]int64, 0, len(list))
		for _, e := range list {
			if n, ok := e.(int64); ok {
				idx = append(idx, n)
			}
		}
		out[k] = idx
	}
	return out
}

// accessView returns the row as access results show it: the unmatched
// elements of entry arrays removed, the bookkeeping key gone. row is not
// modified; the parts that change are copied.
func accessView(row connector.Row) connector.Row {
	marks := matches(row)
	out := make(connector.Row, len(row))
	for k, v := range row {
		if k != matchedKey {
			out[k] = v
		}
	}
	if len(marks) == 0 {
		return out
	}
	keys := make([]string, 0, len(marks))
	for k := range marks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		keepOnly(out, strings.Split(k, "."), marks[k])
	}
	return out
}

// keepOnly replaces the array at path in m (copying the maps on the way)
// with its elements at idx.
func keepOnly(m map[string]any, path []string, idx []int64) {
	if len(path) == 1 {
		arr, ok := m[path[0]].([]any)
		if !ok {
			return
		}
		kept := make([]any, 0, len(idx))
		for _, i := range idx {
			if i >= 0 && int(i) < len(arr) {
				kept = append(kept, arr[i])
			}
		}
		m[path[0]] = kept
		return
	}
	child, ok := m[path[0]].(map[string]any)
	if !ok {
		return
	}
	cp := make(map[string]any, len(child))
	for k, v := range child {
		cp[k] = v
	}
	m[path[0]] = cp
	keepOnly(cp, path[1:], idx)
}

// target is one concrete place in a row to mask: "email", "address.city",
// "tags.1", "items.0.name".
type target struct {
	path  string
	value any
}

// expand lists the concrete paths of field path in row, with their values:
// one per array element along the way (only the recorded matches of entry
// arrays, unless all is set), nothing for a missing value.
func expand(row connector.Row, path []string, all bool) []target {
	var marks map[string][]int64
	if !all {
		marks = matches(row)
	}
	var out []target
	var walk func(v any, i int, concrete []string, logical []string)
	walk = func(v any, i int, concrete, logical []string) {
		if arr, ok := v.([]any); ok {
			keep := marks[strings.Join(logical, ".")]
			_, restricted := marks[strings.Join(logical, ".")]
			for j, el := range arr {
				if restricted && !slices.Contains(keep, int64(j)) {
					continue
				}
				walk(el, i, append(slices.Clip(concrete), strconv.Itoa(j)), logical)
			}
			return
		}
		if i == len(path) {
			if v != nil {
				if _, isMap := v.(map[string]any); !isMap {
					out = append(out, target{path: strings.Join(concrete, "."), value: v})
				}
			}
			return
		}
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		child, ok := m[path[i]]
		if !ok {
			return
		}
		walk(child, i+1, append(slices.Clip(concrete), path[i]), append(slices.Clip(logical), path[i]))
	}
	walk(map[string]any(row), 0, nil, nil)
	return out
}
