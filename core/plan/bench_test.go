package plan

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/graph"
)

// largeConfig makes nColl collections in datasets of 100, with nRef
// references: every collection but the first gets one reference from an
// earlier one (so all are reachable from the email roots), the rest join
// random pairs. Directed references point forwards in the creation order
// (no cycles); a third are undirected. One collection in 20 has an
// identity; one dataset in 5 waits for the previous dataset; one directed
// reference in 50 adds an erase_after on its source naming its target.
func largeConfig(nColl, nRef int, seed int64) []*dataset.Dataset {
	rng := rand.New(rand.NewSource(seed))
	const perDataset = 100
	nDS := (nColl + perDataset - 1) / perDataset
	dss := make([]*dataset.Dataset, nDS)
	for d := range dss {
		dss[d] = &dataset.Dataset{Name: fmt.Sprintf("ds%03d", d), Connection: "db"}
		if d%5 == 1 {
			dss[d].After = []string{dss[d-1].Name}
		}
	}
	colls := make([]*dataset.Collection, nColl)
	addr := func(i int) dataset.FieldAddress {
		return dataset.FieldAddress{Dataset: dss[i/perDataset].Name, Collection: fmt.Sprintf("c%04d", i), Field: dataset.Path{"id"}}
	}
	for i := range colls {
		c := &dataset.Collection{Name: fmt.Sprintf("c%04d", i)}
		c.Fields = append(c.Fields, &dataset.Field{Name: "id", Type: "integer", PrimaryKey: true})
		if i == 0 || rng.Intn(20) == 0 {
			id := "email"
			if rng.Intn(4) == 0 {
				id = "phone_number"
			}
			c.Fields = append(c.Fields, &dataset.Field{Name: id, Identity: id, Type: "string"})
		}
		colls[i] = c
		dss[i/perDataset].Collections = append(dss[i/perDataset].Collections, c)
	}
	addRef := func(k, a, b int) { // a < b: a's values find b's rows (or undirected)
		var decl, target int
		var dir dataset.Direction
		switch rng.Intn(3) {
		case 0:
			decl, target, dir = b, a, dataset.DirectionEither
		case 1:
			decl, target, dir = a, b, dataset.DirectionTo
		default:
			decl, target, dir = b, a, dataset.DirectionFrom
		}
		if dir != dataset.DirectionEither && rng.Intn(50) == 0 {
			// b depends on a, so erasing b first is consistent.
			colls[a].EraseAfter = append(colls[a].EraseAfter, addr(b).CollectionAddress().String())
		}
		colls[decl].Fields = append(colls[decl].Fields, &dataset.Field{
			Name:       fmt.Sprintf("r%d", k),
			References: []dataset.Reference{{Target: addr(target), Direction: dir}},
		})
	}
	k := 0
	for b := 1; b < nColl && k < nRef; b++ {
		lo := b - 200
		if lo < 0 {
			lo = 0
		}
		addRef(k, lo+rng.Intn(b-lo), b)
		k++
	}
	for ; k < nRef; k++ {
		a, b := rng.Intn(nColl), rng.Intn(nColl)
		for a == b {
			b = rng.Intn(nColl)
		}
		if a > b {
			a, b = b, a
		}
		addRef(k, a, b)
	}
	return dss
}

func benchPlan(b *testing.B, nColl, nRef int) {
	g, diags := graph.Build(largeConfig(nColl, nRef, 1))
	if diags.HasErrors() {
		b.Fatalf("Build: %s", diags.Error())
	}
	opts := Options{Identities: []string{"email", "phone_number"}, Erasure: true}
	p, err := New(g, opts)
	if err != nil {
		b.Fatal(err)
	}
	if len(p.Nodes) != nColl {
		b.Fatalf("planned %d of %d collections", len(p.Nodes), nColl)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := New(g, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func benchBuild(b *testing.B, nColl, nRef int) {
	dss := largeConfig(nColl, nRef, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, diags := graph.Build(dss); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}

// BenchmarkPlan5000: 5,000 collections, 20,000 references, access and
// erasure order. Compare allocs/op with BenchmarkPlan1000 (a fifth of the
// size) for linearity.
func BenchmarkPlan5000(b *testing.B)  { benchPlan(b, 5000, 20000) }
func BenchmarkPlan1000(b *testing.B)  { benchPlan(b, 1000, 4000) }
func BenchmarkBuild5000(b *testing.B) { benchBuild(b, 5000, 20000) }
func BenchmarkBuild1000(b *testing.B) { benchBuild(b, 1000, 4000) }

// TestLargePlan keeps the benchmark's configuration honest in normal test
// runs: it builds without diagnostics and plans every collection.
func TestLargePlan(t *testing.T) {
	g, diags := graph.Build(largeConfig(1000, 4000, 2))
	if diags.HasErrors() {
		t.Fatalf("Build: %s", diags.Error())
	}
	p, err := New(g, Options{Identities: []string{"email"}, Erasure: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Nodes)+len(p.Skipped) != 1000 || len(p.Erasure) != len(p.Nodes) {
		t.Errorf("planned %d, skipped %d, erased %d", len(p.Nodes), len(p.Skipped), len(p.Erasure))
	}
}
