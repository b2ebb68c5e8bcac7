package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/graph"
)

// Property tests: random configurations are planned and every plan is
// checked against facts computed here by brute force from the random spec,
// not from the graph package's internals.

var identityPool = []string{"email", "phone", "ip"}

type specRef struct {
	decl, target int // node indexes; the reference is declared on decl
	dir          dataset.Direction
}

type spec struct {
	nDatasets  int
	dsOf       []int      // node -> dataset
	idents     [][]string // node -> identity names seeded
	after      [][]string // node -> collection-level after entries
	eraseAfter [][]string
	dsAfter    [][]string // dataset -> dataset-level after entries
	refs       []specRef
}

func dsName(d int) string              { return fmt.Sprintf("d%d", d) }
func (s *spec) addr(n int) string      { return fmt.Sprintf("d%d.c%d", s.dsOf[n], n) }
func (s *spec) n() int                 { return len(s.dsOf) }
func (s *spec) inDataset(n int) string { return dsName(s.dsOf[n]) }

// randomSpec makes a configuration of up to maxNodes collections. With dag
// set, directed references and `after` only point forwards in a hidden
// rank (datasets are contiguous in it), so they never form a cycle.
func randomSpec(rng *rand.Rand, maxNodes int, dag bool) *spec {
	s := &spec{nDatasets: 1 + rng.Intn(4)}
	n := 1 + rng.Intn(maxNodes)
	// Rank order: datasets in a random order, nodes grouped by dataset.
	dsOrder := rng.Perm(s.nDatasets)
	for i := 0; i < n; i++ {
		s.dsOf = append(s.dsOf, rng.Intn(s.nDatasets))
	}
	rank := make([]int, n)
	order := rng.Perm(n)
	sort.SliceStable(order, func(a, b int) bool {
		return dsOrder[s.dsOf[order[a]]] < dsOrder[s.dsOf[order[b]]]
	})
	for r, v := range order {
		rank[v] = r
	}
	s.idents = make([][]string, n)
	s.after = make([][]string, n)
	s.eraseAfter = make([][]string, n)
	s.dsAfter = make([][]string, s.nDatasets)
	for v := 0; v < n; v++ {
		if rng.Intn(4) == 0 {
			s.idents[v] = append(s.idents[v], identityPool[rng.Intn(len(identityPool))])
		}
	}
	s.idents[rng.Intn(n)] = append(s.idents[rng.Intn(n)], "email")
	pair := func() (int, int, bool) {
		if n < 2 {
			return 0, 0, false
		}
		a, b := rng.Intn(n), rng.Intn(n)
		if a == b {
			return 0, 0, false
		}
		return a, b, true
	}
	for k := rng.Intn(2*n + 1); k > 0; k-- {
		a, b, ok := pair()
		if !ok {
			continue
		}
		switch rng.Intn(3) {
		case 0:
			s.refs = append(s.refs, specRef{a, b, dataset.DirectionEither})
		default:
			// a directed reference from u to v (u's values find rows of v)
			u, v := a, b
			if dag && rank[u] > rank[v] {
				u, v = v, u
			}
			if rng.Intn(2) == 0 {
				s.refs = append(s.refs, specRef{u, v, dataset.DirectionTo})
			} else {
				s.refs = append(s.refs, specRef{v, u, dataset.DirectionFrom})
			}
		}
	}
	withAfter := rng.Intn(3) == 0
	if withAfter {
		for k := rng.Intn(3); k > 0; k-- {
			a, b, ok := pair() // b after a
			if !ok || (dag && rank[a] > rank[b]) {
				continue
			}
			if rng.Intn(3) == 0 && s.dsOf[a] != s.dsOf[b] {
				s.after[b] = append(s.after[b], s.inDataset(a))
			} else {
				s.after[b] = append(s.after[b], s.addr(a))
			}
		}
		if s.nDatasets > 1 && rng.Intn(2) == 0 {
			x, y := rng.Intn(s.nDatasets), rng.Intn(s.nDatasets) // x after y
			if x != y && (!dag || dsOrder[y] < dsOrder[x]) {
				s.dsAfter[x] = append(s.dsAfter[x], dsName(y))
			}
		}
	}
	if rng.Intn(2) == 0 {
		for k := 1 + rng.Intn(3); k > 0; k-- {
			a, b, ok := pair() // b erase_after a
			if !ok {
				continue
			}
			if rng.Intn(4) == 0 && s.dsOf[a] != s.dsOf[b] {
				s.eraseAfter[b] = append(s.eraseAfter[b], s.inDataset(a))
			} else {
				s.eraseAfter[b] = append(s.eraseAfter[b], s.addr(a))
			}
		}
	}
	return s
}

// datasets renders the spec as the model, with datasets and collections in
// an order chosen by rng (the plan must not depend on it).
func (s *spec) datasets(rng *rand.Rand) []*dataset.Dataset {
	dss := make([]*dataset.Dataset, s.nDatasets)
	for d := range dss {
		dss[d] = &dataset.Dataset{Name: dsName(d), Connection: "conn", After: s.dsAfter[d]}
	}
	colls := make([]*dataset.Collection, s.n())
	for v := range colls {
		c := &dataset.Collection{Name: fmt.Sprintf("c%d", v), After: s.after[v], EraseAfter: s.eraseAfter[v]}
		c.Fields = append(c.Fields, &dataset.Field{Name: "id"})
		for _, id := range s.idents[v] {
			c.Fields = append(c.Fields, &dataset.Field{Name: "id_" + id, Identity: id})
		}
		colls[v] = c
	}
	for k, r := range s.refs {
		t := dataset.FieldAddress{Dataset: s.inDataset(r.target), Collection: fmt.Sprintf("c%d", r.target), Field: dataset.Path{"id"}}
		colls[r.decl].Fields = append(colls[r.decl].Fields, &dataset.Field{
			Name:       fmt.Sprintf("r%d", k),
			References: []dataset.Reference{{Target: t, Direction: r.dir}},
		})
	}
	for _, v := range rng.Perm(s.n()) {
		d := dss[s.dsOf[v]]
		d.Collections = append(d.Collections, colls[v])
	}
	rng.Shuffle(len(dss), func(a, b int) { dss[a], dss[b] = dss[b], dss[a] })
	return dss
}

// facts are derived by brute force from a spec and a set of identities.
type facts struct {
	s        *spec
	supplied map[string]bool
	dist     []int          // -1 when unreached
	hard     [][]int        // node -> nodes it must wait for (directed parents, after), reached only
	reachIn  [][]int        // node -> nodes whose running reaches it
	byAddr   map[string]int // address -> node
}

func (s *spec) directedEnds(r specRef) (int, int) {
	if r.dir == dataset.DirectionFrom {
		return r.target, r.decl
	}
	return r.decl, r.target
}

// expand resolves an `after` entry to nodes.
func (s *spec) expand(entry string) []int {
	var out []int
	for v := 0; v < s.n(); v++ {
		if s.addr(v) == entry || s.inDataset(v) == entry {
			out = append(out, v)
		}
	}
	return out
}

func deriveFacts(s *spec, identities []string) *facts {
	f := &facts{s: s, supplied: map[string]bool{}, byAddr: map[string]int{}}
	for _, id := range identities {
		f.supplied[id] = true
	}
	n := s.n()
	for v := 0; v < n; v++ {
		f.byAddr[s.addr(v)] = v
	}
	f.reachIn = make([][]int, n)
	for _, r := range s.refs {
		if r.dir == dataset.DirectionEither {
			f.reachIn[r.target] = append(f.reachIn[r.target], r.decl)
			f.reachIn[r.decl] = append(f.reachIn[r.decl], r.target)
			continue
		}
		u, v := s.directedEnds(r)
		f.reachIn[v] = append(f.reachIn[v], u)
	}
	f.dist = f.bfs(f.supplied)
	f.hard = make([][]int, n)
	for v := 0; v < n; v++ {
		if f.dist[v] < 0 {
			continue
		}
		add := func(u int) {
			if u != v && f.dist[u] >= 0 {
				f.hard[v] = append(f.hard[v], u)
			}
		}
		for _, r := range s.refs {
			if r.dir != dataset.DirectionEither {
				if u, w := s.directedEnds(r); w == v {
					add(u)
				}
			}
		}
		for _, e := range s.after[v] {
			for _, u := range s.expand(e) {
				add(u)
			}
		}
		for _, e := range s.dsAfter[s.dsOf[v]] {
			for _, u := range s.expand(e) {
				add(u)
			}
		}
	}
	return f
}

func (f *facts) bfs(supplied map[string]bool) []int {
	n := f.s.n()
	dist := make([]int, n)
	for i := range dist {
		dist[i] = -1
	}
	var queue []int
	for v := 0; v < n; v++ {
		for _, id := range f.s.idents[v] {
			if supplied[id] && dist[v] < 0 {
				dist[v] = 0
				queue = append(queue, v)
			}
		}
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for w := 0; w < n; w++ {
			if dist[w] >= 0 {
				continue
			}
			for _, x := range f.reachIn[w] {
				if x == u {
					dist[w] = dist[u] + 1
					queue = append(queue, w)
					break
				}
			}
		}
	}
	return dist
}

// erasureNames reports whether v's erase_after names u.
func (f *facts) erasureNames(v, u int) bool {
	for _, e := range f.s.eraseAfter[v] {
		if e == f.s.addr(u) || e == f.s.inDataset(u) {
			return true
		}
	}
	return false
}

func TestPropertyPlans(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 60
	}
	stats := map[string]int{}
	for seed := 0; seed < seeds; seed++ {
		for _, dag := range []bool{true, false} {
			rng := rand.New(rand.NewSource(int64(seed)))
			s := randomSpec(rng, 14, dag)
			var ids []string
			if rng.Intn(4) > 0 {
				ids = append(ids, "email")
			}
			for _, id := range append(identityPool[1:], "bogus") {
				if rng.Intn(2) == 0 {
					ids = append(ids, id)
				}
			}
			name := fmt.Sprintf("seed=%d dag=%v ids=%v", seed, dag, ids)
			outcome := checkSpec(t, name, s, ids, rng)
			stats[fmt.Sprintf("dag=%v %s", dag, outcome)]++
		}
	}
	t.Logf("outcomes: %v", stats)
	// The generator must exercise every outcome, or the properties are vacuous.
	for _, k := range []string{"dag=true planned", "dag=false planned", "dag=false access cycle", "dag=true access cycle", "dag=true erasure cycle", "dag=true nothing reached"} {
		if stats[k] == 0 {
			t.Errorf("no case with outcome %q: %v", k, stats)
		}
	}
}

func checkSpec(t *testing.T, name string, s *spec, ids []string, rng *rand.Rand) string {
	t.Helper()
	g, diags := graph.Build(s.datasets(rng))
	f := deriveFacts(s, ids)
	checkCycleDiagnostics(t, name, s, f, diags)

	opts := Options{Identities: ids, Erasure: true}
	p, err := New(g, opts)
	var ce *graph.CycleError
	switch {
	case errors.Is(err, ErrNothingReached):
		for v := range f.dist {
			if f.dist[v] >= 0 {
				t.Fatalf("%s: ErrNothingReached, but %s is reachable", name, s.addr(v))
			}
		}
		return "nothing reached"
	case errors.As(err, &ce):
		checkCycle(t, name, f, ce)
		if !ce.Erasure {
			if f.accessOrderExists() {
				t.Fatalf("%s: access cycle reported, but an order exists: %v", name, err)
			}
			return "access cycle"
		}
		access, aerr := New(g, Options{Identities: ids})
		if aerr != nil {
			t.Fatalf("%s: erasure cycle, but access planning fails alone: %v", name, aerr)
		}
		if f.erasureOrderExists(access) {
			t.Fatalf("%s: erasure cycle reported, but an order exists: %v", name, err)
		}
		return "erasure cycle"
	case err != nil:
		t.Fatalf("%s: unexpected error %v", name, err)
	}
	if !f.accessOrderExists() {
		t.Fatalf("%s: planned, but no access order exists", name)
	}
	checkPlan(t, name, f, p)

	// Same input, fresh graph, another input order: identical bytes.
	g2, _ := graph.Build(s.datasets(rng))
	p2, err := New(g2, opts)
	if err != nil {
		t.Fatalf("%s: second run failed: %v", name, err)
	}
	for _, pair := range [][2]*Plan{{p, p2}} {
		j1, _ := json.Marshal(pair[0])
		j2, _ := json.Marshal(pair[1])
		var r1, r2 bytes.Buffer
		_ = pair[0].Render(&r1)
		_ = pair[1].Render(&r2)
		if !bytes.Equal(j1, j2) || !bytes.Equal(r1.Bytes(), r2.Bytes()) {
			t.Fatalf("%s: two runs differ:\n%s\n%s", name, j1, j2)
		}
	}
	return "planned"
}

// accessOrderExists places, one at a time and in any order, reached
// collections whose hard constraints are placed and that a placed
// collection (or an identity) reaches. Reaching only grows, so this gets
// stuck exactly when no order exists.
func (f *facts) accessOrderExists() bool {
	n := f.s.n()
	placed := make([]bool, n)
	left := 0
	for v := 0; v < n; v++ {
		if f.dist[v] >= 0 {
			left++
		}
	}
	for left > 0 {
		progress := false
		for w := 0; w < n; w++ {
			if f.dist[w] < 0 || placed[w] {
				continue
			}
			ok := true
			for _, u := range f.hard[w] {
				ok = ok && placed[u]
			}
			reached := f.dist[w] == 0
			for _, u := range f.reachIn[w] {
				reached = reached || placed[u]
			}
			if ok && reached {
				placed[w], progress = true, true
				left--
			}
		}
		if !progress {
			return false
		}
	}
	return true
}

// erasureOrderExists checks, for the access plan p, whether the erasure
// constraints (children first unless erase_after names the parent, and
// erase_after) admit an order.
func (f *facts) erasureOrderExists(p *Plan) bool {
	before := map[[2]int]bool{}
	for _, node := range p.Nodes {
		c := f.byAddr[node.Address.String()]
		for _, d := range node.Dependencies {
			if u := f.byAddr[d.String()]; !f.erasureNames(c, u) {
				before[[2]int{c, u}] = true
			}
		}
		for _, e := range f.s.eraseAfter[c] {
			for _, u := range f.s.expand(e) {
				if u != c && f.dist[u] >= 0 {
					before[[2]int{u, c}] = true
				}
			}
		}
	}
	done := map[int]bool{}
	for len(done) < len(p.Nodes) {
		progress := false
		for _, node := range p.Nodes {
			v := f.byAddr[node.Address.String()]
			if done[v] {
				continue
			}
			ok := true
			for k := range before {
				if k[1] == v && !done[k[0]] {
					ok = false
				}
			}
			if ok {
				done[v], progress = true, true
			}
		}
		if !progress {
			return false
		}
	}
	return true
}

func hasEraseAfter(s *spec) bool {
	for _, a := range s.eraseAfter {
		if len(a) > 0 {
			return true
		}
	}
	return false
}

// isDAG reports whether directed references and `after` are acyclic.
func (s *spec) isDAG() bool {
	n := s.n()
	succ := make([][]int, n)
	for _, r := range s.refs {
		if r.dir != dataset.DirectionEither {
			u, v := s.directedEnds(r)
			succ[u] = append(succ[u], v)
		}
	}
	for v := 0; v < n; v++ {
		for _, e := range s.after[v] {
			for _, u := range s.expand(e) {
				succ[u] = append(succ[u], v)
			}
		}
		for _, e := range s.dsAfter[s.dsOf[v]] {
			for _, u := range s.expand(e) {
				succ[u] = append(succ[u], v)
			}
		}
	}
	state := make([]int, n) // 0 new, 1 on path, 2 done
	var visit func(int) bool
	visit = func(u int) bool {
		state[u] = 1
		for _, w := range succ[u] {
			if state[w] == 1 || (state[w] == 0 && !visit(w)) {
				return false
			}
		}
		state[u] = 2
		return true
	}
	for v := 0; v < n; v++ {
		if state[v] == 0 && !visit(v) {
			return false
		}
	}
	return true
}

// checkCycleDiagnostics: Build names a dependency cycle exactly when the
// directed references and `after` have one, and every hop of every named
// cycle is one of those constraints.
func checkCycleDiagnostics(t *testing.T, name string, s *spec, f *facts, diags hcl.Diagnostics) {
	t.Helper()
	static := 0
	for _, d := range diags {
		path, ok := strings.CutPrefix(d.Summary, "Dependency cycle: ")
		if !ok || strings.Contains(d.Detail, "Even with every identity supplied") {
			continue
		}
		static++
		nodes := strings.Split(path, " -> ")
		if len(nodes) < 3 || nodes[0] != nodes[len(nodes)-1] {
			t.Fatalf("%s: malformed cycle %q", name, path)
		}
		for i := 0; i+1 < len(nodes); i++ {
			a, b := f.byAddr[nodes[i]], f.byAddr[nodes[i+1]]
			if !s.waitsFor(b, a) {
				t.Fatalf("%s: %s -> %s in %q is not a constraint", name, nodes[i], nodes[i+1], path)
			}
		}
	}
	if s.isDAG() != (static == 0) {
		t.Fatalf("%s: acyclic=%v but %d cycles reported:\n%s", name, s.isDAG(), static, diags.Error())
	}
}

// waitsFor reports whether b must run after a by a directed reference or
// an `after` entry (of b or of its dataset).
func (s *spec) waitsFor(b, a int) bool {
	for _, r := range s.refs {
		if r.dir != dataset.DirectionEither {
			if u, v := s.directedEnds(r); u == a && v == b {
				return true
			}
		}
	}
	for _, e := range append(append([]string(nil), s.after[b]...), s.dsAfter[s.dsOf[b]]...) {
		if e == s.addr(a) || e == s.inDataset(a) {
			return true
		}
	}
	return false
}

// checkCycle verifies that each hop of a reported cycle is a real
// constraint between the two collections.
func checkCycle(t *testing.T, name string, f *facts, ce *graph.CycleError) {
	t.Helper()
	s := f.s
	if len(ce.Cycle) < 3 || ce.Cycle[0] != ce.Cycle[len(ce.Cycle)-1] || len(ce.Hops) != len(ce.Cycle)-1 {
		t.Fatalf("%s: malformed cycle %v", name, ce)
	}
	for i := 0; i+1 < len(ce.Cycle); i++ {
		a, b := f.byAddr[ce.Cycle[i].Address.String()], f.byAddr[ce.Cycle[i+1].Address.String()]
		ok := false
		for _, r := range s.refs {
			if r.dir == dataset.DirectionEither {
				ok = ok || (r.decl == a && r.target == b) || (r.decl == b && r.target == a)
			} else if u, v := s.directedEnds(r); u == a && v == b {
				ok = true
			} else if ce.Erasure && u == b && v == a {
				ok = true // a depends on b and is erased first
			}
		}
		if ce.Erasure {
			ok = ok || f.erasureNames(b, a) || s.waitsFor(a, b) // a depends on b
		} else {
			ok = ok || s.waitsFor(b, a)
		}
		if !ok {
			t.Fatalf("%s: hop %s is not a constraint of the configuration: %v", name, ce.Hops[i], ce)
		}
	}
}

func checkPlan(t *testing.T, name string, f *facts, p *Plan) {
	t.Helper()
	s := f.s
	n := s.n()
	fail := func(format string, args ...any) {
		t.Helper()
		js, _ := json.MarshalIndent(p, "", " ")
		t.Fatalf("%s: %s\nplan: %s", name, fmt.Sprintf(format, args...), js)
	}
	// Every reachable node exactly once, nothing else.
	pos := make([]int, n)
	for i := range pos {
		pos[i] = -1
	}
	for i, node := range p.Nodes {
		v, ok := f.byAddr[node.Address.String()]
		if !ok || pos[v] >= 0 {
			fail("node %s unknown or planned twice", node.Address)
		}
		pos[v] = i
	}
	var wantSkipped []string
	for v := 0; v < n; v++ {
		if (f.dist[v] >= 0) != (pos[v] >= 0) {
			fail("%s: reachable=%v planned=%v", s.addr(v), f.dist[v] >= 0, pos[v] >= 0)
		}
		if f.dist[v] < 0 {
			wantSkipped = append(wantSkipped, s.addr(v))
		}
	}
	sort.Strings(wantSkipped)
	var gotSkipped []string
	for _, sk := range p.Skipped {
		gotSkipped = append(gotSkipped, sk.Address.String())
		// Identities that would reach it: brute force, one at a time.
		v := f.byAddr[sk.Address.String()]
		var want []string
		for _, id := range identityPool {
			if f.supplied[id] {
				continue
			}
			with := map[string]bool{id: true}
			for k := range f.supplied {
				with[k] = true
			}
			if f.bfs(with)[v] >= 0 {
				want = append(want, id)
			}
		}
		sort.Strings(want)
		if strings.Join(sk.Identities, ",") != strings.Join(want, ",") {
			fail("skipped %s needs %v, want %v", sk.Address, sk.Identities, want)
		}
	}
	if strings.Join(gotSkipped, " ") != strings.Join(wantSkipped, " ") {
		fail("skipped %v, want %v", gotSkipped, wantSkipped)
	}

	// Dependencies: exactly the hard constraints plus the undirected
	// neighbours that ran earlier; all of them earlier in the order.
	for i, node := range p.Nodes {
		v := f.byAddr[node.Address.String()]
		want := map[string]bool{}
		for _, u := range f.hard[v] {
			want[s.addr(u)] = true
		}
		for _, r := range s.refs {
			if r.dir != dataset.DirectionEither {
				continue
			}
			if u := r.decl + r.target - v; (r.decl == v || r.target == v) && pos[u] >= 0 && pos[u] < i {
				want[s.addr(u)] = true
			}
		}
		var got []string
		for _, d := range node.Dependencies {
			got = append(got, d.String())
			if u := f.byAddr[d.String()]; pos[u] >= i {
				fail("%s depends on %s, which comes later", node.Address, d)
			}
		}
		wantList := make([]string, 0, len(want))
		for a := range want {
			wantList = append(wantList, a)
		}
		sort.Strings(wantList)
		if strings.Join(got, " ") != strings.Join(wantList, " ") {
			fail("%s dependencies %v, want %v", node.Address, got, wantList)
		}
		// Seeds or inputs: every planned node has something to query by.
		if len(node.Seeds) == 0 && len(node.Inputs) == 0 {
			fail("%s has neither seeds nor inputs", node.Address)
		}
		if (f.dist[v] == 0) != (len(node.Seeds) > 0) {
			fail("%s: root=%v but %d seeds", node.Address, f.dist[v] == 0, len(node.Seeds))
		}
	}

	// The order is the greedy one: each node is, among those ready at its
	// turn, the first by (distance, address).
	for i, node := range p.Nodes {
		v := f.byAddr[node.Address.String()]
		best := -1
		for w := 0; w < n; w++ {
			if f.dist[w] < 0 || pos[w] < i {
				continue
			}
			ready := true
			for _, u := range f.hard[w] {
				ready = ready && pos[u] < i
			}
			reached := f.dist[w] == 0
			for _, u := range f.reachIn[w] {
				reached = reached || (pos[u] >= 0 && pos[u] < i)
			}
			if !ready || !reached {
				continue
			}
			if best < 0 || f.dist[w] < f.dist[best] || (f.dist[w] == f.dist[best] && s.addr(w) < s.addr(best)) {
				best = w
			}
		}
		if best != v {
			fail("step %d is %s, but the first ready collection is %v", i, node.Address, best)
		}
	}

	// Edges: declared directions kept, undirected ones from the end that ran first.
	for _, e := range p.Edges {
		a, b := f.byAddr[e.From.CollectionAddress().String()], f.byAddr[e.To.CollectionAddress().String()]
		if e.Direction == dataset.DirectionEither && pos[a] > pos[b] {
			fail("undirected edge %s -> %s oriented from the later end", e.From, e.To)
		}
		if pos[a] > pos[b] && e.Direction != dataset.DirectionEither {
			// a directed parent after its child is only possible if the
			// child did not wait, which Dependencies already rule out.
			fail("directed edge %s -> %s runs backwards", e.From, e.To)
		}
	}

	// Erasure: every planned node once; each erased before its dependencies
	// unless its erase_after names them; erase_after targets first; After
	// lists exactly those constraints.
	epos := make([]int, n)
	for i := range epos {
		epos[i] = -1
	}
	if len(p.Erasure) != len(p.Nodes) {
		fail("erasure order has %d nodes, access %d", len(p.Erasure), len(p.Nodes))
	}
	for i, e := range p.Erasure {
		v := f.byAddr[e.Address.String()]
		if epos[v] >= 0 || pos[v] < 0 {
			fail("erasure: %s twice or not planned", e.Address)
		}
		epos[v] = i
	}
	for _, e := range p.Erasure {
		v := f.byAddr[e.Address.String()]
		want := map[int]bool{}
		for _, entry := range s.eraseAfter[v] {
			for _, u := range s.expand(entry) {
				if u != v && pos[u] >= 0 {
					want[u] = true
				}
			}
		}
		for _, child := range p.Nodes {
			c := f.byAddr[child.Address.String()]
			for _, d := range child.Dependencies {
				if f.byAddr[d.String()] == v && !f.erasureNames(c, v) {
					want[c] = true
				}
			}
		}
		var wantList, got []string
		for u := range want {
			wantList = append(wantList, s.addr(u))
			if epos[u] >= epos[v] {
				fail("erasure: %s must come before %s", s.addr(u), e.Address)
			}
		}
		sort.Strings(wantList)
		for _, a := range e.After {
			got = append(got, a.String())
		}
		if strings.Join(got, " ") != strings.Join(wantList, " ") {
			fail("erasure: %s after %v, want %v", e.Address, got, wantList)
		}
	}
	if !hasEraseAfter(s) {
		for i, e := range p.Erasure {
			if e.Address != p.Nodes[len(p.Nodes)-1-i].Address {
				fail("without erase_after, erasure is not the reverse of the access order")
			}
		}
	}
}
