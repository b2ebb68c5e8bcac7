package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func readAll(t *testing.T, s Store, id string, phase Phase, node string) []string {
	t.Helper()
	var out []string
	err := s.ReadRows(context.Background(), id, phase, node, func(page int, data []byte) error {
		out = append(out, fmt.Sprintf("%d:%s", page, data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCheckpointLifecycle(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	r := mustCreate(t, s, &Request{Policy: "p"})
	const node = "app_db.users"

	if err := s.AppendRows(ctx, r.ID, PhaseAccess, node, 0, []byte("x")); !errors.Is(err, ErrConflict) {
		t.Errorf("append before begin: %v, want ErrConflict", err)
	}
	att, err := s.BeginNode(ctx, r.ID, PhaseAccess, node)
	if err != nil || att != 1 {
		t.Fatalf("BeginNode = %d, %v", att, err)
	}
	for p := 0; p < 3; p++ {
		if err := s.AppendRows(ctx, r.ID, PhaseAccess, node, p, []byte(fmt.Sprintf("try1-%d", p))); err != nil {
			t.Fatal(err)
		}
	}
	// Crash: the attempt never finished. The next attempt starts clean.
	att, err = s.BeginNode(ctx, r.ID, PhaseAccess, node)
	if err != nil || att != 2 {
		t.Fatalf("second BeginNode = %d, %v", att, err)
	}
	if got := readAll(t, s, r.ID, PhaseAccess, node); len(got) != 0 {
		t.Fatalf("partial pages survived BeginNode: %v", got)
	}
	// Pages come back in page order whatever the write order; a rewrite
	// replaces.
	for _, p := range []int{2, 0, 10, 1, 0} {
		if err := s.AppendRows(ctx, r.ID, PhaseAccess, node, p, []byte(fmt.Sprintf("try2-%d", p))); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"0:try2-0", "1:try2-1", "2:try2-2", "10:try2-10"}
	if got := readAll(t, s, r.ID, PhaseAccess, node); !slices.Equal(got, want) {
		t.Errorf("ReadRows = %v, want %v", got, want)
	}
	if _, done, _ := s.NodeDone(ctx, r.ID, PhaseAccess, node); done {
		t.Error("node done before FinishNode")
	}
	res := NodeResult{Rows: 2000, Duration: 1500 * time.Millisecond}
	if err := s.FinishNode(ctx, r.ID, PhaseAccess, node, res, Event{}); err != nil {
		t.Fatal(err)
	}
	got, done, err := s.NodeDone(ctx, r.ID, PhaseAccess, node)
	if err != nil || !done || got.Rows != 2000 || got.Attempts != 2 || got.FinishedAt.IsZero() {
		t.Errorf("NodeDone = %+v %v %v", got, done, err)
	}
	// A done node is never run again.
	if _, err := s.BeginNode(ctx, r.ID, PhaseAccess, node); !errors.Is(err, ErrConflict) {
		t.Errorf("BeginNode on a done node: %v, want ErrConflict", err)
	}
	if err := s.AppendRows(ctx, r.ID, PhaseAccess, node, 11, []byte("late")); !errors.Is(err, ErrConflict) {
		t.Errorf("AppendRows on a done node: %v, want ErrConflict", err)
	}
	if err := s.FinishNode(ctx, r.ID, PhaseAccess, node, res, Event{}); !errors.Is(err, ErrConflict) {
		t.Errorf("second FinishNode: %v, want ErrConflict", err)
	}
	evs, _ := s.Events(ctx, r.ID, 0, 0)
	last := evs[len(evs)-1]
	if last.Type != EventNodeDone || last.Node != node || last.Phase != PhaseAccess || last.Rows != 2000 || last.DurationMS != 1500 || last.Attempt != 2 {
		t.Errorf("node_done event = %+v", last)
	}

	// R4: the same node in another phase is a separate checkpoint.
	if _, done, _ := s.NodeDone(ctx, r.ID, PhaseErasure, node); done {
		t.Error("access result leaked into erasure phase")
	}
	if _, err := s.BeginNode(ctx, r.ID, PhaseErasure, node); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, r.ID, PhaseErasure, node); len(got) != 0 {
		t.Errorf("erasure pages = %v, want none", got)
	}
	if err := s.FinishNode(ctx, r.ID, PhaseErasure, node, NodeResult{Masked: 7}, Event{}); err != nil {
		t.Fatal(err)
	}
	acc, _ := s.DoneNodes(ctx, r.ID, PhaseAccess)
	era, _ := s.DoneNodes(ctx, r.ID, PhaseErasure)
	if len(acc) != 1 || acc[node].Rows != 2000 || len(era) != 1 || era[node].Masked != 7 || era[node].Rows != 0 {
		t.Errorf("DoneNodes access %+v erasure %+v", acc, era)
	}
	// Skipped node: finished without being begun.
	if err := s.FinishNode(ctx, r.ID, PhaseAccess, "app_db.skipped", NodeResult{Detail: "no reachable identity"}, Event{Type: EventNodeSkipped}); err != nil {
		t.Fatal(err)
	}
	if acc, _ := s.DoneNodes(ctx, r.ID, PhaseAccess); len(acc) != 2 {
		t.Errorf("DoneNodes after skip = %v", acc)
	}
	if _, err := s.BeginNode(ctx, r.ID, "compute", node); err == nil {
		t.Error("unknown phase accepted")
	}
}

func nodePageCount(t *testing.T, s *testStore, id string) int {
	t.Helper()
	n := 0
	s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bktPages).Bucket([]byte(id)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n
}

func TestFinishDeletesPages(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T, s *testStore) *Request {
		r, err := s.CreateRequest(ctx, &Request{Policy: "p"}, []byte("secrets"))
		if err != nil {
			t.Fatal(err)
		}
		for _, ph := range []Phase{PhaseAccess, PhaseErasure} {
			if _, err := s.BeginNode(ctx, r.ID, ph, "db.t"); err != nil {
				t.Fatal(err)
			}
			if err := s.AppendRows(ctx, r.ID, ph, "db.t", 0, []byte("rows")); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishNode(ctx, r.ID, ph, "db.t", NodeResult{Rows: 1}, Event{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutBlob(ctx, r.ID, "upload:rule1", []byte(`{"location":"s3://x"}`)); err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name      string
		retention time.Duration
		to        Status
		keep      bool
	}{
		{"complete deletes", 0, StatusComplete, false},
		{"canceled deletes", 0, StatusCanceled, false},
		{"error keeps for retry", 0, StatusError, true},
		{"retention keeps", time.Hour, StatusComplete, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t, func(o *Options) { o.Retention = tt.retention })
			r := setup(t, s)
			if _, err := s.Finish(ctx, r.ID, tt.to, Event{}, nil); err != nil {
				t.Fatal(err)
			}
			rows := readAll(t, s, r.ID, PhaseAccess, "db.t")
			sec, _ := s.MaskingSecrets(ctx, r.ID)
			if tt.keep != (len(rows) == 1) || tt.keep != (sec != nil) {
				t.Errorf("after finish: rows %v secrets %q, keep=%v", rows, sec, tt.keep)
			}
			if !tt.keep && nodePageCount(t, s, r.ID) != 0 {
				t.Error("page buckets left behind")
			}
			// Results, events and blobs stay.
			if acc, _ := s.DoneNodes(ctx, r.ID, PhaseAccess); acc["db.t"].Rows != 1 {
				t.Error("node results deleted at finish")
			}
			if _, ok, _ := s.GetBlob(ctx, r.ID, "upload:rule1"); !ok {
				t.Error("blob deleted at finish")
			}
			// No new work on a finished request.
			if _, err := s.BeginNode(ctx, r.ID, PhaseAccess, "db.other"); !errors.Is(err, ErrConflict) {
				t.Errorf("BeginNode on a finished request: %v", err)
			}
			if tt.retention == 0 {
				return
			}
			s.clock.Advance(tt.retention - time.Second)
			if n, err := s.PurgeExpired(ctx); err != nil || n != 0 {
				t.Fatalf("early purge: %d, %v", n, err)
			}
			if len(readAll(t, s, r.ID, PhaseAccess, "db.t")) != 1 {
				t.Fatal("rows purged before their retention")
			}
			s.clock.Advance(2 * time.Second)
			if n, err := s.PurgeExpired(ctx); err != nil || n != 1 {
				t.Fatalf("purge: %d, %v", n, err)
			}
			if rows := readAll(t, s, r.ID, PhaseAccess, "db.t"); len(rows) != 0 {
				t.Errorf("rows after purge: %v", rows)
			}
			if sec, _ := s.MaskingSecrets(ctx, r.ID); sec != nil {
				t.Error("secrets after purge")
			}
			if n, _ := s.PurgeExpired(ctx); n != 0 {
				t.Errorf("second purge purged %d", n)
			}
			if acc, _ := s.DoneNodes(ctx, r.ID, PhaseAccess); acc["db.t"].Rows != 1 {
				t.Error("node results deleted by purge")
			}
		})
	}
}

// TestReadRowsHoldsNoTransaction proves that fn runs with no read
// transaction open: fn appends a page large enough to force bbolt to remap
// its file, which waits for every open read transaction. The calibration
// subtest shows that the same append does block behind an open read
// transaction, so the main test would hang (and fail) if ReadRows held one.
func TestReadRowsHoldsNoTransaction(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*testStore, string, []byte) {
		s := openTestStore(t, nil)
		r := mustCreate(t, s, &Request{Policy: "p"})
		for _, n := range []string{"db.a", "db.big"} {
			if _, err := s.BeginNode(ctx, r.ID, PhaseAccess, n); err != nil {
				t.Fatal(err)
			}
		}
		for p := 0; p < 4; p++ {
			if err := s.AppendRows(ctx, r.ID, PhaseAccess, "db.a", p, bytes.Repeat([]byte{'a'}, 1000)); err != nil {
				t.Fatal(err)
			}
		}
		fi, err := os.Stat(filepath.Join(s.dir, DBFileName))
		if err != nil {
			t.Fatal(err)
		}
		// Far beyond the current mapping (which is at most twice the file).
		return s, r.ID, make([]byte, 8*fi.Size()+(4<<20))
	}

	t.Run("calibration: the append blocks behind a reader", func(t *testing.T) {
		s, id, big := setup(t)
		tx, err := s.db.Begin(false)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.AppendRows(ctx, id, PhaseAccess, "db.big", 0, big) }()
		select {
		case err := <-done:
			tx.Rollback()
			t.Fatalf("append finished (%v) while a read transaction was open: the main test would prove nothing", err)
		case <-time.After(300 * time.Millisecond):
		}
		tx.Rollback()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ReadRows", func(t *testing.T) {
		s, id, big := setup(t)
		done := make(chan error, 1)
		var pages []int
		go func() {
			done <- s.ReadRows(ctx, id, PhaseAccess, "db.a", func(page int, data []byte) error {
				pages = append(pages, page)
				if page == 1 {
					return s.AppendRows(ctx, id, PhaseAccess, "db.big", 0, big)
				}
				return nil
			})
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("ReadRows deadlocked: fn ran inside a read transaction")
		}
		if !slices.Equal(pages, []int{0, 1, 2, 3}) {
			t.Errorf("pages %v", pages)
		}
		var n int
		s.ReadRows(ctx, id, PhaseAccess, "db.big", func(_ int, data []byte) error { n = len(data); return nil })
		if n != len(big) {
			t.Errorf("big page has %d bytes, want %d", n, len(big))
		}
	})

	t.Run("fn error and cancellation stop the read", func(t *testing.T) {
		s, id, _ := setup(t)
		stop := errors.New("stop")
		calls := 0
		err := s.ReadRows(ctx, id, PhaseAccess, "db.a", func(int, []byte) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("err %v after %d calls", err, calls)
		}
		cctx, cancel := context.WithCancel(ctx)
		calls = 0
		err = s.ReadRows(cctx, id, PhaseAccess, "db.a", func(int, []byte) error { calls++; cancel(); return nil })
		if !errors.Is(err, context.Canceled) || calls != 1 {
			t.Errorf("err %v after %d calls", err, calls)
		}
		if err := s.ReadRows(ctx, "pri_missing", PhaseAccess, "db.a", func(int, []byte) error { return nil }); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing request: %v", err)
		}
	})
}

// TestReadRowsBoundedHeap reads 200,000 rows (about 31 MiB in 400 pages)
// and checks that the live heap never grows by more than a few pages. A
// control run whose callback keeps every page shows the measurement sees
// retention.
func TestReadRowsBoundedHeap(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	r := mustCreate(t, s, &Request{Policy: "p"})
	if _, err := s.BeginNode(ctx, r.ID, PhaseAccess, "db.big"); err != nil {
		t.Fatal(err)
	}
	const rowsPerPage, rowSize, pages, writers = 500, 160, 400, 8
	page := bytes.Repeat([]byte{'r'}, rowsPerPage*rowSize)
	// Concurrent writers share commits (group commit).
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for p := w; p < pages; p += writers {
				if err := s.AppendRows(ctx, r.ID, PhaseAccess, "db.big", p, page); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	measure := func(keep bool) (rows int, growth int64) {
		var kept [][]byte
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		var peak uint64
		err := s.ReadRows(ctx, r.ID, PhaseAccess, "db.big", func(p int, data []byte) error {
			if p != rows/rowsPerPage {
				return fmt.Errorf("page %d out of order", p)
			}
			rows += len(data) / rowSize
			if keep {
				kept = append(kept, data)
			}
			if p%20 == 19 {
				runtime.GC() // measure what is live, not garbage awaiting collection
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		runtime.KeepAlive(kept)
		return rows, int64(peak) - int64(base)
	}
	rows, growth := measure(false)
	if rows != rowsPerPage*pages {
		t.Fatalf("read %d rows, want %d", rows, rowsPerPage*pages)
	}
	t.Logf("read %d rows (%d MiB); live heap growth %d KiB", rows, rows*rowSize>>20, growth>>10)
	if growth > 4<<20 {
		t.Errorf("live heap grew by %d MiB while reading: pages are being retained", growth>>20)
	}
	_, control := measure(true)
	if control < int64(pages*len(page))*3/4 {
		t.Errorf("control: keeping every page grew the heap by only %d MiB: the measurement is blind", control>>20)
	}
}

// TestNodeOutcomeInOneCommit: NextAttempt writes nothing; an attempt whose
// rows fit in one page is recorded, stored, evented and marked done by one
// commit; an attempt that left pages and did not finish has them deleted by
// the next attempt's first write; a done node refuses another attempt.
func TestNodeOutcomeInOneCommit(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	r := mustCreate(t, s, &Request{Policy: "p"})
	const node = "db.t"

	before := s.w.commits.Load()
	a, err := s.NextAttempt(ctx, r.ID, PhaseAccess, node)
	if err != nil || a != 1 {
		t.Fatalf("NextAttempt: %d %v", a, err)
	}
	if n := s.w.commits.Load() - before; n != 0 {
		t.Fatalf("NextAttempt made %d commits", n)
	}
	// Attempt 1 stores two pages, then crashes.
	for p := range 2 {
		if err := s.AppendPage(ctx, r.ID, PhaseAccess, node, 1, p, []byte("old")); err != nil {
			t.Fatal(err)
		}
	}
	if a, _ := s.NextAttempt(ctx, r.ID, PhaseAccess, node); a != 2 {
		t.Fatalf("after a crashed attempt 1, NextAttempt = %d, want 2", a)
	}
	before = s.w.commits.Load()
	err = s.CompleteNode(ctx, r.ID, PhaseAccess, node, NodeOutcome{
		Attempt: 2, FirstPage: 0, Pages: [][]byte{[]byte("new")},
		Events: []Event{{Type: EventRowsShared, Rows: 1}},
		Result: NodeResult{Rows: 3, Shared: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.w.commits.Load() - before; n != 1 {
		t.Fatalf("CompleteNode made %d commits, want 1", n)
	}
	var pages []string
	if err := s.ReadRows(ctx, r.ID, PhaseAccess, node, func(_ int, data []byte) error {
		pages = append(pages, string(data))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pages, []string{"new"}) {
		t.Fatalf("pages %q, want only the finished attempt's", pages)
	}
	res, done, err := s.NodeDone(ctx, r.ID, PhaseAccess, node)
	if err != nil || !done || res.Rows != 3 || res.Shared != 1 || res.Attempts != 2 {
		t.Fatalf("NodeDone: %+v %v %v", res, done, err)
	}
	evs, err := s.Events(ctx, r.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		if e.Node == node {
			types = append(types, fmt.Sprintf("%s %d", e.Type, e.Attempt))
		}
	}
	if want := []string{"rows_shared 2", "node_done 2"}; !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	if _, err := s.NextAttempt(ctx, r.ID, PhaseAccess, node); !errors.Is(err, ErrConflict) {
		t.Fatalf("NextAttempt on a done node: %v", err)
	}
	if err := s.AppendPage(ctx, r.ID, PhaseAccess, node, 3, 0, []byte("x")); !errors.Is(err, ErrConflict) {
		t.Fatalf("AppendPage on a done node: %v", err)
	}
}
