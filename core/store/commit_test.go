package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestGroupCommitIsolatesFailures: writers share commits, a write whose
// function fails after writing leaves nothing behind, a panic reaches its
// own caller, and the other writes of the batch commit.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := openTestStore(t, nil)
	bkt := []byte("test")
	if err := s.db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bkt); return err }); err != nil {
		t.Fatal(err)
	}
	// Hold the committer in a first write until every writer is queued, so
	// the others form batches.
	release := make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- s.w.update(func(tx *bolt.Tx) error { <-release; return nil })
	}()
	const n = 60
	var wg sync.WaitGroup
	errs := make([]error, n)
	panics := make([]any, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			errs[i] = s.w.update(func(tx *bolt.Tx) error {
				if err := tx.Bucket(bkt).Put([]byte(fmt.Sprint(i)), []byte("v")); err != nil {
					return err
				}
				switch {
				case i%10 == 5:
					panic(fmt.Sprintf("boom %d", i))
				case i%3 == 0:
					return fmt.Errorf("refused %d", i)
				}
				return nil
			})
		}(i)
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	s.db.View(func(tx *bolt.Tx) error {
		for i := 0; i < n; i++ {
			got := tx.Bucket(bkt).Get([]byte(fmt.Sprint(i))) != nil
			fails := i%10 == 5 || i%3 == 0
			if got == fails {
				t.Errorf("write %d: stored=%v, but its function failed=%v", i, got, fails)
			}
			switch {
			case i%10 == 5:
				if panics[i] != fmt.Sprintf("boom %d", i) {
					t.Errorf("write %d: panic %v not delivered to its caller", i, panics[i])
				}
			case i%3 == 0:
				if errs[i] == nil || errs[i].Error() != fmt.Sprintf("refused %d", i) {
					t.Errorf("write %d: err %v", i, errs[i])
				}
			default:
				if errs[i] != nil || panics[i] != nil {
					t.Errorf("write %d: err %v panic %v", i, errs[i], panics[i])
				}
			}
		}
		return nil
	})
}

func TestGroupCommitShares(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	r := mustCreate(t, s, &Request{Policy: "p"})
	before := s.w.commits.Load()
	const n = 64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.AppendEvent(ctx, r.ID, Event{Type: EventNodeStarted, Node: "db.t"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	commits := s.w.commits.Load() - before
	evs, _ := s.Events(ctx, r.ID, 0, 0)
	if len(evs) != n+1 {
		t.Errorf("%d events, want %d", len(evs), n+1)
	}
	t.Logf("%d concurrent writes in %d commits", n, commits)
	if commits >= n {
		t.Errorf("%d commits for %d concurrent writes: no group commit", commits, n)
	}
}

func TestWritesAfterClose(t *testing.T) {
	s := openTestStore(t, nil)
	r := mustCreate(t, s, &Request{Policy: "p"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendEvent(context.Background(), r.ID, Event{Type: EventStatus}); !errors.Is(err, errClosed) {
		t.Errorf("write after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
