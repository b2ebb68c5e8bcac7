package execute

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/sdk/connector"
)

// Nested documents and arrays, as the reference system treats them
// (in Fidesops):
//
//   - The values at a path are gathered by walking maps by key and lists
//     element by element, at any depth, into one flat list (collect).
//   - A row found because an element of an array matched (an "entry point"
//     array) keeps, for access, only its matching elements, and erasure
//     masks only those, unless the field says return_all_elements. This
//     holds at every depth: for arrays inside the matching elements
//     (thread[].tags[]) and arrays inside arrays. The engine records the
//     matching positions with the row (matchedKey), per concrete array
//     path ("thread", "thread.2.tags", "C.1"), when it is found, so that
//     downstream inputs, the package and erasure all see the same elements,
//     and indices stay those of the database.

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

// markMatches records on row, for every array along each entry array's
// path, the positions of the elements that hold one of the filter's
// values, as the reference's refine_target_path and
// _expand_array_paths_to_preserve do: the entry array itself, arrays
// inside its elements (thread.0.tags) and arrays inside arrays (C.1), each
// under its concrete path. Positions of several filters into the same
// array are merged. An entry array none of whose elements matched keeps
// none (the row was found through another field, and none of its elements
// is the requester's; the reference kept them all). Arrays inside elements
// that are not kept record nothing.
func markMatches(row connector.Row, arrays []entryArray) {
	if len(arrays) == 0 {
		return
	}
	sets := map[string][]int64{}
	for _, ea := range arrays {
		path := slices.Concat(ea.prefix, ea.rest)
		var walk func(v any, i int, concrete []string) bool
		walk = func(v any, i int, concrete []string) bool {
			switch x := v.(type) {
			case []any:
				key := strings.Join(concrete, ".")
				idx := sets[key]
				if idx == nil {
					idx = []int64{}
				}
				hit := false
				for j, el := range x {
					if walk(el, i, append(slices.Clip(concrete), strconv.Itoa(j))) {
						hit = true
						idx = append(idx, int64(j))
					}
				}
				sets[key] = idx
				return hit
			case map[string]any:
				if i == len(path) {
					return false // an object where a scalar was expected
				}
				child, ok := x[path[i]]
				if !ok {
					return false
				}
				return walk(child, i+1, append(slices.Clip(concrete), path[i]))
			}
			if i != len(path) || v == nil {
				return false
			}
			c, ok := cast(ea.typ, v)
			return ok && ea.values.has(c)
		}
		walk(map[string]any(row), 0, nil)
	}
	for key, idx := range sets {
		slices.Sort(idx)
		sets[key] = slices.Compact(idx)
	}
	marks := make(map[string]any, len(sets))
	for key, idx := range sets {
		if !kept(sets, key) {
			continue
		}
		list := make([]any, len(idx))
		for i, n := range idx {
			list[i] = n
		}
		marks[key] = list
	}
	row[matchedKey] = marks
}

// kept reports whether every array element that encloses the array at key
// ("thread.2.tags" lies in element 2 of "thread") is one of the recorded
// positions of its array. Positions in sets are sorted.
func kept(sets map[string][]int64, key string) bool {
	segs := strings.Split(key, ".")
	for i := 1; i < len(segs); i++ {
		idx, isArray := sets[strings.Join(segs[:i], ".")]
		if !isArray {
			continue
		}
		n, err := strconv.ParseInt(segs[i], 10, 64)
		if err != nil {
			return false
		}
		if _, hit := slices.BinarySearch(idx, n); !hit {
			return false
		}
	}
	return true
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
		slices.Sort(idx)
		out[k] = idx
	}
	return out
}

// accessView returns the row as access results show it: the unmatched
// elements of entry arrays removed at every depth, the bookkeeping key
// gone. Positions are those of the database: each array is filtered by
// its own recorded positions, in one pass. row is not modified; the
// documents and arrays on the way to a filtered array are copied.
func accessView(row connector.Row) connector.Row {
	marks := matches(row)
	out := make(connector.Row, len(row))
	for k, v := range row {
		if k != matchedKey && k != sharedKey {
			out[k] = v
		}
	}
	if len(marks) == 0 {
		return out
	}
	// on holds every concrete path that is, or leads to, a recorded array.
	on := map[string]bool{}
	for k := range marks {
		for i, c := range k {
			if c == '.' {
				on[k[:i]] = true
			}
		}
		on[k] = true
	}
	for k, v := range out {
		if on[k] {
			out[k] = keepMatched(v, k, marks, on)
		}
	}
	return out
}

// keepMatched returns v, found at the concrete path key, with the arrays
// at and below it reduced to their recorded positions.
func keepMatched(v any, key string, marks map[string][]int64, on map[string]bool) any {
	switch x := v.(type) {
	case []any:
		idx, restricted := marks[key]
		out := make([]any, 0, len(x))
		for j, el := range x {
			if restricted {
				if _, hit := slices.BinarySearch(idx, int64(j)); !hit {
					continue
				}
			}
			if ck := key + "." + strconv.Itoa(j); on[ck] {
				el = keepMatched(el, ck, marks, on)
			}
			out = append(out, el)
		}
		return out
	case map[string]any:
		out := maps.Clone(x)
		for k, el := range x {
			if ck := key + "." + k; on[ck] {
				out[k] = keepMatched(el, ck, marks, on)
			}
		}
		return out
	}
	return v
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
	var walk func(v any, i int, concrete []string)
	walk = func(v any, i int, concrete []string) {
		if arr, ok := v.([]any); ok {
			keep, restricted := marks[strings.Join(concrete, ".")]
			for j, el := range arr {
				if restricted {
					if _, hit := slices.BinarySearch(keep, int64(j)); !hit {
						continue
					}
				}
				walk(el, i, append(slices.Clip(concrete), strconv.Itoa(j)))
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
		walk(child, i+1, append(slices.Clip(concrete), path[i]))
	}
	walk(map[string]any(row), 0, nil)
	return out
}
