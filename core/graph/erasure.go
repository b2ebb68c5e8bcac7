package graph

import "slices"

// ErasureStep is one collection of an erasure order.
type ErasureStep struct {
	Node *Node
	// After are the collections that must be erased before this one, in
	// address order.
	After []*Node
}

// Erasure orders the traversal's collections for masking: dependents
// first, so each collection is erased before every collection it depends on
// (its Dependencies), except where its `erase_after` names that collection
// (or its dataset), which puts the named collections first instead. With no
// `erase_after` the order is exactly the reverse of Steps; otherwise ready
// collections are taken latest-in-access-order first.
//
// It fails with a *CycleError (Erasure set) when `erase_after` contradicts
// the dependency order through collections it does not name.
func (t *Traversal) Erasure() ([]ErasureStep, error) {
	g := t.Graph
	P := int32(len(t.Steps))
	stamp := make([]int32, len(g.nodes))
	size := len(t.Steps)
	for i := range t.Steps {
		size += len(t.Steps[i].Dependencies) + len(t.Steps[i].Node.EraseAfter)
	}
	arcs := make([]arc, 0, size)
	for i := range t.Steps {
		s := &t.Steps[i]
		n, mark := s.Node, int32(i+1)
		for k, dep := range n.EraseAfter {
			why := reason{kind: reasonEraseAfter, a: n.id, b: int32(k)}
			if dep.Node != nil {
				if t.planned(dep.Node.id) {
					stamp[dep.Node.id] = mark
					arcs = append(arcs, arc{from: t.pos[dep.Node.id], to: int32(i), why: why})
				}
				continue
			}
			for _, id := range g.datasets[dep.group].nodes {
				if t.planned(id) && id != n.id {
					stamp[id] = mark
					arcs = append(arcs, arc{from: t.pos[id], to: int32(i), why: why})
				}
			}
		}
		for _, p := range s.Dependencies {
			if stamp[p.id] == mark {
				continue // erase_after puts p first
			}
			arcs = append(arcs, arc{from: int32(i), to: t.pos[p.id], why: reason{kind: reasonChild}})
		}
	}
	fwd := newCSR(int(P), arcs, false)
	rev := newCSR(int(P), arcs, true)

	count := make([]int32, P)
	for _, a := range arcs {
		count[a.to]++
	}
	var ready minHeap
	for p := P - 1; p >= 0; p-- {
		if count[p] == 0 {
			ready.push(int64(P - 1 - p))
		}
	}
	done := make([]bool, P)
	order := make([]int32, 0, P)
	for len(ready) > 0 {
		p := P - 1 - int32(ready.pop())
		done[p] = true
		order = append(order, p)
		lo, hi := fwd.span(p)
		for i := lo; i < hi; i++ {
			s := fwd.to[i]
			if count[s]--; count[s] == 0 {
				ready.push(int64(P - 1 - s))
			}
		}
	}
	if int32(len(order)) < P {
		return nil, t.erasureCycle(rev, done)
	}

	steps := make([]ErasureStep, len(order))
	ids := make([]int32, 0, len(arcs))
	bounds := make([]int, len(order)+1)
	for i, p := range order {
		mark := -int32(p) - 1 // distinct from the marks above
		begin := len(ids)
		lo, hi := rev.span(p)
		for k := lo; k < hi; k++ {
			if id := t.Steps[rev.to[k]].Node.id; stamp[id] != mark {
				stamp[id] = mark
				ids = append(ids, id)
			}
		}
		slices.Sort(ids[begin:])
		bounds[i+1] = len(ids)
		steps[i].Node = t.Steps[p].Node
	}
	flat := make([]*Node, len(ids))
	for i, id := range ids {
		flat[i] = g.nodes[id]
	}
	for i := range steps {
		if bounds[i+1] > bounds[i] {
			steps[i].After = flat[bounds[i]:bounds[i+1]:bounds[i+1]]
		}
	}
	return steps, nil
}

// erasureCycle follows, from the first blocked collection in address
// order, the first unerased collection each one waits for, until one repeats.
func (t *Traversal) erasureCycle(rev csr, done []bool) *CycleError {
	g := t.Graph
	start := int32(-1)
	for _, n := range g.nodes {
		if p := t.pos[n.id]; p >= 0 && !done[p] {
			start = p
			break
		}
	}
	seenAt := map[int32]int{}
	var walk []int32
	var whys []reason
	p := start
	for {
		if at, ok := seenAt[p]; ok {
			loop, lw := walk[at:], whys[at:]
			verts := []int32{t.Steps[p].Node.id}
			arcs := make([]reason, 0, len(loop))
			for i := len(loop) - 1; i >= 0; i-- {
				verts = append(verts, t.Steps[loop[i]].Node.id)
				arcs = append(arcs, lw[i])
			}
			return g.cycleError(true, verts, arcs)
		}
		seenAt[p] = len(walk)
		walk = append(walk, p)
		lo, hi := rev.span(p)
		for i := lo; i < hi; i++ {
			if s := rev.to[i]; !done[s] {
				whys = append(whys, rev.why[i])
				p = s
				break
			}
		}
	}
}
