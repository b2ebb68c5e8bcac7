package graph

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// CycleError reports ordering constraints that cannot all hold: collections
// each of which must come before the next, around a loop.
type CycleError struct {
	// Erasure is set when the cycle is in the erasure order; otherwise it is
	// in the access order.
	Erasure bool
	// Cycle lists the collections, the first one repeated at the end:
	// Cycle[i] must come before Cycle[i+1].
	Cycle []*Node
	// Hops[i] says why Cycle[i] comes before Cycle[i+1].
	Hops []string
	// Range is where the first hop is declared.
	Range hcl.Range

	kinds []reasonKind
}

func (e *CycleError) Error() string {
	kind := "dependency cycle"
	if e.Erasure {
		kind = "erasure order cycle"
	}
	return kind + ": " + e.path() + " (" + strings.Join(e.Hops, "; ") + ")"
}

func (e *CycleError) path() string {
	parts := make([]string, len(e.Cycle))
	for i, n := range e.Cycle {
		parts[i] = n.Address.String()
	}
	return strings.Join(parts, " -> ")
}

func (e *CycleError) hopList() string {
	var sb strings.Builder
	for _, h := range e.Hops {
		sb.WriteString("  ")
		sb.WriteString(h)
		sb.WriteByte('\n')
	}
	return sb.String()
}

func (e *CycleError) fix() string {
	var has [reasonEraseAfter + 1]bool
	for _, k := range e.kinds {
		has[k] = true
	}
	var opts []string
	if has[reasonReference] {
		opts = append(opts, "drop `direction` from one of these references (the traversal then orients it from whichever side is reached first)")
	}
	if has[reasonAfter] || has[reasonDatasetAfter] {
		opts = append(opts, "remove one of these `after` entries")
	}
	if has[reasonReach] {
		opts = append(opts, "make the waited-for collection reachable without going through the collection that waits (an identity on one of its fields, or a reference from elsewhere)")
	}
	if has[reasonEraseAfter] {
		opts = append(opts, "remove the `erase_after` entry, or add `erase_after` to the collections in between as well (by default a collection is erased before the collections it depends on)")
	}
	return "To fix it, " + strings.Join(opts, "; or ") + "."
}

func (e *CycleError) subject() *hcl.Range {
	if e.Range == (hcl.Range{}) {
		return nil
	}
	r := e.Range
	return &r
}

// diagnostic turns the error into a configuration diagnostic.
func (e *CycleError) diagnostic(prefix string) *hcl.Diagnostic {
	summary, what := "Dependency cycle: ", "the collections below wait for each other, so none of them could run:\n"
	if e.Erasure {
		summary, what = "Erasure order cycle: ", "the collections below must each be erased before the next, around a loop:\n"
	}
	if prefix == "" {
		what = strings.ToUpper(what[:1]) + what[1:]
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary + e.path(),
		Detail:   prefix + what + e.hopList() + e.fix(),
		Subject:  e.subject(),
	}
}

// cycleError builds a CycleError from a cycle in the constraint graph:
// verts[0] == verts[len-1], arcs[i] is the reason of verts[i] -> verts[i+1].
// Barrier and gate nodes are folded into the hop between the collections
// around them; the cycle is rotated to start at its first collection in
// address order.
func (g *Graph) cycleError(erasure bool, verts []int32, arcs []reason) *CycleError {
	V := int32(len(g.nodes))
	loop := verts[:len(verts)-1]
	start := -1
	for i, v := range loop {
		if v < V && (start < 0 || v < loop[start]) {
			start = i
		}
	}
	rv := make([]int32, 0, len(verts))
	ra := make([]reason, 0, len(arcs))
	for i := range loop {
		j := (start + i) % len(loop)
		rv = append(rv, loop[j])
		ra = append(ra, arcs[j])
	}
	rv = append(rv, rv[0])

	e := &CycleError{Erasure: erasure}
	prev := rv[0]
	e.Cycle = append(e.Cycle, g.nodes[prev])
	var pending reason
	have := false
	for i := 1; i < len(rv); i++ {
		if r := ra[i-1]; !have && r.kind != reasonMember {
			pending, have = r, true
		}
		v := rv[i]
		if v >= V {
			continue
		}
		text, rng := g.hop(g.nodes[prev], g.nodes[v], pending)
		if e.Range == (hcl.Range{}) {
			e.Range = rng
		}
		e.Hops = append(e.Hops, text)
		e.kinds = append(e.kinds, pending.kind)
		e.Cycle = append(e.Cycle, g.nodes[v])
		prev, have = v, false
	}
	return e
}

// hop explains why node a comes before node b.
func (g *Graph) hop(a, b *Node, r reason) (string, hcl.Range) {
	head := a.Address.String() + " -> " + b.Address.String() + ": "
	switch r.kind {
	case reasonReference:
		e := g.edges[r.a]
		return head + fmt.Sprintf("the values of %s find rows of %s (reference declared on %s with direction %q)",
			e.From, e.To, e.Declared, e.Direction), e.Range
	case reasonReach:
		e := g.edges[r.a]
		return head + fmt.Sprintf("%s is only reached through %s (reference declared on %s)",
			b.Address, a.Address, e.Declared), e.Range
	case reasonAfter:
		n := g.nodes[r.a]
		return head + fmt.Sprintf("%s lists %q in after", n.Address, n.After[r.b].Entry), n.After[r.b].Range
	case reasonDatasetAfter:
		d := g.datasets[r.a]
		return head + fmt.Sprintf("dataset %q lists %q in after", d.model.Name, d.after[r.b].Entry), d.after[r.b].Range
	case reasonChild:
		return head + fmt.Sprintf("%s depends on %s, and is erased first", a.Address, b.Address), a.Collection.Range
	case reasonEraseAfter:
		n := g.nodes[r.a]
		return head + fmt.Sprintf("%s lists %q in erase_after", n.Address, n.EraseAfter[r.b].Entry), n.EraseAfter[r.b].Range
	}
	return head + "ordering constraint", hcl.Range{}
}
