package e2e

import (
	"testing"
	"time"
)

// BenchmarkRunQuickstart: `lethe run` of an access request on the SQLite
// example, as a whole process (start, configuration, plugin discovery and
// start, the request, the package), with the six bundled plugins in the
// plugin directory of which the request uses two. The figure is the wall
// time of one run.
func BenchmarkRunQuickstart(b *testing.B) {
	be := newBackend(b, "sqlite")
	dir, _ := be.config(b)
	// bob is left alone by the erasure tests; his package is not empty.
	mustComplete(b, nil, dir, "--policy", "access", "--identity", "email=bob@example.com")
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		mustComplete(b, nil, dir, "--policy", "access", "--identity", "email=bob@example.com")
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/run")
}
