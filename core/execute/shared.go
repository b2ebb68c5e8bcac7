package execute

import (
	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/plan"
	"github.com/lethehq/lethe/sdk/connector"
	"maps"
	"slices"
)

// Shared rows (dataset.Reference.Shared): a row that a node's queries
// found only through shared references belongs to someone else. It is
// stored with the node's other rows, marked under sharedKey with the
// fields whose values point at the subject, so that every later step reads
// the same decision from the checkpoint: its values feed no other node
// (parentValues), the access package holds only the pointing fields
// (sharedView), and erasure leaves it alone (eraseRows). Like matchedKey,
// no real field can have that name.
const sharedKey = "\x00shared"

// classifier tells, for a node with shared inputs, the subject's rows from
// someone else's. The node runs one query per chunk of values, as any
// other (shared inputs add no query); each row it returns is then matched
// against the values again, in the engine: a row is the subject's when one
// of its seeded or normal input fields holds one of their values. Any
// other row, found only through shared inputs, is shared. Values compare
// as the casts make them (bytes for strings), the way filters compare
// (issue 13: exact matching): a row a database returned for a looser
// match is counted as shared, never as the subject's.
type classifier struct {
	owned, shared []matchField
}

type matchField struct {
	path   dataset.Path
	name   string
	typ    string
	values *valueSet
}

func matchFields(n *plan.Node, in nodeInputs) []matchField {
	var out []matchField
	for _, k := range slices.Sorted(maps.Keys(in)) {
		vs := in[k]
		if vs.len() == 0 {
			continue
		}
		p := dataset.Path(splitDots(k))
		typ := ""
		if f := n.Collection.Field(p); f != nil {
			typ = f.Type
		}
		out = append(out, matchField{path: p, name: k, typ: typ, values: vs})
	}
	return out
}

func newClassifier(n *plan.Node, owned, shared nodeInputs) *classifier {
	return &classifier{owned: matchFields(n, owned), shared: matchFields(n, shared)}
}

func (f *matchField) matches(row connector.Row) bool {
	hit := false
	collect(map[string]any(row), f.path, func(v any) {
		if !hit {
			if c, ok := cast(f.typ, v); ok && f.values.has(c) {
				hit = true
			}
		}
	})
	return hit
}

// mark marks row shared, with the shared input fields that hold one of
// the values that found it, unless it is the subject's, and reports
// whether it did.
func (c *classifier) mark(row connector.Row) bool {
	for i := range c.owned {
		if c.owned[i].matches(row) {
			return false
		}
	}
	fields := []any{}
	for i := range c.shared {
		if c.shared[i].matches(row) {
			fields = append(fields, c.shared[i].name)
		}
	}
	row[sharedKey] = fields
	return true
}

// mergeInputs returns the union of the owned and shared inputs, by field.
func mergeInputs(owned, shared nodeInputs) nodeInputs {
	if len(shared) == 0 {
		return owned
	}
	out := nodeInputs{}
	for _, in := range []nodeInputs{owned, shared} {
		for k, vs := range in {
			if out[k] == nil {
				out[k] = &valueSet{}
			}
			for _, v := range vs.values {
				out[k].add(v)
			}
		}
	}
	return out
}

// isShared reports whether row was found only through shared references.
func isShared(row connector.Row) bool {
	_, ok := row[sharedKey]
	return ok
}

// sharedView returns what the access package may show of a shared row:
// only the fields that point at the subject, as accessView shows them.
func sharedView(row connector.Row) connector.Row {
	fields, _ := row[sharedKey].([]any)
	view := accessView(row)
	out := connector.Row{}
	for _, f := range fields {
		p, ok := f.(string)
		if !ok {
			continue
		}
		project(out, map[string]any(view), splitDots(p))
	}
	return out
}

// project copies the value at path in src into dst, keeping the documents
// on the way (and, through arrays, every element's value at the rest of
// the path).
func project(dst, src map[string]any, path []string) {
	v, ok := src[path[0]]
	if !ok {
		return
	}
	if len(path) == 1 {
		dst[path[0]] = v
		return
	}
	switch x := v.(type) {
	case map[string]any:
		sub, _ := dst[path[0]].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
		}
		project(sub, x, path[1:])
		dst[path[0]] = sub
	case []any:
		prev, _ := dst[path[0]].([]any)
		out := make([]any, len(x))
		for i, el := range x {
			m, isMap := el.(map[string]any)
			if !isMap {
				continue
			}
			sub := map[string]any{}
			if i < len(prev) {
				if pm, ok := prev[i].(map[string]any); ok {
					sub = pm
				}
			}
			project(sub, m, path[1:])
			out[i] = sub
		}
		dst[path[0]] = out
	}
}

// pointingCollection returns a copy of n's collection in which each field
// that shared inputs find rows by also carries the categories of the
// fields it is fed from (the subject's field it points at), or nil when n
// has no shared input.
func (r *run) pointingCollection(n *plan.Node) *dataset.Collection {
	extra := map[string][]string{}
	for _, in := range n.Inputs {
		if !in.Shared {
			continue
		}
		from := r.nodes[in.From.CollectionAddress().String()]
		if from == nil {
			continue
		}
		if f := from.Collection.Field(in.From.Field); f != nil {
			extra[in.To.String()] = append(extra[in.To.String()], f.Categories...)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	c := *n.Collection
	c.Fields = withCategories(n.Collection.Fields, nil, extra)
	return &c
}

func withCategories(fields []*dataset.Field, parent dataset.Path, extra map[string][]string) []*dataset.Field {
	out := make([]*dataset.Field, len(fields))
	for i, f := range fields {
		cp := *f
		path := append(append(dataset.Path(nil), parent...), f.Name)
		if cats, ok := extra[path.String()]; ok {
			cp.Categories = append(append([]string(nil), f.Categories...), cats...)
		}
		if len(f.Fields) > 0 {
			cp.Fields = withCategories(f.Fields, path, extra)
		}
		out[i] = &cp
	}
	return out
}
