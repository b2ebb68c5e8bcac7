package pack

import (
	"slices"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/taxonomy"
)

// Selector keeps the fields of one collection that an access rule's
// targets cover.
type Selector struct {
	paths []dataset.Path
	tree  *node
}

// node is a trie of covered paths: a leaf (covered) keeps its whole value.
type node struct {
	leaf     bool
	children map[string]*node
}

// NewSelector returns the selector of c's fields whose categories fall
// under one of targets.
func NewSelector(c *dataset.Collection, targets []string) *Selector {
	s := &Selector{tree: &node{}}
	var walk func(fields []*dataset.Field, parent dataset.Path)
	walk = func(fields []*dataset.Field, parent dataset.Path) {
		for _, f := range fields {
			path := append(slices.Clip(parent), f.Name)
			if len(f.Fields) > 0 {
				walk(f.Fields, path)
				continue
			}
			if covered(targets, f.Categories) {
				s.paths = append(s.paths, path)
				s.add(path)
			}
		}
	}
	walk(c.Fields, nil)
	return s
}

func covered(targets, categories []string) bool {
	for _, t := range targets {
		for _, c := range categories {
			if taxonomy.Match(t, c) {
				return true
			}
		}
	}
	return false
}

func (s *Selector) add(path dataset.Path) {
	n := s.tree
	for _, seg := range path {
		if n.children == nil {
			n.children = map[string]*node{}
		}
		c := n.children[seg]
		if c == nil {
			c = &node{}
			n.children[seg] = c
		}
		n = c
	}
	n.leaf = true
}

// Empty reports whether no field of the collection is covered.
func (s *Selector) Empty() bool { return len(s.paths) == 0 }

// Paths are the covered leaf paths in declaration order.
func (s *Selector) Paths() []dataset.Path { return s.paths }

// Apply returns a new row with only the covered paths, keeping nested
// structure and array positions, with empty maps and lists removed. A
// covered field holding NULL is kept; an absent one stays absent. row is
// not modified.
func (s *Selector) Apply(row map[string]any) map[string]any {
	out := map[string]any{}
	for k, child := range s.tree.children {
		v, ok := row[k]
		if !ok {
			continue
		}
		if pv, keep := pick(v, child); keep {
			out[k] = pv
		}
	}
	return out
}

// pick returns the part of v that n selects, and whether anything is left.
func pick(v any, n *node) (any, bool) {
	if n.leaf {
		return v, !isEmptyContainer(v)
	}
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, child := range n.children {
			cv, ok := x[k]
			if !ok {
				continue
			}
			if pv, keep := pick(cv, child); keep {
				out[k] = pv
			}
		}
		return out, len(out) > 0
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if pv, keep := pick(e, n); keep {
				out = append(out, pv)
			}
		}
		return out, len(out) > 0
	}
	// A scalar where an object was declared: nothing covered inside it.
	return nil, false
}

func isEmptyContainer(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
