package graph

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/dataset"
)

// Graph is the checked, immutable graph of all collections. It is safe for
// concurrent use once built.
type Graph struct {
	nodes      []*Node
	edges      []*Edge
	datasets   []*datasetInfo // sorted by name
	identities []string       // sorted, distinct

	byAddr    map[dataset.CollectionAddress]*Node
	byDataset map[string]*datasetInfo

	// reach lists, per node, the edges its rows can be followed along once
	// it has run: directed edges leaving it and undirected edges touching it.
	reach csr
	// cons is the constraint graph used for ordering: nodes 0..V-1 are the
	// collections; V+d is the barrier "every collection of dataset d has
	// run", V+D+d the gate "dataset d's own `after` list is satisfied".
	// An edge u -> v means u must finish before v starts.
	cons  csr
	consR csr // cons reversed, to explain what a blocked node waits for
}

// Node is one collection.
type Node struct {
	Address    dataset.CollectionAddress
	Dataset    *dataset.Dataset
	Collection *dataset.Collection
	// Seeds are the fields seeded from request identities, sorted by
	// identity name, then field path.
	Seeds []Seed
	// After is the collection's own `after` list, resolved.
	After []Dep
	// DatasetAfter is the `after` list of the collection's dataset, which
	// applies to every collection of that dataset. Shared between them.
	DatasetAfter []Dep
	// EraseAfter is the collection's `erase_after` list, resolved.
	EraseAfter []Dep

	id int32
	ds int32 // index in Graph.datasets
}

// ID is the node's index in Graph.Nodes (address order).
func (n *Node) ID() int { return int(n.id) }

// String returns "dataset.collection".
func (n *Node) String() string { return n.Address.String() }

// Seed is a field whose values come from a request identity.
type Seed struct {
	Identity string
	Field    dataset.Path
	Range    hcl.Range
}

// Dep is one resolved `after` or `erase_after` entry: either one collection
// or every collection of a dataset.
type Dep struct {
	Entry   string // as written in the configuration
	Node    *Node  // the collection, when the entry names one
	Dataset string // the dataset, when the entry names a whole dataset
	// Range is where the entry is written (the list attribute, or the
	// enclosing block when the loader recorded no finer range).
	Range hcl.Range
	group int32 // dataset index when Dataset is set, else -1
}

// Edge is one reference between fields of two collections.
type Edge struct {
	// From and To are the two ends. For a directed edge, From's values find
	// rows of To. For an undirected edge (no direction declared), From is
	// the end with the smaller address; Traverse orients it per request.
	From, To dataset.FieldAddress
	Directed bool
	// Declared is the field that declares the reference, and Direction the
	// direction written on it.
	Declared  dataset.FieldAddress
	Direction dataset.Direction
	// Shared: the rows the edge reaches are not the subject's (the
	// reference declares shared = true).
	Shared bool
	Range  hcl.Range

	id       int32
	from, to int32 // node ids of From and To
}

// ID is the edge's index in Graph.Edges.
func (e *Edge) ID() int { return int(e.id) }

// FromNode and ToNode return the node ids of the edge's ends.
func (e *Edge) FromNode() int { return int(e.from) }

// ToNode returns the node id of To.
func (e *Edge) ToNode() int { return int(e.to) }

// other returns the end of e that is not node n.
func (e *Edge) other(n int32) int32 {
	if e.from == n {
		return e.to
	}
	return e.from
}

type datasetInfo struct {
	model *dataset.Dataset
	idx   int32   // index in Graph.datasets
	nodes []int32 // node ids, ascending
	after []Dep   // dataset-level `after`, resolved
	// barrier reports whether some `after`/`erase_after` entry names the
	// whole dataset, so the constraint graph has its barrier node.
	barrier bool
}

// Nodes returns every collection, in address order. Node i has ID i.
func (g *Graph) Nodes() []*Node { return g.nodes }

// Edges returns every reference, deduplicated, in declaration order over
// the node order. Edge i has ID i.
func (g *Graph) Edges() []*Edge { return g.edges }

// Node returns the collection at addr, or nil.
func (g *Graph) Node(addr dataset.CollectionAddress) *Node { return g.byAddr[addr] }

// Identities returns the names of all declared identities, sorted.
func (g *Graph) Identities() []string { return g.identities }

// Datasets returns the datasets in name order.
func (g *Graph) Datasets() []*dataset.Dataset {
	out := make([]*dataset.Dataset, len(g.datasets))
	for i, d := range g.datasets {
		out[i] = d.model
	}
	return out
}

// DatasetNodes returns the collections of the named dataset in address
// order, or nil.
func (g *Graph) DatasetNodes(name string) []*Node {
	d := g.byDataset[name]
	if d == nil {
		return nil
	}
	out := make([]*Node, len(d.nodes))
	for i, id := range d.nodes {
		out[i] = g.nodes[id]
	}
	return out
}

func lessAddr(a, b dataset.CollectionAddress) bool {
	if a.Dataset != b.Dataset {
		return a.Dataset < b.Dataset
	}
	return a.Collection < b.Collection
}
