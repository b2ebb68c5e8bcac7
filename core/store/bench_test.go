package store

import (
	"bytes"
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// Run: go test -run '^$' -bench . -benchtime 2x ./store (see the report
// metrics; the disk under t.TempDir decides the fsync cost).

// BenchmarkTransition: durable status transitions, one goroutine. Each is
// one write transaction (record, status index, event) with its fsyncs.
func BenchmarkTransition(b *testing.B) {
	s := openTestStore(b, func(o *Options) { o.Clock = time.Now })
	ctx := context.Background()
	r := mustCreate(b, s, &Request{Policy: "p", Identities: map[string]string{"email": "a@example.com"}})
	if _, err := s.Transition(ctx, r.ID, []Status{StatusPending}, StatusInProcessing, Event{}, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := s.Transition(ctx, r.ID, []Status{StatusInProcessing}, StatusInProcessing, Event{}, func(r *Request) error {
			r.Attempt++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "transitions/s")
}

// BenchmarkTransitionParallel: transitions from 8*GOMAXPROCS goroutines
// (as many workers as requests running at once); concurrent transitions
// share commits.
func BenchmarkTransitionParallel(b *testing.B) {
	s := openTestStore(b, func(o *Options) { o.Clock = time.Now })
	ctx := context.Background()
	var ids []string
	for i := 0; i < 64; i++ {
		ids = append(ids, mustCreate(b, s, &Request{Policy: "p"}).ID)
	}
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		id := ids[next.Add(1)%int64(len(ids))]
		for pb.Next() {
			if _, err := s.Transition(ctx, id, NonTerminalStatuses(), StatusInProcessing, Event{}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "transitions/s")
}

// BenchmarkCreateRequest: new requests with two identities and secrets.
func BenchmarkCreateRequest(b *testing.B) {
	s := openTestStore(b, func(o *Options) { o.Clock = time.Now })
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := s.CreateRequest(ctx, &Request{Policy: "p", Identities: map[string]string{"email": "a@example.com", "phone_number": "+15550000"}}, make([]byte, 32)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creates/s")
}

const (
	benchRowsPerPage = 500
	benchRowSize     = 1024
)

// BenchmarkAppendRows: one page of 500 rows of 1 KiB per call.
func BenchmarkAppendRows(b *testing.B) {
	s := openTestStore(b, nil)
	ctx := context.Background()
	r := mustCreate(b, s, &Request{Policy: "p"})
	if _, err := s.BeginNode(ctx, r.ID, PhaseAccess, "db.t"); err != nil {
		b.Fatal(err)
	}
	page := bytes.Repeat([]byte{'x'}, benchRowsPerPage*benchRowSize)
	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.AppendRows(ctx, r.ID, PhaseAccess, "db.t", i, page); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchRowsPerPage)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadRows200k: read back 200,000 rows of 1 KiB (400 pages) and
// report the peak live heap growth while reading.
func BenchmarkReadRows200k(b *testing.B) {
	s := openTestStore(b, nil)
	ctx := context.Background()
	r := mustCreate(b, s, &Request{Policy: "p"})
	if _, err := s.BeginNode(ctx, r.ID, PhaseAccess, "db.t"); err != nil {
		b.Fatal(err)
	}
	const pages = 200000 / benchRowsPerPage
	page := bytes.Repeat([]byte{'x'}, benchRowsPerPage*benchRowSize)
	for p := 0; p < pages; p++ {
		if err := s.AppendRows(ctx, r.ID, PhaseAccess, "db.t", p, page); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(pages * len(page)))
	var peak uint64
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows := 0
		err := s.ReadRows(ctx, r.ID, PhaseAccess, "db.t", func(p int, data []byte) error {
			rows += len(data) / benchRowSize
			if i == 0 && p%50 == 0 {
				b.StopTimer()
				runtime.ReadMemStats(&ms) // includes garbage not yet collected
				peak = max(peak, ms.HeapAlloc)
				b.StartTimer()
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if rows != 200000 {
			b.Fatalf("%d rows", rows)
		}
	}
	b.ReportMetric(float64(int64(peak)-int64(base))/(1<<20), "peak-heap-growth-MiB")
}
