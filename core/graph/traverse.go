package graph

import (
	"slices"
	"sort"

	"github.com/lethehq/lethe/core/dataset"
)

// Traversal is the access order of one request: which collections it
// reaches from the identities it supplies, in which order they run, and how
// each reference between them is oriented.
type Traversal struct {
	Graph *Graph
	// Steps are the reached collections in a topological order: every
	// collection comes after all of its Dependencies.
	Steps []Step
	// Links are the references between reached collections, oriented, in
	// edge order.
	Links []Link
	// Unreached are the collections the supplied identities do not reach,
	// in address order.
	Unreached []*Node
	// Supplied are the supplied identity names that some field declares,
	// Unknown those that no field declares; both sorted.
	Supplied, Unknown []string

	pos  []int32 // node id -> index in Steps, -1 when not planned
	dist []int32 // node id -> distance from the identity roots, -1 when unreached
}

// Step is one collection of a traversal.
type Step struct {
	Node *Node
	// Seeds are the node's seeds whose identity the request supplies.
	Seeds []Seed
	// Inputs are the references oriented into this collection, from
	// collections earlier in the order. The collection's query matches rows
	// where any of these fields (or a seeded field) holds one of the values.
	Inputs []Link
	// Dependencies are every collection that must finish before this one
	// starts: the sources of Inputs, and `after` (the collection's and its
	// dataset's), in address order.
	Dependencies []*Node
}

// Link is a reference oriented for one request: the values of From() find
// rows by To().
type Link struct {
	Edge *Edge
	// Reversed is set when the link runs from Edge.To to Edge.From (an
	// undirected edge whose To end ran first).
	Reversed bool

	from, to int32 // node ids
}

// From is the field whose values feed the link.
func (l Link) From() dataset.FieldAddress {
	if l.Reversed {
		return l.Edge.To
	}
	return l.Edge.From
}

// To is the field the values find rows by.
func (l Link) To() dataset.FieldAddress {
	if l.Reversed {
		return l.Edge.From
	}
	return l.Edge.To
}

// FromNode and ToNode return the nodes of From and To.
func (l Link) FromNode(g *Graph) *Node { return g.nodes[l.from] }

// ToNode returns the node of To.
func (l Link) ToNode(g *Graph) *Node { return g.nodes[l.to] }

// Position returns the index in Steps of node n, or -1 when the traversal
// does not reach it.
func (t *Traversal) Position(n *Node) int { return int(t.pos[n.id]) }

// Distance returns the number of references between the identity roots and
// n (0 for a seeded collection), or -1 when unreached.
func (t *Traversal) Distance(n *Node) int { return int(t.dist[n.id]) }

func (t *Traversal) planned(id int32) bool { return t.dist[id] >= 0 }

// Traverse orders the graph for a request that supplies the named
// identities (values are not needed, only which identities are present).
//
// The collections whose fields declare a supplied identity are the roots.
// A collection is reached when a reached collection has a reference to it:
// a directed reference from it, or an undirected one in either direction.
// Reached collections run in a topological order of their dependencies
// (every reached collection with a directed reference into it, every
// reached collection named in `after`), choosing among the ready ones by
// (distance from the roots, address). An undirected reference is oriented
// from whichever end runs first, so without `after` constraints it points
// away from the end the breadth-first search from the roots reaches first,
// ties broken by address.
//
// It fails with a *CycleError when the reached collections cannot all be
// ordered. Cost: O(V log V + E) time (the log is the ready heap), O(V+E)
// memory, and a number of allocations that does not grow with the graph
// beyond slice doubling.
func (g *Graph) Traverse(identities []string) (*Traversal, error) {
	t, err := g.traverse(identities)
	if err != nil {
		return nil, err
	}
	return t, nil
}

const (
	stIdle uint8 = iota
	stQueued
	stDone
)

// traverse returns the traversal so far even when it fails, so that Build
// can report unreached collections alongside.
func (g *Graph) traverse(identities []string) (*Traversal, *CycleError) {
	V := int32(len(g.nodes))
	N := int32(len(g.cons.start) - 1)
	t := &Traversal{Graph: g, pos: make([]int32, V), dist: make([]int32, V)}

	names := append([]string(nil), identities...)
	sort.Strings(names)
	names = dedupSorted(names)
	for _, name := range names {
		if i := sort.SearchStrings(g.identities, name); i < len(g.identities) && g.identities[i] == name {
			t.Supplied = append(t.Supplied, name)
		} else {
			t.Unknown = append(t.Unknown, name)
		}
	}
	supplied := func(name string) bool {
		i := sort.SearchStrings(t.Supplied, name)
		return i < len(t.Supplied) && t.Supplied[i] == name
	}

	// Breadth-first search from the roots: which collections are reached,
	// at what distance, and through which reference first (pred).
	pred := make([]int32, V)
	queue := make([]int32, 0, V)
	for i := range t.dist {
		t.dist[i], t.pos[i], pred[i] = -1, -1, -1
	}
	for _, n := range g.nodes {
		for _, s := range n.Seeds {
			if supplied(s.Identity) {
				t.dist[n.id] = 0
				queue = append(queue, n.id)
				break
			}
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		u := queue[qi]
		lo, hi := g.reach.span(u)
		for i := lo; i < hi; i++ {
			e := g.edges[g.reach.to[i]]
			if v := e.other(u); t.dist[v] < 0 {
				t.dist[v], pred[v] = t.dist[u]+1, e.id
				queue = append(queue, v)
			}
		}
	}
	planned := int32(len(queue))
	for _, n := range g.nodes {
		if t.dist[n.id] < 0 {
			t.Unreached = append(t.Unreached, n)
		}
	}

	// Kahn's algorithm over the constraint graph, restricted to reached
	// collections (barrier and gate nodes are always active and complete as
	// soon as their inputs do). A collection runs once it is reached and
	// everything it waits for has run.
	active := func(v int32) bool { return v >= V || t.dist[v] >= 0 }
	count := make([]int32, N)
	for u := int32(0); u < N; u++ {
		if !active(u) {
			continue
		}
		lo, hi := g.cons.span(u)
		for i := lo; i < hi; i++ {
			count[g.cons.to[i]]++
		}
	}
	state := make([]uint8, N)
	reached := make([]bool, V)
	for _, r := range queue {
		if t.dist[r] > 0 {
			break
		}
		reached[r] = true
	}
	oriented := make([]bool, len(g.edges)) // undirected edges, once one end has run
	order := make([]int32, 0, planned)
	links := make([]Link, 0, len(g.edges))
	var ready minHeap

	var release func(v int32)
	finish := func(u int32) {
		state[u] = stDone
		lo, hi := g.cons.span(u)
		for i := lo; i < hi; i++ {
			s := g.cons.to[i]
			count[s]--
			release(s)
		}
	}
	release = func(v int32) {
		if state[v] != stIdle || count[v] != 0 {
			return
		}
		if v >= V {
			finish(v) // barrier or gate: complete
			return
		}
		if t.dist[v] >= 0 && reached[v] {
			state[v] = stQueued
			ready.push(int64(t.dist[v])<<32 | int64(v))
		}
	}
	for v := V; v < N; v++ {
		release(v)
	}
	for v := int32(0); v < V; v++ {
		release(v)
	}
	for len(ready) > 0 {
		u := int32(ready.pop() & 0xffffffff)
		t.pos[u] = int32(len(order))
		order = append(order, u)
		// Follow the references out of u: directed ones from u, and
		// undirected ones not yet oriented (u ran first, so they point away).
		lo, hi := g.reach.span(u)
		for i := lo; i < hi; i++ {
			e := g.edges[g.reach.to[i]]
			v := e.other(u)
			if !e.Directed {
				if oriented[e.id] {
					continue
				}
				oriented[e.id] = true
			}
			links = append(links, Link{Edge: e, Reversed: v == e.from, from: u, to: v})
			reached[v] = true
			release(v)
		}
		finish(u)
	}

	t.Steps = make([]Step, len(order))
	for i, id := range order {
		n := g.nodes[id]
		t.Steps[i].Node = n
		for _, s := range n.Seeds {
			if supplied(s.Identity) {
				t.Steps[i].Seeds = append(t.Steps[i].Seeds, s)
			}
		}
	}
	t.collectInputs(links)
	t.collectDependencies()

	if int32(len(order)) < planned {
		return t, t.deadlock(state, reached, pred)
	}
	return t, nil
}

// collectInputs puts the links in edge order (each edge gives at most one
// link), then groups them by target step with a stable counting sort, so
// every Inputs slice is in edge order too and shares one backing array.
func (t *Traversal) collectInputs(links []Link) {
	g := t.Graph
	at := make([]int32, len(g.edges))
	for i := range at {
		at[i] = -1
	}
	for i, l := range links {
		if t.pos[l.to] >= 0 { // after a deadlock, some targets never ran
			at[l.Edge.id] = int32(i)
		}
	}
	t.Links = make([]Link, 0, len(links))
	for _, i := range at {
		if i >= 0 {
			t.Links = append(t.Links, links[i])
		}
	}
	start := make([]int32, len(t.Steps)+1)
	for _, l := range t.Links {
		start[t.pos[l.to]+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	flat := make([]Link, len(t.Links))
	next := append([]int32(nil), start[:len(t.Steps)]...)
	for _, l := range t.Links {
		p := t.pos[l.to]
		flat[next[p]] = l
		next[p]++
	}
	for i := range t.Steps {
		if start[i+1] > start[i] {
			t.Steps[i].Inputs = flat[start[i]:start[i+1]:start[i+1]]
		}
	}
}

// collectDependencies lists, for each step, the planned collections it
// waits for: input sources and `after` targets (a dataset named in `after`
// stands for its planned collections).
func (t *Traversal) collectDependencies() {
	g := t.Graph
	V := int32(len(g.nodes))
	D := int32(len(g.datasets))
	stamp := make([]int32, V)
	var ids []int32 // sorted per step as ids: cheaper than sorting pointers
	bounds := make([]int, len(t.Steps)+1)
	var mark int32
	add := func(id int32) {
		if t.planned(id) && stamp[id] != mark {
			stamp[id] = mark
			ids = append(ids, id)
		}
	}
	addGroup := func(d int32) {
		for _, id := range g.datasets[d].nodes {
			add(id)
		}
	}
	for i := range t.Steps {
		s := &t.Steps[i]
		mark = int32(i + 1)
		stamp[s.Node.id] = mark // never a dependency of itself
		begin := len(ids)
		for _, l := range s.Inputs {
			add(l.from)
		}
		lo, hi := g.consR.span(s.Node.id)
		for k := lo; k < hi; k++ {
			src := g.consR.to[k]
			switch {
			case src < V:
				add(src)
			case src < V+D:
				addGroup(src - V)
			default: // the dataset's gate: what the dataset's `after` names
				glo, ghi := g.consR.span(src)
				for j := glo; j < ghi; j++ {
					if gs := g.consR.to[j]; gs < V {
						add(gs)
					} else {
						addGroup(gs - V)
					}
				}
			}
		}
		slices.Sort(ids[begin:])
		bounds[i+1] = len(ids)
	}
	flat := make([]*Node, len(ids))
	for i, id := range ids {
		flat[i] = g.nodes[id]
	}
	for i := range t.Steps {
		if bounds[i+1] > bounds[i] {
			t.Steps[i].Dependencies = flat[bounds[i]:bounds[i+1]:bounds[i+1]]
		}
	}
}

// deadlock explains why some reached collections never became ready: it
// follows, from the first blocked collection in address order, what each
// blocked node waits for, until a node repeats.
func (t *Traversal) deadlock(state []uint8, reached []bool, pred []int32) *CycleError {
	g := t.Graph
	V := int32(len(g.nodes))
	active := func(v int32) bool { return v >= V || t.dist[v] >= 0 }
	waitsFor := func(v int32) (int32, reason) {
		lo, hi := g.consR.span(v)
		for i := lo; i < hi; i++ {
			if s := g.consR.to[i]; active(s) && state[s] != stDone {
				return s, g.consR.why[i]
			}
		}
		// Not reached yet: it waits for the collection it is first reached through.
		e := g.edges[pred[v]]
		return e.other(v), reason{kind: reasonReach, a: e.id}
	}
	start := int32(-1)
	for v := int32(0); v < V; v++ {
		if t.dist[v] >= 0 && state[v] != stDone {
			start = v
			break
		}
	}
	seenAt := map[int32]int{}
	var walk []int32
	var whys []reason // whys[i]: walk[i+1] must come before walk[i]
	v := start
	for {
		if at, ok := seenAt[v]; ok {
			// walk[at:] is the loop, in "waits for" order; reverse it.
			loop := walk[at:]
			lw := whys[at:]
			verts := make([]int32, 0, len(loop)+1)
			arcs := make([]reason, 0, len(loop))
			verts = append(verts, v)
			for i := len(loop) - 1; i >= 0; i-- {
				verts = append(verts, loop[i])
				arcs = append(arcs, lw[i])
			}
			return g.cycleError(false, verts, arcs)
		}
		seenAt[v] = len(walk)
		walk = append(walk, v)
		next, why := waitsFor(v)
		whys = append(whys, why)
		v = next
	}
}

// Needs returns, for each collection of Unreached (same index), the names
// of the identities not supplied that would each reach it if the request
// also supplied them, sorted. An empty list means no declared identity
// reaches it. Cost: O(k·(U+E)) for k identities not supplied, over the
// unreached part of the graph only.
func (t *Traversal) Needs() [][]string {
	g := t.Graph
	out := make([][]string, len(t.Unreached))
	if len(t.Unreached) == 0 {
		return out
	}
	idx := make([]int32, len(g.nodes))
	for i := range idx {
		idx[i] = -1
	}
	for i, n := range t.Unreached {
		idx[n.id] = int32(i)
	}
	stamp := make([]int32, len(g.nodes))
	var queue []int32
	for k, name := range g.identities {
		if i := sort.SearchStrings(t.Supplied, name); i < len(t.Supplied) && t.Supplied[i] == name {
			continue
		}
		mark := int32(k + 1)
		queue = queue[:0]
		for _, n := range t.Unreached {
			for _, s := range n.Seeds {
				if s.Identity == name {
					stamp[n.id] = mark
					queue = append(queue, n.id)
					break
				}
			}
		}
		for qi := 0; qi < len(queue); qi++ {
			u := queue[qi]
			out[idx[u]] = append(out[idx[u]], name)
			lo, hi := g.reach.span(u)
			for i := lo; i < hi; i++ {
				v := g.edges[g.reach.to[i]].other(u)
				if idx[v] >= 0 && stamp[v] != mark {
					stamp[v] = mark
					queue = append(queue, v)
				}
			}
		}
	}
	return out
}
