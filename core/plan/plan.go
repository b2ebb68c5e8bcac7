package plan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/graph"
)

// Options says what the request supplies and asks for.
type Options struct {
	// Identities are the names of the identities the request has values
	// for ("email", "phone_number", ...).
	Identities []string
	// Erasure asks for an erasure order (the policy has erasure rules).
	Erasure bool
	// Normalize holds, by identity name, the normalizations the
	// configuration declares for it (shown with the plan; applied to the
	// values at intake, not here). Only supplied identities are kept.
	Normalize map[string][]string
}

// Plan is the plan of one request.
type Plan struct {
	// Identities are the supplied identity names some field declares,
	// sorted; UnknownIdentities are the supplied names no field declares.
	Identities        []string
	UnknownIdentities []string
	// Nodes are the reached collections in access order: each after all of
	// its Dependencies.
	Nodes []Node
	// Edges are the references between reached collections, oriented for
	// this request, in graph edge order.
	Edges []Edge
	// Erasure is the erasure order, dependents first; nil unless
	// Options.Erasure.
	Erasure []ErasureNode
	// Skipped are the collections the request does not reach, in address
	// order.
	Skipped []Skipped
	// Shared are the reached collections with shared inputs, in access
	// order: the rows they find only through those inputs are not the
	// subject's, are never erased and feed no further collection.
	Shared []Shared
	// Normalize is Options.Normalize restricted to the supplied
	// identities that declare normalizations; nil when none does.
	Normalize map[string][]string
}

// Shared is a collection reached through shared references.
type Shared struct {
	Address dataset.CollectionAddress
	// Fields are this collection's fields that shared references find rows
	// by: a shared row's access package holds only these fields.
	Fields []dataset.Path
	// All reports that every row of the collection is reached only through
	// shared references (no seed, no other input): none is erased.
	All bool
}

// Node is one collection to query.
type Node struct {
	Address    dataset.CollectionAddress
	Dataset    *dataset.Dataset
	Collection *dataset.Collection
	// Dependencies are every collection that must finish first: each
	// collection with a reference oriented into this one, and every
	// collection named (directly or through its dataset) in `after`, in
	// address order.
	Dependencies []dataset.CollectionAddress
	// Seeds are the fields filled from the request's identities.
	Seeds []Seed
	// Inputs are the references oriented into this collection. The query
	// selects rows where any seeded or input field holds one of the values
	// given for it (OR across fields).
	Inputs []Input
}

// Seed is a field whose values come from a request identity.
type Seed struct {
	Identity string
	Field    dataset.Path
}

// Input says that the values of a parent's field find rows by one of this
// collection's fields.
type Input struct {
	From dataset.FieldAddress // the parent's field
	To   dataset.Path         // this collection's field
	// Shared: the reference is declared shared; rows found only through
	// shared inputs are not the subject's.
	Shared bool
}

// Edge is a reference oriented for this request.
type Edge struct {
	From, To dataset.FieldAddress // the values of From find rows by To
	// Direction is as declared; DirectionEither means the traversal chose
	// the orientation (from the end that ran first).
	Direction dataset.Direction
	Declared  dataset.FieldAddress // the field that declares the reference
	Shared    bool                 // declared shared = true
}

// ErasureNode is one collection in erasure order.
type ErasureNode struct {
	Address dataset.CollectionAddress
	// After are the collections to erase before this one, in address order.
	After []dataset.CollectionAddress
}

// Skipped is a collection the request does not reach.
type Skipped struct {
	Address dataset.CollectionAddress
	// Identities are the identities, not supplied, each of which would
	// reach the collection. Empty when no declared identity reaches it.
	Identities []string
}

// ErrNothingReached reports a request whose identities reach no collection.
var ErrNothingReached = errors.New("no supplied identity reaches any collection")

// New plans a request over g (built by graph.Build without errors).
//
// It fails with an error wrapping ErrNothingReached when no supplied
// identity is declared by any field, and with one wrapping a
// *graph.CycleError when the reached collections cannot be ordered (for
// example a collection that must run after another it alone reaches), or
// when the erasure order is contradictory. Cost: O(V log V + E) for the
// order, plus the size of the plan (an `after` naming a dataset expands to
// each of its reached collections).
func New(g *graph.Graph, opts Options) (*Plan, error) {
	if g == nil {
		return nil, errors.New("plan: no graph")
	}
	t, err := g.Traverse(opts.Identities)
	if err != nil {
		return nil, fmt.Errorf("plan access order: %w", err)
	}
	if len(t.Steps) == 0 {
		return nil, fmt.Errorf("plan: %w: supplied %s; the datasets declare %s",
			ErrNothingReached, listOrNone(append(append([]string(nil), t.Supplied...), t.Unknown...)), listOrNone(g.Identities()))
	}
	p := &Plan{
		Identities:        t.Supplied,
		UnknownIdentities: t.Unknown,
		Nodes:             make([]Node, len(t.Steps)),
		Edges:             make([]Edge, len(t.Links)),
	}
	nInputs, nDeps, nSeeds := 0, 0, 0
	for _, s := range t.Steps {
		nInputs += len(s.Inputs)
		nDeps += len(s.Dependencies)
		nSeeds += len(s.Seeds)
	}
	// One backing array per kind keeps allocations independent of V.
	inputs := make([]Input, 0, nInputs)
	deps := make([]dataset.CollectionAddress, 0, nDeps)
	seeds := make([]Seed, 0, nSeeds)
	for i, s := range t.Steps {
		n := &p.Nodes[i]
		n.Address, n.Dataset, n.Collection = s.Node.Address, s.Node.Dataset, s.Node.Collection
		b := len(seeds)
		for _, sd := range s.Seeds {
			seeds = append(seeds, Seed{Identity: sd.Identity, Field: sd.Field})
		}
		n.Seeds = seeds[b:len(seeds):len(seeds)]
		b = len(inputs)
		for _, l := range s.Inputs {
			inputs = append(inputs, Input{From: l.From(), To: l.To().Field, Shared: l.Edge.Shared})
		}
		n.Inputs = inputs[b:len(inputs):len(inputs)]
		if sh, ok := sharedOf(n); ok {
			p.Shared = append(p.Shared, sh)
		}
		b = len(deps)
		for _, d := range s.Dependencies {
			deps = append(deps, d.Address)
		}
		n.Dependencies = deps[b:len(deps):len(deps)]
	}
	for i, l := range t.Links {
		p.Edges[i] = Edge{From: l.From(), To: l.To(), Direction: l.Edge.Direction, Declared: l.Edge.Declared, Shared: l.Edge.Shared}
	}
	if opts.Erasure {
		steps, err := t.Erasure()
		if err != nil {
			return nil, fmt.Errorf("plan erasure order: %w", err)
		}
		p.Erasure = make([]ErasureNode, len(steps))
		total := 0
		for _, s := range steps {
			total += len(s.After)
		}
		after := make([]dataset.CollectionAddress, 0, total)
		for i, s := range steps {
			b := len(after)
			for _, a := range s.After {
				after = append(after, a.Address)
			}
			p.Erasure[i] = ErasureNode{Address: s.Node.Address, After: after[b:len(after):len(after)]}
		}
	}
	for _, name := range p.Identities {
		if steps := opts.Normalize[name]; len(steps) > 0 {
			if p.Normalize == nil {
				p.Normalize = map[string][]string{}
			}
			p.Normalize[name] = append([]string(nil), steps...)
		}
	}
	needs := t.Needs()
	p.Skipped = make([]Skipped, len(t.Unreached))
	for i, n := range t.Unreached {
		p.Skipped[i] = Skipped{Address: n.Address, Identities: needs[i]}
	}
	return p, nil
}

// sharedOf describes n's shared inputs, if it has any.
func sharedOf(n *Node) (Shared, bool) {
	sh := Shared{Address: n.Address, All: len(n.Seeds) == 0}
	seen := map[string]bool{}
	for _, in := range n.Inputs {
		if !in.Shared {
			sh.All = false
			continue
		}
		if k := in.To.String(); !seen[k] {
			seen[k] = true
			sh.Fields = append(sh.Fields, in.To)
		}
	}
	return sh, len(sh.Fields) > 0
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
