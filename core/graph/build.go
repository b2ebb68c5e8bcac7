package graph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/dataset"
)

// Build makes the graph of all collections of datasets and checks it:
// references that point nowhere, references from a collection to itself,
// `after` / `erase_after` entries that name nothing, cycles through
// references and `after`, collections that no declared identity reaches,
// and orderings that cannot be satisfied even when every identity is
// supplied. The graph is returned even when diagnostics report errors, with
// the offending references and entries left out; do not plan requests on it
// then.
//
// The order of datasets, and of collections inside a dataset, does not
// matter: the result and the diagnostics are the same for any order.
// Cost: O(V log V + E) for V collections and E references plus entries.
func Build(datasets []*dataset.Dataset) (*Graph, hcl.Diagnostics) {
	b := &builder{g: &Graph{
		byAddr:    map[dataset.CollectionAddress]*Node{},
		byDataset: map[string]*datasetInfo{},
	}}
	b.addNodes(datasets)
	b.addFields()
	b.resolveConstraints()
	b.index()
	cyclic := b.checkCycles()
	b.checkTraversal(cyclic)
	return b.g, b.diags
}

type builder struct {
	g     *Graph
	diags hcl.Diagnostics
	dedup map[edgeKey]*Edge
}

type edgeKey struct {
	from, to         int32
	fromPath, toPath string
	directed         bool
}

func (b *builder) errorf(subject hcl.Range, summary, detail string, args ...any) {
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
	}
	if subject != (hcl.Range{}) {
		r := subject
		d.Subject = &r
	}
	b.diags = append(b.diags, d)
}

// firstRange returns the first range that points somewhere.
func firstRange(rs ...hcl.Range) hcl.Range {
	for _, r := range rs {
		if r != (hcl.Range{}) {
			return r
		}
	}
	return hcl.Range{}
}

func (b *builder) addNodes(datasets []*dataset.Dataset) {
	g := b.g
	dss := make([]*dataset.Dataset, 0, len(datasets))
	for _, ds := range datasets {
		if ds != nil {
			dss = append(dss, ds)
		}
	}
	sort.SliceStable(dss, func(i, j int) bool { return dss[i].Name < dss[j].Name })
	type pending struct {
		ds   *datasetInfo
		coll *dataset.Collection
	}
	var all []pending
	for _, ds := range dss {
		if prev := g.byDataset[ds.Name]; prev != nil {
			b.errorf(ds.Range, "Duplicate dataset",
				"Dataset %q is declared twice (also at %s). Rename one of them; dataset names are global.",
				ds.Name, prev.model.Range)
			continue
		}
		info := &datasetInfo{model: ds, idx: int32(len(g.datasets))}
		g.byDataset[ds.Name] = info
		g.datasets = append(g.datasets, info)
		for _, c := range ds.Collections {
			if c != nil {
				all = append(all, pending{info, c})
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.ds.model.Name != b.ds.model.Name {
			return a.ds.model.Name < b.ds.model.Name
		}
		return a.coll.Name < b.coll.Name
	})
	g.nodes = make([]*Node, 0, len(all))
	for _, p := range all {
		addr := dataset.CollectionAddress{Dataset: p.ds.model.Name, Collection: p.coll.Name}
		if prev := g.byAddr[addr]; prev != nil {
			b.errorf(p.coll.Range, "Duplicate collection",
				"Dataset %q declares collection %q twice (also at %s). Rename or merge one of them.",
				addr.Dataset, addr.Collection, prev.Collection.Range)
			continue
		}
		n := &Node{
			Address:    addr,
			Dataset:    p.ds.model,
			Collection: p.coll,
			id:         int32(len(g.nodes)),
			ds:         p.ds.idx,
		}
		g.nodes = append(g.nodes, n)
		g.byAddr[addr] = n
		p.ds.nodes = append(p.ds.nodes, n.id)
	}
}

// addFields walks every field of every collection, in node order and
// declaration order, collecting references as edges and identities as seeds.
func (b *builder) addFields() {
	b.dedup = map[edgeKey]*Edge{}
	names := map[string]struct{}{}
	for _, n := range b.g.nodes {
		b.walkFields(n, nil, n.Collection.Fields, names)
		sort.SliceStable(n.Seeds, func(i, j int) bool {
			a, c := n.Seeds[i], n.Seeds[j]
			if a.Identity != c.Identity {
				return a.Identity < c.Identity
			}
			return a.Field.String() < c.Field.String()
		})
	}
	ids := make([]string, 0, len(names))
	for name := range names {
		ids = append(ids, name)
	}
	sort.Strings(ids)
	b.g.identities = ids
	b.dedup = nil
}

func (b *builder) walkFields(n *Node, prefix dataset.Path, fields []*dataset.Field, names map[string]struct{}) {
	for _, f := range fields {
		if f == nil {
			continue
		}
		path := make(dataset.Path, len(prefix)+1)
		copy(path, prefix)
		path[len(prefix)] = f.Name
		if f.Identity != "" {
			n.Seeds = append(n.Seeds, Seed{Identity: f.Identity, Field: path, Range: f.Range})
			names[f.Identity] = struct{}{}
		}
		for i := range f.References {
			b.addReference(n, path, f, &f.References[i])
		}
		if len(f.Fields) > 0 {
			b.walkFields(n, path, f.Fields, names)
		}
	}
}

func (b *builder) addReference(n *Node, path dataset.Path, f *dataset.Field, r *dataset.Reference) {
	g := b.g
	decl := dataset.FieldAddress{Dataset: n.Address.Dataset, Collection: n.Address.Collection, Field: path}
	rng := firstRange(r.Range, f.Range, n.Collection.Range)
	target := r.Target
	if g.byDataset[target.Dataset] == nil {
		b.errorf(rng, "Reference to an unknown dataset",
			"Field %s references %q, but no dataset %q is declared. Fix the reference or declare the dataset.",
			decl, target, target.Dataset)
		return
	}
	tn := g.byAddr[target.CollectionAddress()]
	if tn == nil {
		b.errorf(rng, "Reference to an unknown collection",
			"Field %s references %q, but dataset %q has no collection %q. Fix the reference or declare the collection.",
			decl, target, target.Dataset, target.Collection)
		return
	}
	if len(target.Field) == 0 || tn.Collection.Field(target.Field) == nil {
		b.errorf(rng, "Reference to an unknown field",
			"Field %s references %q, but collection %s has no field %q. Fix the reference to name a declared field (nested fields as parent.child).",
			decl, target, tn.Address, target.Field)
		return
	}
	if tn == n {
		b.errorf(rng, "Reference from a collection to itself",
			"Field %s references %s in the same collection; references must join two different collections. Remove the reference.",
			decl, target)
		return
	}
	e := &Edge{Declared: decl, Direction: r.Direction, Shared: r.Shared, Range: rng}
	switch r.Direction {
	case dataset.DirectionTo:
		e.Directed, e.From, e.To, e.from, e.to = true, decl, target, n.id, tn.id
	case dataset.DirectionFrom:
		e.Directed, e.From, e.To, e.from, e.to = true, target, decl, tn.id, n.id
	case dataset.DirectionEither:
		e.From, e.To, e.from, e.to = decl, target, n.id, tn.id
		if tn.id < n.id || (tn.id == n.id && target.Field.String() < path.String()) {
			e.From, e.To, e.from, e.to = target, decl, tn.id, n.id
		}
	default:
		if dr, ok := r.Ranges["direction"]; ok {
			rng = dr
		}
		b.errorf(rng, "Invalid reference direction",
			"The reference from %s to %s has direction %q; use \"to\" (my values find rows there), \"from\" (their values find rows here), or omit it.",
			decl, target, r.Direction)
		return
	}
	key := edgeKey{from: e.from, to: e.to, fromPath: e.From.Field.String(), toPath: e.To.Field.String(), directed: e.Directed}
	if first, dup := b.dedup[key]; dup {
		if first.Shared != e.Shared {
			b.errorf(rng, "Conflicting shared declarations",
				"The reference between %s and %s is declared twice, on %s and on %s, and only one of them says shared = true. Declare shared the same way on both, or remove one of them.",
				e.From, e.To, first.Declared, decl)
		}
		return
	}
	b.dedup[key] = e
	e.id = int32(len(g.edges))
	g.edges = append(g.edges, e)
}

// resolve turns an `after` / `erase_after` entry into a Dep. Entries are a
// dataset key or dataset.collection.
func (b *builder) resolve(entry, attr, owner string, rng hcl.Range) (Dep, bool) {
	g := b.g
	ds, coll, isColl := strings.Cut(entry, ".")
	if !isColl {
		info := g.byDataset[entry]
		if info == nil {
			b.errorf(rng, fmt.Sprintf("Unknown dataset in %s", attr),
				"%s lists %q in %s, but no dataset %q is declared. Name a declared dataset, or dataset.collection.",
				owner, entry, attr, entry)
			return Dep{}, false
		}
		return Dep{Entry: entry, Dataset: entry, group: info.idx}, true
	}
	n := g.byAddr[dataset.CollectionAddress{Dataset: ds, Collection: coll}]
	if n == nil {
		what := fmt.Sprintf("dataset %q has no collection %q", ds, coll)
		if g.byDataset[ds] == nil {
			what = fmt.Sprintf("no dataset %q is declared", ds)
		}
		b.errorf(rng, fmt.Sprintf("Unknown collection in %s", attr),
			"%s lists %q in %s, but %s. Name a declared dataset, or dataset.collection.",
			owner, entry, attr, what)
		return Dep{}, false
	}
	return Dep{Entry: entry, Node: n, group: -1}, true
}

func (b *builder) resolveConstraints() {
	g := b.g
	for di, info := range g.datasets {
		owner := fmt.Sprintf("Dataset %q", info.model.Name)
		for i, entry := range info.model.After {
			rng := entryRange(info.model.Ranges, "after", i, info.model.Range)
			dep, ok := b.resolve(entry, "after", owner, rng)
			if !ok {
				continue
			}
			dep.Range = rng
			switch {
			case dep.group == int32(di):
				b.errorf(rng, "Dataset waits for itself",
					"%s lists itself in after, so its collections would wait for themselves. Remove %q from its after list.",
					owner, entry)
				continue
			case dep.Node != nil && dep.Node.ds == int32(di):
				b.errorf(rng, "Dataset waits for its own collection",
					"%s lists its own collection %s in after; every collection of the dataset waits for it, including %s itself. Move %q to the after list of the collections that must wait for it.",
					owner, dep.Node.Address, dep.Node.Address, entry)
				continue
			}
			if dep.group >= 0 {
				g.datasets[dep.group].barrier = true
			}
			info.after = append(info.after, dep)
		}
		for _, id := range info.nodes {
			g.nodes[id].DatasetAfter = info.after
		}
	}
	for _, n := range g.nodes {
		n.After = b.resolveList(n, n.Collection.After, "after")
		n.EraseAfter = b.resolveList(n, n.Collection.EraseAfter, "erase_after")
	}
}

// entryRange is where the i-th entry of a list attribute is written, as
// the loader records it ("after[2]"), else the list, else fallback.
func entryRange(ranges map[string]hcl.Range, attr string, i int, fallback hcl.Range) hcl.Range {
	if r, ok := ranges[fmt.Sprintf("%s[%d]", attr, i)]; ok {
		return r
	}
	if r, ok := ranges[attr]; ok {
		return r
	}
	return fallback
}

func (b *builder) resolveList(n *Node, entries []string, attr string) []Dep {
	var out []Dep
	owner := fmt.Sprintf("Collection %s", n.Address)
	for i, entry := range entries {
		rng := entryRange(n.Collection.Ranges, attr, i, n.Collection.Range)
		dep, ok := b.resolve(entry, attr, owner, rng)
		if !ok {
			continue
		}
		dep.Range = rng
		switch {
		case dep.Node == n:
			b.errorf(rng, fmt.Sprintf("Collection waits for itself in %s", attr),
				"%s lists itself in %s. Remove %q.", owner, attr, entry)
			continue
		case dep.group == n.ds:
			b.errorf(rng, fmt.Sprintf("Collection waits for its own dataset in %s", attr),
				"%s lists its own dataset %q in %s, which includes %s itself. List the collections of %q it must wait for instead (as dataset.collection).",
				owner, entry, attr, n.Address, entry)
			continue
		}
		if dep.group >= 0 {
			b.g.datasets[dep.group].barrier = true
		}
		out = append(out, dep)
	}
	return out
}

// index lays out the adjacency the traversals use.
func (b *builder) index() {
	g := b.g
	V, D := int32(len(g.nodes)), int32(len(g.datasets))
	reach := make([]arc, 0, 2*len(g.edges))
	cons := make([]arc, 0, len(g.edges)+len(g.nodes))
	for _, e := range g.edges {
		reach = append(reach, arc{from: e.from, to: e.id})
		if !e.Directed {
			reach = append(reach, arc{from: e.to, to: e.id})
			continue
		}
		cons = append(cons, arc{from: e.from, to: e.to, why: reason{kind: reasonReference, a: e.id}})
	}
	for _, n := range g.nodes {
		for i, dep := range n.After {
			src := V + dep.group
			if dep.Node != nil {
				src = dep.Node.id
			}
			cons = append(cons, arc{from: src, to: n.id, why: reason{kind: reasonAfter, a: n.id, b: int32(i)}})
		}
	}
	for di, info := range g.datasets {
		gate := V + D + int32(di)
		for i, dep := range info.after {
			src := V + dep.group
			if dep.Node != nil {
				src = dep.Node.id
			}
			cons = append(cons, arc{from: src, to: gate, why: reason{kind: reasonDatasetAfter, a: int32(di), b: int32(i)}})
		}
		if len(info.after) > 0 {
			for _, id := range info.nodes {
				cons = append(cons, arc{from: gate, to: id, why: reason{kind: reasonMember}})
			}
		}
		if info.barrier {
			for _, id := range info.nodes {
				cons = append(cons, arc{from: id, to: V + int32(di), why: reason{kind: reasonMember}})
			}
		}
	}
	n := int(V + 2*D)
	g.reach = newCSR(int(V), reach, false)
	g.cons = newCSR(n, cons, false)
	g.consR = newCSR(n, cons, true)
}

// checkCycles reports one diagnostic per strongly connected component of
// the constraint graph (directed references and `after`), naming the
// shortest cycle through the component's first collection in address order.
func (b *builder) checkCycles() bool {
	g := b.g
	V := int32(len(g.nodes))
	n := len(g.cons.start) - 1
	comp, count := sccs(&g.cons, n)
	size := make([]int32, count)
	for _, c := range comp {
		size[c]++
	}
	seen := make([]bool, count)
	parent := make([]int32, n)
	parentWhy := make([]reason, n)
	mark := make([]int32, n) // component id + 1 once visited by that component's search
	var queue []int32
	found := false
	for s := int32(0); s < V; s++ {
		c := comp[s]
		if size[c] < 2 || seen[c] {
			continue
		}
		seen[c] = true
		found = true
		// Shortest path s -> ... -> s inside the component (BFS).
		queue = append(queue[:0], s)
		mark[s] = c + 1
		var last int32 = -1
		var closing reason
	search:
		for qi := 0; qi < len(queue); qi++ {
			u := queue[qi]
			lo, hi := g.cons.span(u)
			for i := lo; i < hi; i++ {
				w := g.cons.to[i]
				if comp[w] != c {
					continue
				}
				if w == s {
					last, closing = u, g.cons.why[i]
					break search
				}
				if mark[w] != c+1 {
					mark[w] = c + 1
					parent[w], parentWhy[w] = u, g.cons.why[i]
					queue = append(queue, w)
				}
			}
		}
		// The cycle is s -> p1 -> ... -> last -> s.
		var back []int32
		for v := last; v != s; v = parent[v] {
			back = append(back, v)
		}
		verts := make([]int32, 0, len(back)+2)
		verts = append(verts, s)
		for i := len(back) - 1; i >= 0; i-- {
			verts = append(verts, back[i])
		}
		verts = append(verts, s)
		arcs := make([]reason, len(verts)-1)
		for i := 0; i+1 < len(verts)-1; i++ {
			arcs[i] = parentWhy[verts[i+1]]
		}
		arcs[len(arcs)-1] = closing
		ce := g.cycleError(false, verts, arcs)
		b.diags = append(b.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Dependency cycle: " + ce.path(),
			Detail:   "These collections wait for each other, so none of them could ever run:\n" + ce.hopList() + ce.fix(),
			Subject:  ce.subject(),
		})
	}
	return found
}

// checkTraversal plans a request that supplies every declared identity:
// collections it does not reach are unreachable by any request, and an
// ordering it cannot satisfy fails every such request.
func (b *builder) checkTraversal(cyclic bool) {
	g := b.g
	if len(g.nodes) == 0 {
		return
	}
	if len(g.identities) == 0 {
		d := g.datasets[0].model
		b.errorf(d.Range, "No identity declared",
			"No field of any dataset declares an identity, so no request can reach any collection. Set identity = \"email\" (or another identity name) on the fields a request's identity values should be looked up in.")
		return
	}
	t, cerr := g.traverse(g.identities)
	for _, n := range t.Unreached {
		b.unreachable(t, n)
	}
	if cyclic {
		return // the cycle diagnostics already explain why the traversal blocks
	}
	if cerr != nil {
		b.diags = append(b.diags, cerr.diagnostic("Even with every identity supplied, "))
		return
	}
	if _, err := t.Erasure(); err != nil {
		if ce, ok := err.(*CycleError); ok {
			b.diags = append(b.diags, ce.diagnostic(""))
		}
	}
}

func (b *builder) unreachable(t *Traversal, n *Node) {
	g := b.g
	var fixes []string
	// References that point away from n towards a reachable collection, and
	// unreachable neighbours through which n would be reached.
	var via []string
	lo, hi := g.reach.span(n.id)
	for i := lo; i < hi; i++ {
		e := g.edges[g.reach.to[i]]
		other := e.other(n.id)
		switch {
		case e.Directed && t.planned(other):
			fixes = append(fixes, fmt.Sprintf(
				"the reference between %s and %s (declared on %s with direction %q) only lets the values of %s find rows of %s; omit its direction so the values of %s can also find rows of %s",
				e.From, e.To, e.Declared, e.Direction, e.From, g.nodes[other].Address, e.To, n.Address))
		case !e.Directed:
			via = append(via, g.nodes[other].Address.String())
		}
	}
	clo, chi := g.consR.span(n.id)
	for i := clo; i < chi; i++ {
		if w := g.consR.why[i]; w.kind == reasonReference {
			via = append(via, g.nodes[g.consR.to[i]].Address.String())
		}
	}
	// Fields named like a declared identity.
	for _, f := range n.Collection.Fields {
		if f == nil || f.Identity != "" {
			continue
		}
		if i := sort.SearchStrings(g.identities, f.Name); i < len(g.identities) && g.identities[i] == f.Name {
			fixes = append(fixes, fmt.Sprintf("declare identity = %q on field %s.%s", f.Name, n.Address, f.Name))
		}
	}
	if len(fixes) == 0 {
		fixes = append(fixes, "declare identity = \"<name>\" on one of its fields, or add a reference to one of its fields from a reachable collection (direction \"to\" on the reachable side, \"from\" on this side, or none)")
	}
	detail := fmt.Sprintf("No identity seeds %s and no reference leads to it from a collection an identity reaches, so no request could ever query it. To make it reachable:\n  - %s",
		n.Address, strings.Join(fixes, "\n  - "))
	if len(via) > 0 {
		sort.Strings(via)
		via = dedupSorted(via)
		detail += fmt.Sprintf("\nIt would also be reached once %s is reachable.", strings.Join(via, " or "))
	}
	b.errorf(n.Collection.Range, "Collection not reachable from any identity", "%s", detail)
}

func dedupSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
