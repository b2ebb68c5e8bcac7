package execute

import (
	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/plan"
	"github.com/lethehq/lethe/sdk/connector"
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

// sharedMarker marks the rows of one node that its shared queries find.
type sharedMarker []sharedField

type sharedField struct {
	path   dataset.Path
	name   string
	typ    string
	values *valueSet
}

// newSharedMarker prepares the marking of n's shared rows: its shared
// input fields with the values that find rows by them.
func newSharedMarker(n *plan.Node, in nodeInputs) sharedMarker {
	var m sharedMarker
	for _, p := range n.SharedFields() {
		vs := in[p.String()]
		if vs.len() == 0 {
			continue
		}
		typ := ""
		if f := n.Collection.Field(p); f != nil {
			typ = f.Type
		}
		m = append(m, sharedField{path: p, name: p.String(), typ: typ, values: vs})
	}
	return m
}

// mark records on row that it is shared, with the shared input fields
// whose value in row is one of the values that found it.
func (m sharedMarker) mark(row connector.Row) {
	fields := []any{} // found by a shared query: shared even if none matches
	for _, f := range m {
		hit := false
		collect(map[string]any(row), f.path, func(v any) {
			if c, ok := cast(f.typ, v); ok && f.values.has(c) {
				hit = true
			}
		})
		if hit {
			fields = append(fields, f.name)
		}
	}
	row[sharedKey] = fields
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
