package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// scanAll reads every request record directly, ignoring the indexes.
func scanAll(t *testing.T, s *testStore) []*record {
	t.Helper()
	var out []*record
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktRequests).ForEach(func(k, v []byte) error {
			var rec record
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			out = append(out, &rec)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// newestFirst sorts like List does.
func newestFirst(recs []*record) []string {
	sort.Slice(recs, func(i, j int) bool {
		if !recs[i].CreatedAt.Equal(recs[j].CreatedAt) {
			return recs[i].CreatedAt.After(recs[j].CreatedAt)
		}
		return recs[i].ID > recs[j].ID
	})
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func listAll(t *testing.T, s Store, f Filter) []string {
	t.Helper()
	var out []string
	f.Size = 7 // small pages exercise paging
	for f.Page = 1; ; f.Page++ {
		items, total, err := s.List(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ids(items)...)
		if len(items) < f.Size {
			if total != len(out) {
				t.Fatalf("total %d but %d items listed", total, len(out))
			}
			return out
		}
	}
}

func bucketLen(t *testing.T, s *testStore, name []byte) int {
	t.Helper()
	n := 0
	s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(name).Stats().KeyN
		return nil
	})
	return n
}

func TestIndexesConsistentAfterManyTransitions(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 120
	var all []string
	for i := 0; i < n; i++ {
		// Some requests share a creation time: ties are ordered by id.
		if i%3 != 0 {
			s.clock.Advance(time.Duration(rng.IntN(5000)) * time.Millisecond)
		}
		r := mustCreate(t, s, &Request{
			Policy:     "p",
			Identities: map[string]string{"email": fmt.Sprintf("user%d@example.com", i%10)},
			ExternalID: fmt.Sprintf("ext-%d", i%4),
		})
		all = append(all, r.ID)
	}
	// Random transitions from concurrent workers, so that many share a
	// commit and many fail their compare-and-set inside a shared batch.
	const workers, steps = 8, 200
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for i := 0; i < steps; i++ {
				id := all[rng.IntN(n)]
				from := []Status{AllStatuses[rng.IntN(len(AllStatuses))], AllStatuses[rng.IntN(len(AllStatuses))]}
				to := AllStatuses[rng.IntN(len(AllStatuses))]
				if _, err := s.Transition(ctx, id, from, to, Event{}, nil); err != nil {
					if !errors.Is(err, ErrConflict) {
						t.Error(err)
						return
					}
					conflicts.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	if c := conflicts.Load(); c == 0 || c == workers*steps {
		t.Fatalf("%d conflicts: the random walk did not exercise both paths", c)
	}
	recs := scanAll(t, s)
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	// The status and its event were written together: the last event of
	// every request names its current status.
	for _, r := range recs {
		evs, err := s.Events(ctx, r.ID, 0, MaxEventLimit)
		if err != nil {
			t.Fatal(err)
		}
		if last := evs[len(evs)-1]; last.Status != r.Status {
			t.Errorf("request %s is %s but its last event says %s", r.ID, r.Status, last.Status)
		}
	}
	// One status index entry per request, no stale ones.
	if got := bucketLen(t, s, bktIdxStatus); got != n {
		t.Errorf("status index has %d entries, want %d", got, n)
	}
	t0 := recs[0].CreatedAt
	for _, r := range recs {
		if r.CreatedAt.Before(t0) {
			t0 = r.CreatedAt
		}
	}
	from, to := t0.Add(60*time.Second), t0.Add(200*time.Second)
	filters := []struct {
		name string
		f    Filter
		keep func(*record) bool
	}{
		{"all", Filter{}, func(*record) bool { return true }},
		{"time range", Filter{CreatedFrom: from, CreatedTo: to}, func(r *record) bool {
			return !r.CreatedAt.Before(from) && r.CreatedAt.Before(to)
		}},
		{"identity", Filter{Identity: &IdentityMatch{"email", "user3@example.com"}}, nil},
		{"identity and status", Filter{Identity: &IdentityMatch{"email", "user3@example.com"}, Statuses: []Status{StatusPending, StatusComplete, StatusError}}, nil},
		{"external id and status", Filter{ExternalID: "ext-1", Statuses: []Status{StatusApproved, StatusPaused}}, func(r *record) bool {
			return r.ExternalID == "ext-1" && (r.Status == StatusApproved || r.Status == StatusPaused)
		}},
		{"identity of nobody", Filter{Identity: &IdentityMatch{"email", "USER3@example.com"}}, func(*record) bool { return false }},
		{"identity name matters", Filter{Identity: &IdentityMatch{"phone_number", "user3@example.com"}}, func(*record) bool { return false }},
	}
	// identity filters: requests i with i%10 == 3 (identities are immutable).
	user3 := map[string]bool{}
	for i, id := range all {
		if i%10 == 3 {
			user3[id] = true
		}
	}
	filters[2].keep = func(r *record) bool { return user3[r.ID] }
	filters[3].keep = func(r *record) bool {
		return user3[r.ID] && slices.Contains([]Status{StatusPending, StatusComplete, StatusError}, r.Status)
	}
	for _, s1 := range AllStatuses {
		filters = append(filters, struct {
			name string
			f    Filter
			keep func(*record) bool
		}{"status " + string(s1), Filter{Statuses: []Status{s1}}, func(r *record) bool { return r.Status == s1 }})
	}
	filters = append(filters, struct {
		name string
		f    Filter
		keep func(*record) bool
	}{"three statuses and a range", Filter{Statuses: []Status{StatusError, StatusPending, StatusCanceled, StatusError}, CreatedFrom: from, CreatedTo: to}, func(r *record) bool {
		return (r.Status == StatusError || r.Status == StatusPending || r.Status == StatusCanceled) && !r.CreatedAt.Before(from) && r.CreatedAt.Before(to)
	}})
	nonEmpty := 0
	for _, tt := range filters {
		t.Run(tt.name, func(t *testing.T) {
			var want []*record
			for _, r := range recs {
				if tt.keep(r) {
					want = append(want, r)
				}
			}
			wantIDs := newestFirst(want)
			got := listAll(t, s, tt.f)
			if !slices.Equal(got, wantIDs) {
				t.Errorf("List = %v\nscan = %v", got, wantIDs)
			}
			if len(got) > 0 {
				nonEmpty++
			}
		})
	}
	if nonEmpty < len(filters)/2 {
		t.Errorf("only %d of %d filters matched anything: the test data is too thin", nonEmpty, len(filters))
	}
}

func TestListPaging(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	var created []string
	for i := 0; i < 120; i++ {
		s.clock.Advance(time.Second)
		created = append(created, mustCreate(t, s, &Request{Policy: "p"}).ID)
	}
	slices.Reverse(created)
	tests := []struct {
		page, size int
		wantLen    int
		first      int // index into created (newest first)
	}{
		{0, 0, 50, 0}, // defaults: page 1, size 50
		{1, 50, 50, 0},
		{2, 50, 50, 50},
		{3, 50, 20, 100},
		{4, 50, 0, 0},
		{1, 5000, 120, 0}, // capped at MaxPageSize
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("page %d size %d", tt.page, tt.size), func(t *testing.T) {
			items, total, err := s.List(ctx, Filter{Page: tt.page, Size: tt.size})
			if err != nil {
				t.Fatal(err)
			}
			if total != 120 || len(items) != tt.wantLen {
				t.Fatalf("total %d len %d, want 120 and %d", total, len(items), tt.wantLen)
			}
			if tt.wantLen > 0 && !slices.Equal(ids(items), created[tt.first:tt.first+tt.wantLen]) {
				t.Errorf("page content wrong")
			}
		})
	}
	if _, _, err := s.List(ctx, Filter{Statuses: []Status{"nope"}}); err == nil {
		t.Error("invalid status accepted")
	}
}

// TestListUsesIndex checks that a status filter does not read the records
// of other statuses: corrupt every record that is not approved and list the
// approved ones.
func TestListUsesIndex(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	var approved []string
	for i := 0; i < 30; i++ {
		s.clock.Advance(time.Second)
		r := mustCreate(t, s, &Request{Policy: "p"})
		if i%5 == 0 {
			if _, err := s.Transition(ctx, r.ID, []Status{StatusPending}, StatusApproved, Event{}, nil); err != nil {
				t.Fatal(err)
			}
			approved = append(approved, r.ID)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktRequests)
		var bad [][]byte
		b.ForEach(func(k, v []byte) error {
			if !bytes.Contains(v, []byte(`"status":"approved"`)) {
				bad = append(bad, bytes.Clone(k))
			}
			return nil
		})
		for _, k := range bad {
			if err := b.Put(k, []byte("not json")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	items, total, err := s.List(ctx, Filter{Statuses: []Status{StatusApproved}})
	if err != nil {
		t.Fatalf("List by status read other records: %v", err)
	}
	slices.Reverse(approved)
	if total != len(approved) || !slices.Equal(ids(items), approved) {
		t.Errorf("List = %v, want %v", ids(items), approved)
	}
	// Sanity: a full listing does touch the corrupt records.
	if _, _, err := s.List(ctx, Filter{}); err == nil {
		t.Error("listing everything did not notice the corrupt records: the test proves nothing")
	}
}
