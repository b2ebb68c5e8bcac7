package execute

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/sdk/connector"
)

// treeConfig is a dataset of 50 collections: a root with the identity, 10
// children referencing it (the fan-out), and 39 grandchildren spread over
// the children. The critical path is 3 queries long.
func treeConfig() map[string]string {
	var b strings.Builder
	b.WriteString(`dataset "w" {
  connection = "db"
  collection "root" {
    field "id" {
      type = "integer"
      primary_key = true
    }
    field "email" {
      type = "string"
      identity = "email"
      categories = ["user.contact.email"]
    }
  }
`)
	child := func(name, parent string) {
		fmt.Fprintf(&b, `  collection %q {
    field "id" {
      type = "integer"
      primary_key = true
    }
    field "parent_id" {
      type = "integer"
      categories = ["user.unique_id"]
      reference "w.%s.id" {
        direction = "from"
      }
    }
  }
`, name, parent)
	}
	for i := range 10 {
		child(fmt.Sprintf("c%02d", i), "root")
	}
	for i := range 39 {
		child(fmt.Sprintf("g%02d", i), fmt.Sprintf("c%02d", i%10))
	}
	b.WriteString("}\n")
	main := strings.NewReplacer("max_parallel_nodes = 8", "max_parallel_nodes = 64", "max_parallel = 4", "max_parallel = 64").Replace(mainHCL)
	return map[string]string{"main.hcl": main, "w.hcl": b.String(), "p.hcl": `policy "access" {
  rule "all" {
    action = "access"
    targets = ["user"]
    storage = "mem"
  }
}`}
}

// BenchmarkWideGraph runs an access request over treeConfig where every
// query takes 20 ms (the fake connector sleeps), with a real bbolt store.
// Run one after another, the 50 queries take 1 s; the critical path is 3
// queries, 60 ms. Reported: wall time, and its ratio to the critical path.
func BenchmarkWideGraph(b *testing.B) {
	const delay = 20 * time.Millisecond
	db := newMemDB()
	db.delay = delay
	db.tables["root"] = []connector.Row{{"id": int64(1), "email": "jane@example.com"}}
	for i := range 10 {
		db.tables[fmt.Sprintf("c%02d", i)] = []connector.Row{{"id": int64(i + 1), "parent_id": int64(1)}}
	}
	for i := range 39 {
		db.tables[fmt.Sprintf("g%02d", i)] = []connector.Row{{"id": int64(100 + i), "parent_id": int64(i%10 + 1)}}
	}
	e := newEnv(b, db, treeConfig())
	eng := e.engine(b, nil)
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		id := e.submit(b, eng, "access", jane())
		calls := db.calls.Load()
		b.StartTimer()
		start := time.Now()
		req, err := eng.Run(context.Background(), id)
		total += time.Since(start)
		if err != nil || req.Status != store.StatusComplete {
			b.Fatalf("run: %v", err)
		}
		if n := db.calls.Load() - calls; n != 50 {
			b.Fatalf("%d queries, want 50", n)
		}
	}
	wall := total / time.Duration(b.N)
	b.ReportMetric(float64(wall.Microseconds())/1000, "wall-ms")
	b.ReportMetric(float64(wall)/float64(3*delay), "x-critical-path")
	b.ReportMetric(float64(wall)/float64(50*delay), "x-sum")
}
