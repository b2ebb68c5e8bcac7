package graph

// reasonKind says why one node must run before another.
type reasonKind uint8

const (
	reasonMember       reasonKind = iota // a collection belongs to a dataset barrier, or a gate opens its dataset
	reasonReference                      // a directed reference: a = edge id
	reasonAfter                          // a collection's own `after`: a = node id, b = entry index
	reasonDatasetAfter                   // a dataset's `after`: a = dataset index, b = entry index
	reasonReach                          // only reached through a reference: a = edge id
	reasonChild                          // erasure: a child is erased before its parent
	reasonEraseAfter                     // erasure: a collection's `erase_after`: a = node id, b = entry index
)

type reason struct {
	kind reasonKind
	a, b int32
}

// csr is a compressed adjacency list: the successors of v are
// to[start[v]:start[v+1]], with why[i] the reason of edge i.
type csr struct {
	start []int32
	to    []int32
	why   []reason
}

type arc struct {
	from, to int32
	why      reason
}

// newCSR lays the arcs out by source node, keeping the order in which they
// were given within each node (a stable counting sort: O(n + arcs)).
func newCSR(n int, arcs []arc, reversed bool) csr {
	c := csr{
		start: make([]int32, n+1),
		to:    make([]int32, len(arcs)),
		why:   make([]reason, len(arcs)),
	}
	for _, a := range arcs {
		src := a.from
		if reversed {
			src = a.to
		}
		c.start[src+1]++
	}
	for i := 1; i <= n; i++ {
		c.start[i] += c.start[i-1]
	}
	next := make([]int32, n)
	copy(next, c.start[:n])
	for _, a := range arcs {
		src, dst := a.from, a.to
		if reversed {
			src, dst = dst, src
		}
		i := next[src]
		next[src]++
		c.to[i] = dst
		c.why[i] = a.why
	}
	return c
}

func (c *csr) span(v int32) (int32, int32) { return c.start[v], c.start[v+1] }

// minHeap is a binary min-heap of int64 keys, allocation-free once grown.
type minHeap []int64

func (h *minHeap) push(x int64) {
	*h = append(*h, x)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p] <= s[i] {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *minHeap) pop() int64 {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		m := l
		if r := l + 1; r < len(s) && s[r] < s[l] {
			m = r
		}
		if s[i] <= s[m] {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// sccs numbers the strongly connected components of c (Tarjan, iterative;
// visits vertices in ascending order and successors in stored order, so
// the numbering is deterministic). It returns each vertex's component and
// the number of components.
func sccs(c *csr, n int) ([]int32, int) {
	const unvisited = -1
	index := make([]int32, n)
	low := make([]int32, n)
	comp := make([]int32, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = unvisited
		comp[i] = -1
	}
	var (
		stack []int32
		next  int32
		count int32
	)
	type frame struct{ v, edge int32 }
	var call []frame
	for root := int32(0); root < int32(n); root++ {
		if index[root] != unvisited {
			continue
		}
		call = append(call, frame{root, c.start[root]})
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.edge < c.start[v+1] {
				w := c.to[f.edge]
				f.edge++
				if index[w] == unvisited {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, c.start[w]})
				} else if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				if p := call[len(call)-1].v; low[v] < low[p] {
					low[p] = low[v]
				}
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = count
					if w == v {
						break
					}
				}
				count++
			}
		}
	}
	return comp, int(count)
}
