package execute

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/pack"
	"github.com/lethehq/lethe/core/plan"
	"github.com/lethehq/lethe/sdk/connector"
)

// The reference system's array path cases (in Fidesops), ported row by row from its tests of consolidate_query_matches,
// filter_element_match (with its helpers _expand_array_paths_to_preserve
// and _remove_paths_from_row), refine_target_path /
// build_refined_target_paths and filter_results (select_and_save_field,
// remove_empty_containers, filter_data_categories), with their expected
// outputs. Where Lethe answers differently on purpose, the row says so.
//
// How the reference's functions map onto Lethe's:
//
//	consolidate_query_matches(row, path)        collect(row, path, fn)
//	_expand_array_paths_to_preserve(refined)    the positions markMatches records (matches)
//	filter_element_match(row, inputs)           markMatches, then accessView
//	filter_element_match(..., delete=False)     the concrete paths erasure masks (expand, all=false)
//	_remove_paths_from_row(row, keep)           accessView of a row carrying those positions
//	refine_target_path(row, path, only)         markMatches with only, then expand(row, path, false)
//	refine_target_path(row, path)               expand(row, path, true)
//	select_and_save_field + remove_empty_containers
//	  / filter_data_categories                  pack.Selector.Apply

// js decodes a JSON literal, with integral numbers as int64 (as
// connectors return them).
func js(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad test literal %s: %v", s, err)
	}
	return ints(v)
}

func ints(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = ints(x[i])
		}
	case map[string]any:
		for k, e := range x {
			x[k] = ints(e)
		}
	}
	return v
}

func doc(t testing.TB, s string) connector.Row {
	t.Helper()
	m, ok := js(t, s).(map[string]any)
	if !ok {
		t.Fatalf("test literal %s is not an object", s)
	}
	return m
}

// declare builds a collection from "path type" declarations, parents
// before children: "thread object[]", "thread.comment string". Each field
// gets its own path as its data category. A type ending in "!" sets
// return_all_elements.
func declare(t testing.TB, decls ...string) *dataset.Collection {
	t.Helper()
	c := &dataset.Collection{Name: "c"}
	for _, d := range decls {
		p, typ, _ := strings.Cut(d, " ")
		typ, all := strings.CutSuffix(typ, "!")
		base, array := strings.CutSuffix(typ, "[]")
		path := dataset.Path(strings.Split(p, "."))
		f := &dataset.Field{Name: path[len(path)-1], Type: base, Array: array, ReturnAllElements: all, Categories: []string{p}}
		if len(path) == 1 {
			c.Fields = append(c.Fields, f)
			continue
		}
		parent := c.Field(path[:len(path)-1])
		if parent == nil {
			t.Fatalf("declare %s before %s", path[:len(path)-1], p)
		}
		parent.Fields = append(parent.Fields, f)
	}
	return c
}

// found marks row as the access step does when the row was found with
// inputs (field path -> values, before casting): the entry arrays of
// buildQueries, then markMatches.
func found(t testing.TB, c *dataset.Collection, row connector.Row, inputs string) connector.Row {
	t.Helper()
	in := nodeInputs{}
	if inputs != "" {
		for p, vals := range js(t, inputs).(map[string]any) {
			path := dataset.Path(strings.Split(p, "."))
			typ := ""
			if f := c.Field(path); f != nil {
				typ = f.Type
			}
			set := &valueSet{}
			for _, v := range vals.([]any) {
				if cv, ok := cast(typ, v); ok {
					set.add(cv)
				}
			}
			in[p] = set
		}
	}
	_, entries := buildQueries(&plan.Node{Collection: c}, in)
	markMatches(row, entries)
	return row
}

// plain drops the bookkeeping key, for comparisons.
func plain(row connector.Row) map[string]any {
	out := make(map[string]any, len(row))
	for k, v := range row {
		if k != matchedKey {
			out[k] = v
		}
	}
	return out
}

// sampleData is the reference tests' sample_data fixture (tests/ops/
// conftest.py): nested documents, arrays of scalars and of documents,
// arrays inside arrays (regular, irregular, and of mixed element types).
const sampleData = `{
  "_id": 12345,
  "thread": [
    {"comment": "com_0001", "message": "hello, testing in-flight chat feature", "chat_name": "John", "messages": {}},
    {"comment": "com_0002", "message": "yep, got your message, looks like it works", "chat_name": "Jane"},
    {"comment": "com_0002", "message": "hello!", "chat_name": "Jeanne"}
  ],
  "snacks": ["pizza", "chips"],
  "seats": {"first_choice": "A2", "second_choice": "B3"},
  "upgrades": {"magazines": ["Time", "People"], "books": ["Once upon a Time", "SICP"], "earplugs": true},
  "other_flights": [
    {"DFW": ["11 AM", "12 PM"], "CHO": ["12 PM", "1 PM"]},
    {"DFW": ["2 AM", "12 PM"], "CHO": ["2 PM", "1 PM"]},
    {"DFW": ["3 AM", "2 AM"], "CHO": ["2 PM", "1:30 PM"]}
  ],
  "months": {
    "july": [
      {"activities": ["swimming", "hiking"], "crops": ["watermelon", "cheese", "grapes"]},
      {"activities": ["tubing"], "crops": ["corn"]}
    ],
    "march": [
      {"activities": ["skiing", "bobsledding"], "crops": ["swiss chard", "swiss chard"]},
      {"activities": ["hiking"], "crops": ["spinach"]}
    ]
  },
  "hello": [1, 2, 3, 4, 2],
  "weights": [[1, 2], [3, 4]],
  "toppings": [[["pepperoni", "salami"], ["pepperoni", "cheese", "cheese"]]],
  "A": {"C": [{"M": ["p", "n", "n"]}]},
  "C": [["A", "B", "C", "B"], ["G", "H", "B", "B"]],
  "D": [
    [["A", "B", "C", "B"], ["G", "H", "B", "B"]],
    [["A", "B", "C", "B"], ["G", "H", "B", "B"]]
  ],
  "E": [[["B"], [["A", "B", "C", "B"], ["G", "H", "B", "B"]]]],
  "F": ["a", ["1", "a", [["z", "a", "a"]]]]
}`

// sampleCollection declares sampleData's fields.
func sampleCollection(t testing.TB) *dataset.Collection {
	return declare(t,
		"_id integer",
		"thread object[]", "thread.comment string", "thread.message string", "thread.chat_name string", "thread.messages object",
		"snacks string[]",
		"seats object", "seats.first_choice string", "seats.second_choice string",
		"upgrades object", "upgrades.magazines string[]", "upgrades.books string[]", "upgrades.earplugs boolean",
		"other_flights object[]", "other_flights.DFW string[]", "other_flights.CHO string[]",
		"months object",
		"months.july object[]", "months.july.activities string[]", "months.july.crops string[]",
		"months.march object[]", "months.march.activities string[]", "months.march.crops string[]",
		"hello integer[]", "weights integer[]", "toppings string[]",
		"A object", "A.C object[]", "A.C.M string[]",
		"C string[]", "D string[]", "E string[]", "F string[]",
	)
}

// TestCollect: consolidate_query_matches (in Fidesops):
// every scalar at the path, walking documents by key and arrays element by
// element at any depth, flattened into one list.
func TestCollect(t *testing.T) {
	for _, tc := range []struct {
		name, row, path, want string
	}{
		{"matching scalar returned", `{"B": 55}`, "B", `[55]`},
		{"matching array returned as-is", `{"A": [1, 2, 3]}`, "A", `[1, 2, 3]`},
		{"array of embedded objects: sub-paths merged", `{"A": [{"B": 1, "C": 2}, {"B": 3, "C": 4}, {"B": 5, "C": 6}]}`, "A.B", `[1, 3, 5]`},
		{"nested array returned", `{"A": {"B": {"C": [9, 8, 7]}}, "D": {"E": {"F": "G"}}}`, "A.B.C", `[9, 8, 7]`},
		{"arrays of arrays merged", `{"A": [[5, 6], [7, 8], [9, 10]], "B": [[5, 6], [7, 8], [9, 10]]}`, "A", `[5, 6, 7, 8, 9, 10]`},
		{"arrays of arrays of embedded objects merged",
			`{"A": [[{"B": 1, "C": 2, "D": [3]}, {}], [{"B": 3, "C": 4, "D": [5]}, {"B": 77, "C": 88, "D": [99]}]], "B": [[5, 6], [7, 8], [9, 10]]}`,
			"A.D", `[3, 5, 99]`},
		{"target path not in the data", `{"A": [{"B": 1, "C": 2}, {"B": 3, "C": 4}, {"B": 5, "C": 6}]}`, "A.E.X", `[]`},
		{"no field path", `{"A": [{"B": 1, "C": 2}, {"B": 3, "C": 4}, {"B": 5, "C": 6}]}`, "", `[]`},
		// 2.4: {"customer_id": [1, 1, 2]} from three parent rows; duplicates
		// are kept here (the node's inputs then de-duplicate them: valueSet).
		{"values of several rows, duplicates kept", `[{"customer_id": 1}, {"customer_id": 1}, {"customer_id": 2}]`, "customer_id", `[1, 1, 2]`},
		// The reference collects None too and drops it when casting (1.2,
		// 2.4 typed filtering); Lethe drops it here. Same query either way.
		{"nulls dropped", `{"A": [1, null, 2]}`, "A", `[1, 2]`},
		{"a document where a scalar is expected", `{"A": {"B": 1}}`, "A", `[]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var path []string
			if tc.path != "" {
				path = strings.Split(tc.path, ".")
			}
			got := []any{}
			collect(js(t, tc.row), path, func(v any) { got = append(got, v) })
			if want := js(t, tc.want); !reflect.DeepEqual(got, want) {
				t.Errorf("collect(%s, %q) = %v, want %v", tc.row, tc.path, got, want)
			}
		})
	}
}

// TestMarkMatches: the array positions an access step keeps for a row,
// per concrete array path, as _expand_array_paths_to_preserve computes
// them from the refined target paths (in Fidesops).
func TestMarkMatches(t *testing.T) {
	for _, tc := range []struct {
		name   string
		decls  []string // nil: sampleCollection
		row    string   // "": sampleData
		inputs string
		want   map[string][]int64 // nil: no positions recorded
	}{
		{name: "no array paths: nested documents only",
			decls:  []string{"A object", "A.B string", "C object", "C.D object", "C.D.E string"},
			row:    `{"A": {"B": "b"}, "C": {"D": {"E": "e"}}}`,
			inputs: `{"A.B": ["b"], "C.D.E": ["e"]}`},
		{name: "array of objects",
			decls:  []string{"A object", "A.B object[]", "A.B.C string", "A.B.D string"},
			row:    `{"A": {"B": [{"C": "c", "D": "d"}, {"C": "c", "D": "x"}, {"C": "x", "D": "x"}]}}`,
			inputs: `{"A.B.C": ["c"], "A.B.D": ["d"]}`,
			want:   map[string][]int64{"A.B": {0, 1}}},
		{name: "multiple matching embedded objects",
			decls:  []string{"J object[]", "J.K integer", "J.J integer"},
			row:    `{"J": [{"K": 1, "J": 2}, {"K": 3, "J": 4}, {"K": 1, "J": 6}, {"K": 2, "J": 4}]}`,
			inputs: `{"J.K": [2], "J.J": [4]}`,
			want:   map[string][]int64{"J": {1, 3}}},
		{name: "nested arrays of arrays",
			inputs: `{"F": ["a"], "snacks": ["pizza"], "thread.comment": ["com_0002"]}`,
			want: map[string][]int64{
				"F": {0, 1}, "snacks": {0}, "F.1": {1, 2}, "thread": {1, 2}, "F.1.2": {0}, "F.1.2.0": {1, 2},
			}},
		{name: "array at the deepest level",
			decls:  []string{"A object", "A.B integer[]"},
			row:    `{"A": {"B": [0, 19, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]}}`,
			inputs: `{"A.B": [19]}`,
			want:   map[string][]int64{"A.B": {1, 19}}},
		// Lethe: an entry array none of whose elements matched (the row was
		// found through another field) keeps none of them; the reference
		// left such an array whole.
		{name: "entry array without a match",
			decls:  []string{"email string", "emails string[]"},
			row:    `{"email": "jane@example.com", "emails": ["bob@example.com"]}`,
			inputs: `{"email": ["jane@example.com"], "emails": ["jane@example.com"]}`,
			want:   map[string][]int64{"emails": {}}},
		{name: "return_all_elements records nothing",
			decls:  []string{"owners object[]!", "owners.email string"},
			row:    `{"owners": [{"email": "jane@example.com"}, {"email": "john@example.com"}]}`,
			inputs: `{"owners.email": ["jane@example.com"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, row := caseOf(t, tc.decls, tc.row)
			got := matches(found(t, c, row, tc.inputs))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("positions kept = %v, want %v", got, tc.want)
			}
		})
	}
}

func caseOf(t testing.TB, decls []string, row string) (*dataset.Collection, connector.Row) {
	t.Helper()
	if row == "" {
		row = sampleData
	}
	if decls == nil {
		return sampleCollection(t), doc(t, row)
	}
	return declare(t, decls...), doc(t, row)
}

// TestAccessView: filter_element_match (in Fidesops):
// in access results, the unmatched elements of entry arrays are removed,
// at every depth; scalars and other arrays are never filtered. The row
// itself is not modified.
func TestAccessView(t *testing.T) {
	for _, tc := range []struct {
		name, row, inputs, want string
		decls                   []string
	}{
		{name: "no paths", decls: []string{"A string", "C string"},
			row: `{"A": "B", "C": "D"}`, want: `{"A": "B", "C": "D"}`},
		{name: "no record", decls: []string{"A object", "A.B object", "A.B.C integer"},
			row: `{}`, inputs: `{"A.B.C": [1, 2]}`, want: `{}`},
		{name: "object match, no change", decls: []string{"A string", "C object", "C.D object", "C.D.E string", "C.D.G string"},
			row: `{"A": "B", "C": {"D": {"E": "F", "G": "H"}}}`, inputs: `{"A": ["B"], "C.D.E": ["F"]}`,
			want: `{"A": "B", "C": {"D": {"E": "F", "G": "H"}}}`},
		{name: "array match",
			decls:  []string{"A string[]", "C object", "C.D object", "C.D.E string[]", "C.D.G string", "J string[]"},
			row:    `{"A": ["b", "c", "d", "e"], "C": {"D": {"E": ["g", "h", "i", "j"], "G": "H"}}, "J": ["K", "L", "M"]}`,
			inputs: `{"A": ["c", "d"], "C.D.E": ["h", "i"]}`,
			want:   `{"A": ["c", "d"], "C": {"D": {"E": ["h", "i"], "G": "H"}}, "J": ["K", "L", "M"]}`},
		{name: "multiple embedded objects match",
			decls: []string{"A string[]", "C object", "C.D object", "C.D.E string[]", "C.D.G string",
				"J object[]", "J.K integer", "J.J integer"},
			row: `{"A": ["b", "c", "d", "e"], "C": {"D": {"E": ["g", "h", "i", "j"], "G": "H"}},
			       "J": [{"K": 1, "J": 2}, {"K": 3, "J": 4}, {"K": 1, "J": 6}, {"K": 2, "J": 4}]}`,
			inputs: `{"J.K": [2], "J.J": [4]}`,
			want: `{"A": ["b", "c", "d", "e"], "C": {"D": {"E": ["g", "h", "i", "j"], "G": "H"}},
			        "J": [{"K": 3, "J": 4}, {"K": 2, "J": 4}]}`},
		{name: "large data",
			inputs: `{"F": ["a"], "snacks": ["pizza"], "thread.comment": ["com_0002"]}`,
			want: `{
			  "_id": 12345,
			  "thread": [
			    {"comment": "com_0002", "message": "yep, got your message, looks like it works", "chat_name": "Jane"},
			    {"comment": "com_0002", "message": "hello!", "chat_name": "Jeanne"}
			  ],
			  "snacks": ["pizza"],
			  "seats": {"first_choice": "A2", "second_choice": "B3"},
			  "upgrades": {"magazines": ["Time", "People"], "books": ["Once upon a Time", "SICP"], "earplugs": true},
			  "other_flights": [
			    {"DFW": ["11 AM", "12 PM"], "CHO": ["12 PM", "1 PM"]},
			    {"DFW": ["2 AM", "12 PM"], "CHO": ["2 PM", "1 PM"]},
			    {"DFW": ["3 AM", "2 AM"], "CHO": ["2 PM", "1:30 PM"]}
			  ],
			  "months": {
			    "july": [
			      {"activities": ["swimming", "hiking"], "crops": ["watermelon", "cheese", "grapes"]},
			      {"activities": ["tubing"], "crops": ["corn"]}
			    ],
			    "march": [
			      {"activities": ["skiing", "bobsledding"], "crops": ["swiss chard", "swiss chard"]},
			      {"activities": ["hiking"], "crops": ["spinach"]}
			    ]
			  },
			  "hello": [1, 2, 3, 4, 2],
			  "weights": [[1, 2], [3, 4]],
			  "toppings": [[["pepperoni", "salami"], ["pepperoni", "cheese", "cheese"]]],
			  "A": {"C": [{"M": ["p", "n", "n"]}]},
			  "C": [["A", "B", "C", "B"], ["G", "H", "B", "B"]],
			  "D": [
			    [["A", "B", "C", "B"], ["G", "H", "B", "B"]],
			    [["A", "B", "C", "B"], ["G", "H", "B", "B"]]
			  ],
			  "E": [[["B"], [["A", "B", "C", "B"], ["G", "H", "B", "B"]]]],
			  "F": ["a", ["a", [["a", "a"]]]]
			}`},
		// Arrays inside elements of an entry array are entry arrays too.
		{name: "nested entry arrays (refine: months.july.crops)",
			inputs: `{"months.july.crops": ["watermelon", "grapes"], "other_flights.CHO": ["1 PM"]}`,
			want: `{
			  "_id": 12345,
			  "thread": [
			    {"comment": "com_0001", "message": "hello, testing in-flight chat feature", "chat_name": "John", "messages": {}},
			    {"comment": "com_0002", "message": "yep, got your message, looks like it works", "chat_name": "Jane"},
			    {"comment": "com_0002", "message": "hello!", "chat_name": "Jeanne"}
			  ],
			  "snacks": ["pizza", "chips"],
			  "seats": {"first_choice": "A2", "second_choice": "B3"},
			  "upgrades": {"magazines": ["Time", "People"], "books": ["Once upon a Time", "SICP"], "earplugs": true},
			  "other_flights": [
			    {"DFW": ["11 AM", "12 PM"], "CHO": ["1 PM"]},
			    {"DFW": ["2 AM", "12 PM"], "CHO": ["1 PM"]}
			  ],
			  "months": {
			    "july": [
			      {"activities": ["swimming", "hiking"], "crops": ["watermelon", "grapes"]}
			    ],
			    "march": [
			      {"activities": ["skiing", "bobsledding"], "crops": ["swiss chard", "swiss chard"]},
			      {"activities": ["hiking"], "crops": ["spinach"]}
			    ]
			  },
			  "hello": [1, 2, 3, 4, 2],
			  "weights": [[1, 2], [3, 4]],
			  "toppings": [[["pepperoni", "salami"], ["pepperoni", "cheese", "cheese"]]],
			  "A": {"C": [{"M": ["p", "n", "n"]}]},
			  "C": [["A", "B", "C", "B"], ["G", "H", "B", "B"]],
			  "D": [
			    [["A", "B", "C", "B"], ["G", "H", "B", "B"]],
			    [["A", "B", "C", "B"], ["G", "H", "B", "B"]]
			  ],
			  "E": [[["B"], [["A", "B", "C", "B"], ["G", "H", "B", "B"]]]],
			  "F": ["a", ["1", "a", [["z", "a", "a"]]]]
			}`},
		// 1.3: return_all_elements keeps the whole array.
		{name: "return_all_elements",
			decls:  []string{"owners object[]!", "owners.email string", "owners.name string"},
			row:    `{"owners": [{"email": "jane@example.com", "name": "Jane"}, {"email": "john@example.com", "name": "John"}]}`,
			inputs: `{"owners.email": ["jane@example.com"]}`,
			want:   `{"owners": [{"email": "jane@example.com", "name": "Jane"}, {"email": "john@example.com", "name": "John"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, row := caseOf(t, tc.decls, tc.row)
			before := doc(t, rowOr(tc.row))
			found(t, c, row, tc.inputs)
			got := accessView(row)
			if _, ok := got[matchedKey]; ok {
				t.Error("the access view keeps the bookkeeping key")
			}
			if want := js(t, tc.want); !reflect.DeepEqual(map[string]any(got), want) {
				t.Errorf("access view:\n got %v\nwant %v", got, want)
			}
			if !reflect.DeepEqual(plain(row), map[string]any(before)) {
				t.Errorf("accessView modified the row:\n got %v\nwant %v", plain(row), before)
			}
		})
	}
}

func rowOr(s string) string {
	if s == "" {
		return sampleData
	}
	return s
}

// TestAccessViewRemovesPaths: _remove_paths_from_row, the step of
// filter_element_match that keeps, per concrete array path, only the
// given positions (deepest arrays first, so positions stay those of the
// database).
func TestAccessViewRemovesPaths(t *testing.T) {
	const fixture = `{
	  "A": "a",
	  "B": [1, 2, 3, 4],
	  "C": {"D": [4, 5, 6], "E": [7, 8, 9]},
	  "D": [{"F": "g", "J": "j"}, {"F": "h", "J": "k"}, {"F": "i"}],
	  "E": [[[1, 3, 2], [4, 5, 6]]],
	  "G": [{"H": [{"I": {"J": ["a", "b", "c", "D"]}}]}]
	}`
	for _, tc := range []struct {
		name string
		keep map[string][]int64
		path string // the part of the row to compare
		want string
	}{
		{"path does not exist", map[string][]int64{"E.F.G.H.1": {2}}, "", fixture},
		{"top-level array indices", map[string][]int64{"B": {1, 3}}, "B", `[2, 4]`},
		{"index of a nested array", map[string][]int64{"C.D": {1}}, "C.D", `[5]`},
		{"nested document", map[string][]int64{"D": {2}}, "D", `[{"F": "i"}]`},
		{"element of an array of arrays", map[string][]int64{"E.0.1": {2}}, "E", `[[[1, 3, 2], [6]]]`},
		{"deeply nested path", map[string][]int64{"G.0.H.0.I.J": {0, 2}}, "G", `[{"H": [{"I": {"J": ["a", "c"]}}]}]`},
		{"several levels", map[string][]int64{"D": {0, 2}, "E": {0}, "E.0": {1}, "E.0.1": {0, 2}}, "", `{
		  "A": "a",
		  "B": [1, 2, 3, 4],
		  "C": {"D": [4, 5, 6], "E": [7, 8, 9]},
		  "D": [{"F": "g", "J": "j"}, {"F": "i"}],
		  "E": [[[4, 6]]],
		  "G": [{"H": [{"I": {"J": ["a", "b", "c", "D"]}}]}]
		}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row := doc(t, fixture)
			marks := map[string]any{}
			for k, idx := range tc.keep {
				list := []any{}
				for _, i := range idx {
					list = append(list, i)
				}
				marks[k] = list
			}
			row[matchedKey] = marks
			var got any = map[string]any(accessView(row))
			if tc.path != "" {
				for _, seg := range strings.Split(tc.path, ".") {
					got = got.(map[string]any)[seg]
				}
			}
			if want := js(t, tc.want); !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			if !reflect.DeepEqual(plain(row), map[string]any(doc(t, fixture))) {
				t.Error("accessView modified the row")
			}
		})
	}
}

// TestExpand: refine_target_path and build_refined_target_paths
// (in Fidesops): the concrete paths, with array
// indices, that erasure masks for a field. With inputs, the row was found
// with them and only the matched elements count (the reference's
// refine_target_path(row, path, only) and its FIDESOPS_DO_NOT_MASK
// placeholders); with all, every element (return_all_elements, or
// refine_target_path(row, path) without only).
func TestExpand(t *testing.T) {
	for _, tc := range []struct {
		name   string
		decls  []string // nil: sampleCollection
		row    string   // "": sampleData
		inputs string   // "": no filter on an array
		path   string
		all    bool
		want   []string
	}{
		// TestRefineTargetPathToValue
		// Lethe: scalars are never filtered (2.4); the reference's
		// refine_target_path returns [] for a scalar that does not match,
		// but filter_element_match ignores scalar paths and erasure
		// expands every targeted scalar (4.2), so both mask "A".
		{name: "scalar value does not match", decls: []string{"A string", "B string"},
			row: `{"A": "a", "B": "b"}`, inputs: `{"A": ["b"]}`, path: "A", want: []string{"A"}},
		{name: "scalar value", decls: []string{"A string", "B string"},
			row: `{"A": "a", "B": "b"}`, inputs: `{"A": ["a"]}`, path: "A", want: []string{"A"}},
		{name: "scalar from multiple options", decls: []string{"A string", "B string"},
			row: `{"A": "a", "B": "b"}`, inputs: `{"A": ["a", "b", "c"]}`, path: "A", want: []string{"A"}},
		{name: "nested value", decls: []string{"A object", "A.B object", "A.B.C string", "A.B.E string", "A.B.G string"},
			row: `{"A": {"B": {"C": "D", "E": "F", "G": "G"}}}`, inputs: `{"A.B.C": ["D"]}`, path: "A.B.C", want: []string{"A.B.C"}},
		{name: "top-level array", decls: []string{"A string[]", "D string[]"},
			row: `{"A": ["a", "b", "c"], "D": ["e", "f", "g"]}`, inputs: `{"A": ["c"]}`, path: "A", want: []string{"A.2"}},
		{name: "nested array", decls: []string{"A object", "A.B object", "A.B.C string[]", "A.B.D string[]"},
			row: `{"A": {"B": {"C": ["d", "e", "f"], "D": ["g", "h", "i"]}}}`, inputs: `{"A.B.C": ["e"]}`, path: "A.B.C", want: []string{"A.B.C.1"}},
		{name: "multiple indices in nested arrays", decls: []string{"A object", "A.B object", "A.B.C string[]", "A.B.D string[]"},
			row: `{"A": {"B": {"C": ["d", "e", "f", "e", "e"], "D": ["g", "h", "i"]}}}`, inputs: `{"A.B.C": ["e"]}`, path: "A.B.C",
			want: []string{"A.B.C.1", "A.B.C.3", "A.B.C.4"}},
		{name: "embedded object in arrays", decls: []string{"A object[]", "A.B string", "A.D string", "A.F string"},
			row:    `{"A": [{"B": "C", "D": "E", "F": "G"}, {"D": "J"}, {"B": "I", "D": "K", "F": "J"}]}`,
			inputs: `{"A.F": ["G"]}`, path: "A.F", want: []string{"A.0.F"}},
		{name: "multiple embedded objects in arrays", decls: []string{"A object[]", "A.B string", "A.D string", "A.F string", "B string"},
			row:    `{"A": [{"B": "C", "D": "E", "F": "G"}, {"D": "J"}, {"B": "I", "D": "K", "F": "J"}, {"B": "J", "D": "M", "F": "G"}], "B": "C"}`,
			inputs: `{"A.F": ["G"]}`, path: "A.F", want: []string{"A.0.F", "A.3.F"}},
		{name: "multiple objects from multiple possibilities", decls: []string{"A object[]", "A.B string", "A.D string", "A.F string", "B string"},
			row: `{"A": [{"B": "C", "D": "E", "F": "G"}, {"D": "J"}, {"B": "I", "D": "K", "F": "J"}, {"B": "J", "D": "M", "F": "G"},
			             {"B": "J", "D": "M", "F": "H"}, {"B": "J", "D": "M", "F": "I"}], "B": "C"}`,
			inputs: `{"A.F": ["G", "I"]}`, path: "A.F", want: []string{"A.0.F", "A.3.F", "A.5.F"}},
		{name: "array of arrays", decls: []string{"A string[]", "C string[]"},
			row: `{"A": [["B", "C", "D", "C", "E"]], "C": ["E", "F"]}`, inputs: `{"A": ["C", "E"]}`, path: "A",
			want: []string{"A.0.1", "A.0.3", "A.0.4"}},
		// test_refine_target_path_large_data
		{name: "large data: months.march.crops", inputs: `{"months.march.crops": ["swiss chard"]}`, path: "months.march.crops",
			want: []string{"months.march.0.crops.0", "months.march.0.crops.1"}},
		{name: "large data: _id", inputs: `{"_id": [12345]}`, path: "_id", want: []string{"_id"}},
		{name: "large data: snacks", inputs: `{"snacks": ["pizza"]}`, path: "snacks", want: []string{"snacks.0"}},
		{name: "large data: thread.comment", inputs: `{"thread.comment": ["com_0002"]}`, path: "thread.comment",
			want: []string{"thread.1.comment", "thread.2.comment"}},
		{name: "large data: seats.first_choice", inputs: `{"seats.first_choice": ["A2"]}`, path: "seats.first_choice",
			want: []string{"seats.first_choice"}},
		{name: "large data: upgrades.books", inputs: `{"upgrades.books": ["SICP"]}`, path: "upgrades.books", want: []string{"upgrades.books.1"}},
		{name: "large data: other_flights.CHO", inputs: `{"other_flights.CHO": ["1 PM"]}`, path: "other_flights.CHO",
			want: []string{"other_flights.0.CHO.1", "other_flights.1.CHO.1"}},
		{name: "large data: bad path", inputs: `{"bad_path": ["bad match"]}`, path: "bad_path", want: nil},
		{name: "large data: hello", inputs: `{"hello": [2]}`, path: "hello", want: []string{"hello.1", "hello.4"}},
		{name: "large data: months.july.crops", inputs: `{"months.july.crops": ["watermelon", "grapes"]}`, path: "months.july.crops",
			want: []string{"months.july.0.crops.0", "months.july.0.crops.2"}},
		{name: "large data: weights", inputs: `{"weights": [4]}`, path: "weights", want: []string{"weights.1.1"}},
		{name: "large data: toppings", inputs: `{"toppings": ["cheese"]}`, path: "toppings", want: []string{"toppings.0.1.1", "toppings.0.1.2"}},
		{name: "large data: A.C.M", inputs: `{"A.C.M": ["n"]}`, path: "A.C.M", want: []string{"A.C.0.M.1", "A.C.0.M.2"}},
		{name: "large data: empty path", inputs: `{"snacks": ["pizza"]}`, path: "", want: nil},
		{name: "large data: C (double lists)", inputs: `{"C": ["B"]}`, path: "C", want: []string{"C.0.1", "C.0.3", "C.1.2", "C.1.3"}},
		{name: "large data: D (triple lists)", inputs: `{"D": ["B"]}`, path: "D", want: []string{
			"D.0.0.1", "D.0.0.3", "D.0.1.2", "D.0.1.3", "D.1.0.1", "D.1.0.3", "D.1.1.2", "D.1.1.3"}},
		{name: "large data: E (irregular lists)", inputs: `{"E": ["B"]}`, path: "E", want: []string{
			"E.0.0.0", "E.0.1.0.1", "E.0.1.0.3", "E.0.1.1.2", "E.0.1.1.3"}},
		{name: "large data: F (mixed element types)", inputs: `{"F": ["a"]}`, path: "F",
			want: []string{"F.0", "F.1.1", "F.1.2.0.1", "F.1.2.0.2"}},

		// TestRefineTargetPathToAll
		{name: "all: scalar", decls: []string{"A string", "B string"}, row: `{"A": "a", "B": "b"}`, path: "A", all: true, want: []string{"A"}},
		{name: "all: nested value", decls: []string{"A object", "A.B object", "A.B.C string", "A.B.E string", "A.B.G string"},
			row: `{"A": {"B": {"C": "D", "E": "F", "G": "G"}}}`, path: "A.B.C", all: true, want: []string{"A.B.C"}},
		{name: "all: top-level array", decls: []string{"A string[]", "D string[]"},
			row: `{"A": ["a", "b", "c"], "D": ["e", "f", "g"]}`, path: "A", all: true, want: []string{"A.0", "A.1", "A.2"}},
		{name: "all: nested array", decls: []string{"A object", "A.B object", "A.B.C string[]", "A.B.D string[]"},
			row: `{"A": {"B": {"C": ["d", "e", "f"], "D": ["g", "h", "i"]}}}`, path: "A.B.C", all: true,
			want: []string{"A.B.C.0", "A.B.C.1", "A.B.C.2"}},
		{name: "all: embedded object in arrays", decls: []string{"A object[]", "A.B string", "A.D string", "A.F string"},
			row: `{"A": [{"B": "C", "D": "E", "F": "G"}, {"D": "J"}, {"B": "I", "D": "K", "F": "J"}]}`, path: "A.F", all: true,
			want: []string{"A.0.F", "A.2.F"}},
		{name: "all: array of arrays", decls: []string{"A string[]", "C string[]"},
			row: `{"A": [["B", "C", "D", "C", "E"]], "C": ["E", "F"]}`, path: "A", all: true,
			want: []string{"A.0.0", "A.0.1", "A.0.2", "A.0.3", "A.0.4"}},
		// With all set (return_all_elements), recorded positions are
		// ignored.
		{name: "all: ignores recorded positions", inputs: `{"snacks": ["pizza"]}`, path: "snacks", all: true,
			want: []string{"snacks.0", "snacks.1"}},

		// TestBuildRefinedTargetPaths
		{name: "refined: bad path", decls: []string{"A integer[]", "B string"},
			row: `{"A": [1, 2, 3], "B": "C"}`, inputs: `{"A": ["F"]}`, path: "A.B.C", want: nil},
		{name: "refined: one match", decls: []string{"A integer[]", "B string"},
			row: `{"A": [1, 2, 3], "B": "C"}`, inputs: `{"A": [1]}`, path: "A", want: []string{"A.0"}},
		{name: "refined: two matches", decls: []string{"A integer[]", "B string"},
			row: `{"A": [1, 2, 3], "B": "C"}`, inputs: `{"A": [1, 3]}`, path: "A", want: []string{"A.0", "A.2"}},
		{name: "refined: list of list of lists", decls: []string{"A integer[]", "B string"},
			row: `{"A": [[[1, 2, 3]], [[4, 5, 6]]], "B": "C"}`, inputs: `{"A": [1, 3]}`, path: "A", want: []string{"A.0.0.0", "A.0.0.2"}},
		// build_refined_target_paths(row, {J.K: [2], J.J: [4]}) refines
		// J.3.K, J.1.J and J.3.J, so the elements 1 and 3 are kept; erasure
		// then masks each targeted field in both (the placeholder row).
		{name: "refined: multiple matches in array, J.K", decls: []string{"A string[]", "J object[]", "J.K integer", "J.J integer"},
			row:    `{"A": ["b", "c", "d", "e"], "J": [{"K": 1, "J": 2}, {"K": 3, "J": 4}, {"K": 1, "J": 6}, {"K": 2, "J": 4}]}`,
			inputs: `{"J.K": [2], "J.J": [4]}`, path: "J.K", want: []string{"J.1.K", "J.3.K"}},
		{name: "refined: multiple matches in array, J.J", decls: []string{"A string[]", "J object[]", "J.K integer", "J.J integer"},
			row:    `{"A": ["b", "c", "d", "e"], "J": [{"K": 1, "J": 2}, {"K": 3, "J": 4}, {"K": 1, "J": 6}, {"K": 2, "J": 4}]}`,
			inputs: `{"J.K": [2], "J.J": [4]}`, path: "J.J", want: []string{"J.1.J", "J.3.J"}},

		// TestFilterElementMatchReplaceIndices: the elements erasure leaves
		// alone are the reference's FIDESOPS_DO_NOT_MASK placeholders.
		{name: "placeholders: array match, A",
			decls:  []string{"A string[]", "C object", "C.D object", "C.D.E string[]", "C.D.G string", "J string[]"},
			row:    `{"A": ["b", "c", "d", "e"], "C": {"D": {"E": ["g", "h", "i", "j"], "G": "H"}}, "J": ["K", "L", "M"]}`,
			inputs: `{"A": ["c", "d"], "C.D.E": ["h", "i"]}`, path: "A", want: []string{"A.1", "A.2"}},
		{name: "placeholders: array match, C.D.E",
			decls:  []string{"A string[]", "C object", "C.D object", "C.D.E string[]", "C.D.G string", "J string[]"},
			row:    `{"A": ["b", "c", "d", "e"], "C": {"D": {"E": ["g", "h", "i", "j"], "G": "H"}}, "J": ["K", "L", "M"]}`,
			inputs: `{"A": ["c", "d"], "C.D.E": ["h", "i"]}`, path: "C.D.E", want: []string{"C.D.E.1", "C.D.E.2"}},
		{name: "placeholders: array match, J (not an entry point)",
			decls:  []string{"A string[]", "C object", "C.D object", "C.D.E string[]", "C.D.G string", "J string[]"},
			row:    `{"A": ["b", "c", "d", "e"], "C": {"D": {"E": ["g", "h", "i", "j"], "G": "H"}}, "J": ["K", "L", "M"]}`,
			inputs: `{"A": ["c", "d"], "C.D.E": ["h", "i"]}`, path: "J", want: []string{"J.0", "J.1", "J.2"}},
		{name: "placeholders: large data, thread.message",
			inputs: `{"F": ["a"], "snacks": ["pizza"], "thread.comment": ["com_0002"]}`, path: "thread.message",
			want: []string{"thread.1.message", "thread.2.message"}},
		{name: "placeholders: large data, F",
			inputs: `{"F": ["a"], "snacks": ["pizza"], "thread.comment": ["com_0002"]}`, path: "F",
			want: []string{"F.0", "F.1.1", "F.1.2.0.1", "F.1.2.0.2"}},
		{name: "placeholders: large data, hello (not an entry point)",
			inputs: `{"F": ["a"], "snacks": ["pizza"], "thread.comment": ["com_0002"]}`, path: "hello",
			want: []string{"hello.0", "hello.1", "hello.2", "hello.3", "hello.4"}},
		// Outside the matched elements' entry arrays, a matched element is
		// masked whole: months.july.0.activities.
		{name: "placeholders: other array inside a matched element",
			inputs: `{"months.july.crops": ["watermelon", "grapes"]}`, path: "months.july.activities",
			want: []string{"months.july.0.activities.0", "months.july.0.activities.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, row := caseOf(t, tc.decls, tc.row)
			found(t, c, row, tc.inputs)
			var path []string
			if tc.path != "" {
				path = strings.Split(tc.path, ".")
			}
			var got []string
			for _, tg := range expand(row, path, tc.all) {
				got = append(got, tg.path)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("expand(%s, all=%v) = %q, want %q", tc.path, tc.all, got, tc.want)
			}
		})
	}
}

// TestExpandValues: each concrete path comes with the value found there,
// which is what the masking strategy receives.
func TestExpandValues(t *testing.T) {
	c := sampleCollection(t)
	row := found(t, c, doc(t, sampleData), `{"thread.comment": ["com_0002"]}`)
	got := map[string]any{}
	for _, tg := range expand(row, []string{"thread", "chat_name"}, false) {
		got[tg.path] = tg.value
	}
	want := map[string]any{"thread.1.chat_name": "Jane", "thread.2.chat_name": "Jeanne"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestFilterResults: filter_data_categories (in Fidesops):
// only the fields whose categories a rule targets, nested structure and
// array positions kept (select_and_save_field), empty documents and
// arrays removed (remove_empty_containers).
func TestFilterResults(t *testing.T) {
	// The select_and_save_field fixture; every field's category is its
	// path, so a target selects one field.
	const flat = `{
	  "A": "a",
	  "B": "b",
	  "C": ["d", "e", "f"],
	  "D": ["g", "h", "i", "j"],
	  "E": {"F": "g", "H": "i", "J": {"K": {"L": {"M": ["m", "n", "o"], "P": "p"}}, "N": {"O": "o"}}},
	  "F": [{"G": "g", "H": "h"}, {"G": "h", "H": "i"}, {"G": "i", "H": "j"}],
	  "H": [
	    [{"M": [1, 2, 3], "N": "n"}, {"M": [3, 2, 1], "N": "o"}, {"M": [1, 1, 1], "N": "p"}],
	    [{"M": [4, 5, 6], "N": "q"}, {"M": [2, 2, 2], "N": "s"}, {"M": [], "N": "u"}],
	    [{"M": [7, 8, 9], "N": "w"}, {"M": [6, 6, 6], "N": "y"}, {"M": [2], "N": "z"}]
	  ],
	  "I": {
	    "X": [{"J": "j", "K": ["k"]}, {"J": "m", "K": ["customer@example.com", "customer-1@example.com"]}],
	    "Y": [{"J": "l", "K": ["n"]}, {"J": "m", "K": ["customer@example.com"]}],
	    "Z": [{"J": "m", "K": ["n"]}]
	  },
	  "J": {"K": {"L": {"M": {"N": {"O": ["customer@example.com", "customer@gmail.com"], "P": ["customer@yahoo.com", "customer@customer.com"]}}}}},
	  "K": [{"L": "l", "M": "m"}, {"L": "n", "M": "o"}]
	}`
	flatDecls := []string{
		"A string", "B string", "C string[]", "D string[]",
		"E object", "E.F string", "E.H string", "E.J object", "E.J.K object", "E.J.K.L object", "E.J.K.L.M string[]", "E.J.K.L.P string",
		"E.J.N object", "E.J.N.O string",
		"F object[]", "F.G string", "F.H string",
		"H object[]", "H.M integer[]", "H.N string",
		"I object", "I.X object[]", "I.X.J string", "I.X.K string[]", "I.Y object[]", "I.Y.J string", "I.Y.K string[]",
		"I.Z object[]", "I.Z.J string", "I.Z.K string[]",
		"J object", "J.K object", "J.K.L object", "J.K.L.M object", "J.K.L.M.N object", "J.K.L.M.N.O string[]", "J.K.L.M.N.P string[]",
		"K object[]", "K.L string", "K.M string",
	}
	const supplies = `{"foods": {"vegetables": true, "fruits": {"apples": true, "oranges": false, "berries": {"strawberries": true, "blueberries": false}},
	                   "grains": {"rice": false, "wheat": true}}, "clothing": true}`
	suppliesDecls := []string{
		"foods object", "foods.vegetables boolean", "foods.fruits object", "foods.fruits.apples boolean", "foods.fruits.oranges boolean",
		"foods.fruits.berries object", "foods.fruits.berries.strawberries boolean", "foods.fruits.berries.blueberries boolean",
		"foods.grains object", "foods.grains.rice boolean", "foods.grains.wheat boolean", "clothing boolean",
	}
	// categories of test_filter_data_categories: field path -> category.
	suppliesCats := map[string]string{
		"foods.fruits.apples": "A", "clothing": "A", "foods.vegetables": "B",
		"foods.grains.rice": "C", "foods.grains.wheat": "C",
		"foods.fruits.berries.strawberries": "E", "foods.fruits.oranges": "E",
	}
	const flights = `{"people": {"passenger_ids": [222, 445, 311, 4444], "pilot_ids": [123, 12, 112]}, "flight_number": 101}`
	flightsDecls := []string{"people object", "people.passenger_ids integer[]", "people.pilot_ids integer[]", "flight_number integer"}
	flightsCats := map[string]string{"people.passenger_ids": "A", "people.pilot_ids": "B"}
	const janeDetails = `{"_id": "61f2bc8d6362fd78d72d8791", "customer_id": 3.0, "gender": "female", "birthday": "1990-02-28T00:00:00"}`
	janeDecls := []string{"_id object_id", "birthday string", "customer_id integer", "gender string", "workplace_info object", "workplace_info.position string"}
	janeCats := map[string]string{
		"_id": "system.operations", "birthday": "user.provided.identifiable.date_of_birth", "customer_id": "user.derived.identifiable.unique_id",
		"gender": "user.provided.identifiable.gender", "workplace_info.position": "user.provided.identifiable.job_title",
	}
	all := func(decls []string) map[string]string { // every leaf in category "all"
		m := map[string]string{}
		for _, d := range decls {
			p, _, _ := strings.Cut(d, " ")
			m[p] = "all"
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		decls   []string
		cats    map[string]string // field path -> category; nil: its own path
		targets []string
		row     string
		want    string // "": no field selected (the collection is left out)
	}{
		// test_select_and_save_field, one field at a time.
		{"scalar field", flatDecls, nil, []string{"A"}, flat, `{"A": "a"}`},
		{"array field", flatDecls, nil, []string{"C"}, flat, `{"C": ["d", "e", "f"]}`},
		{"another array field", flatDecls, nil, []string{"D"}, flat, `{"D": ["g", "h", "i", "j"]}`},
		{"nested field", flatDecls, nil, []string{"E.F"}, flat, `{"E": {"F": "g"}}`},
		{"field not in the row", []string{"E object", "E.F object", "E.F.Z object", "E.F.Z.X string"}, nil, []string{"E.F.Z.X"}, flat, `{}`},
		{"deeply nested array", flatDecls, nil, []string{"E.J.K.L.M"}, flat, `{"E": {"J": {"K": {"L": {"M": ["m", "n", "o"]}}}}}`},
		{"key of each element of an array", flatDecls, nil, []string{"F.G"}, flat, `{"F": [{"G": "g"}, {"G": "h"}, {"G": "i"}]}`},
		{"fields inside nested arrays", flatDecls, nil, []string{"H.N"}, flat,
			`{"H": [[{"N": "n"}, {"N": "o"}, {"N": "p"}], [{"N": "q"}, {"N": "s"}, {"N": "u"}], [{"N": "w"}, {"N": "y"}, {"N": "z"}]]}`},
		// remove_empty_containers then drops {"M": []}, which leaves its
		// element empty.
		{"arrays inside nested arrays", flatDecls, nil, []string{"H.M"}, flat,
			`{"H": [[{"M": [1, 2, 3]}, {"M": [3, 2, 1]}, {"M": [1, 1, 1]}], [{"M": [4, 5, 6]}, {"M": [2, 2, 2]}], [{"M": [7, 8, 9]}, {"M": [6, 6, 6]}, {"M": [2]}]]}`},
		{"both, as the reference accumulates them", flatDecls, nil, []string{"H.N", "H.M"}, flat, `{"H": [
			[{"N": "n", "M": [1, 2, 3]}, {"N": "o", "M": [3, 2, 1]}, {"N": "p", "M": [1, 1, 1]}],
			[{"N": "q", "M": [4, 5, 6]}, {"N": "s", "M": [2, 2, 2]}, {"N": "u"}],
			[{"N": "w", "M": [7, 8, 9]}, {"N": "y", "M": [6, 6, 6]}, {"N": "z", "M": [2]}]]}`},
		{"document of array of documents", flatDecls, nil, []string{"I.X.J"}, flat, `{"I": {"X": [{"J": "j"}, {"J": "m"}]}}`},
		{"array in an array of documents", flatDecls, nil, []string{"I.X.K"}, flat,
			`{"I": {"X": [{"K": ["k"]}, {"K": ["customer@example.com", "customer-1@example.com"]}]}}`},
		{"array in an array of documents in a document", flatDecls, nil, []string{"I.Y.K"}, flat,
			`{"I": {"Y": [{"K": ["n"]}, {"K": ["customer@example.com"]}]}}`},
		{"deeply nested array in documents", flatDecls, nil, []string{"J.K.L.M.N.O"}, flat,
			`{"J": {"K": {"L": {"M": {"N": {"O": ["customer@example.com", "customer@gmail.com"]}}}}}}`},
		{"scalar field B", flatDecls, nil, []string{"B"}, flat, `{"B": "b"}`},
		{"key of an array of documents", flatDecls, nil, []string{"K.L"}, flat, `{"K": [{"L": "l"}, {"L": "n"}]}`},

		// test_remove_empty_containers, with every field selected.
		{"no empty containers", []string{"A object", "A.B object", "A.B.C integer", "A.G object", "A.G.H string", "I integer", "J boolean"},
			nil, []string{"all"}, `{"A": {"B": {"C": 0}, "G": {"H": null}}, "I": 0, "J": false}`,
			`{"A": {"B": {"C": 0}, "G": {"H": null}}, "I": 0, "J": false}`},
		{"empty arrays", []string{"A string[]", "B string[]", "C boolean"}, nil, []string{"all"}, `{"A": [], "B": [], "C": false}`, `{"C": false}`},
		{"empty documents", []string{"A object", "B object", "C object"}, nil, []string{"all"}, `{"A": {}, "B": {}, "C": {}}`, `{}`},
		{"empty array empties its parents", []string{"A object", "A.B object", "A.B.C string[]", "A.G object", "A.G.H string", "I integer", "J boolean"},
			nil, []string{"all"}, `{"A": {"B": {"C": []}, "G": {"H": null}}, "I": 0, "J": false}`,
			`{"A": {"G": {"H": null}}, "I": 0, "J": false}`},
		{"deeply nested empty array and document", []string{"A object", "A.B object", "A.B.C string[]", "A.G object", "A.G.H object", "A.G.H.I object", "J integer"},
			nil, []string{"all"}, `{"A": {"B": {"C": []}, "G": {"H": {"I": {}}}}, "J": 0}`, `{"J": 0}`},
		{"empty documents in an array", []string{"A object[]", "A.B string", "A.D object", "A.D.J string"}, nil, []string{"all"},
			`{"A": [{"B": "C", "D": {}}, {"B": "G", "D": {}}, {"B": "J", "D": {"J": "K"}}]}`,
			`{"A": [{"B": "C"}, {"B": "G"}, {"B": "J", "D": {"J": "K"}}]}`},
		{"empty row", []string{"A object"}, nil, []string{"all"}, `{}`, `{}`},
		{"only an empty document", []string{"A object"}, nil, []string{"all"}, `{"A": {}}`, `{}`},
		{"multiple levels of empty arrays and documents", []string{"A object[]", "A.B string", "A.D object[]", "A.D.F object", "A.D.G string[]"},
			nil, []string{"all"}, `{"A": [[{"B": "C", "D": [{"F": {}}, {"G": []}]}, {"B": "D"}, {"B": "G"}]]}`,
			`{"A": [[{"B": "C"}, {"B": "D"}, {"B": "G"}]]}`},

		// test_filter_data_categories
		{"categories: A", suppliesDecls, suppliesCats, []string{"A"}, supplies, `{"foods": {"fruits": {"apples": true}}, "clothing": true}`},
		{"categories: B", suppliesDecls, suppliesCats, []string{"B"}, supplies, `{"foods": {"vegetables": true}}`},
		{"categories: C", suppliesDecls, suppliesCats, []string{"C"}, supplies, `{"foods": {"grains": {"rice": false, "wheat": true}}}`},
		{"categories: D (no field)", suppliesDecls, suppliesCats, []string{"D"}, supplies, ``},
		{"categories: E", suppliesDecls, suppliesCats, []string{"E"}, supplies,
			`{"foods": {"fruits": {"oranges": false, "berries": {"strawberries": true}}}}`},
		// test_filter_data_categories_arrays
		{"arrays: A", flightsDecls, flightsCats, []string{"A"}, flights, `{"people": {"passenger_ids": [222, 445, 311, 4444]}}`},
		{"arrays: B", flightsDecls, flightsCats, []string{"B"}, flights, `{"people": {"pilot_ids": [123, 12, 112]}}`},
		// test_filter_data_categories_limited_results (mongo_test:customer_details)
		{"limited results", janeDecls, janeCats, []string{"user.provided.identifiable"}, janeDetails,
			`{"gender": "female", "birthday": "1990-02-28T00:00:00"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := declare(t, tc.decls...)
			cats := tc.cats
			if len(tc.targets) == 1 && tc.targets[0] == "all" {
				cats = all(tc.decls)
			}
			if cats != nil {
				for _, d := range tc.decls {
					p, _, _ := strings.Cut(d, " ")
					f := c.Field(dataset.Path(strings.Split(p, ".")))
					f.Categories = nil
					if cat, ok := cats[p]; ok {
						f.Categories = []string{cat}
					}
				}
			}
			sel := pack.NewSelector(c, tc.targets)
			if tc.want == "" {
				if !sel.Empty() {
					t.Errorf("targets %v select %v; want none (the collection is left out)", tc.targets, sel.Paths())
				}
				return
			}
			row := doc(t, tc.row)
			got := sel.Apply(row)
			if want := js(t, tc.want); !reflect.DeepEqual(got, want) {
				t.Errorf("filtered:\n got %v\nwant %v", got, want)
			}
			if !reflect.DeepEqual(row, doc(t, tc.row)) {
				t.Error("Apply modified the row")
			}
		})
	}
}

// TestFilterResultsOfEntryArrays: the package of a row found through an
// entry array holds only the matched elements, then only the targeted
// fields of them (2.4 then 2.7), as writePackage does.
func TestFilterResultsOfEntryArrays(t *testing.T) {
	c := sampleCollection(t)
	for _, f := range []string{"thread.chat_name", "thread.message", "snacks"} {
		c.Field(dataset.Path(strings.Split(f, "."))).Categories = []string{"user"}
	}
	row := found(t, c, doc(t, sampleData), `{"thread.comment": ["com_0002"], "snacks": ["chips"]}`)
	got := pack.NewSelector(c, []string{"user"}).Apply(accessView(row))
	want := js(t, `{"thread": [{"message": "yep, got your message, looks like it works", "chat_name": "Jane"}, {"message": "hello!", "chat_name": "Jeanne"}],
	                "snacks": ["chips"]}`)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("package row:\n got %v\nwant %v", got, want)
	}
}
