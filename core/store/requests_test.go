package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStatusSets(t *testing.T) {
	// Every status is either terminal or returned by Unfinished by default:
	// a new status must be placed deliberately.
	seen := map[Status]bool{}
	for _, s := range AllStatuses {
		if !s.Valid() {
			t.Errorf("%s: not Valid", s)
		}
		seen[s] = true
	}
	if len(seen) != 10 {
		t.Errorf("AllStatuses has %d distinct statuses, want 10", len(seen))
	}
	nt := NonTerminalStatuses()
	for _, s := range AllStatuses {
		if s.Terminal() == slices.Contains(nt, s) {
			t.Errorf("%s: Terminal()=%v but NonTerminalStatuses contains it=%v", s, s.Terminal(), slices.Contains(nt, s))
		}
	}
	for _, s := range []Status{"", "done", "PENDING"} {
		if s.Valid() {
			t.Errorf("%q: Valid() = true", s)
		}
	}
	if !StatusError.Terminal() || !StatusError.Retryable() || StatusComplete.Retryable() {
		t.Error("error must be terminal and retryable; complete not retryable")
	}
}

func TestCreateGetRoundTrip(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	in := &Request{
		Policy:         "default_access",
		Identities:     map[string]string{"email": "a@example.com", "phone_number": "+15550001"},
		ResultKey:      []byte("0123456789abcdef"),
		Source:         SourceDRP,
		ExternalID:     "ext-1",
		IdempotencyKey: "idem-1",
		DueAt:          time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC),
	}
	got, err := s.CreateRequest(ctx, in, []byte("secret-material"))
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != "" {
		t.Error("CreateRequest modified its argument")
	}
	if !regexp.MustCompile(`^pri_[0-9a-hjkmnp-tv-z]{26}$`).MatchString(got.ID) {
		t.Errorf("generated id %q has the wrong shape", got.ID)
	}
	if got.Status != StatusPending || !got.CreatedAt.Equal(s.clock.Now()) {
		t.Errorf("defaults: status %s created %s", got.Status, got.CreatedAt)
	}
	back, err := s.Get(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, got) {
		t.Errorf("Get = %+v\nwant %+v", back, got)
	}
	sec, err := s.MaskingSecrets(ctx, got.ID)
	if err != nil || string(sec) != "secret-material" {
		t.Errorf("MaskingSecrets = %q, %v", sec, err)
	}
	evs, err := s.Events(ctx, got.ID, 0, 0)
	if err != nil || len(evs) != 1 || evs[0].Type != EventCreated || evs[0].Status != StatusPending || evs[0].Seq != 1 {
		t.Errorf("events after create = %+v, %v", evs, err)
	}
	if _, err := s.Get(ctx, "pri_missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get missing: %v, want ErrNotFound", err)
	}
	if _, err := s.MaskingSecrets(ctx, "pri_missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("MaskingSecrets missing: %v, want ErrNotFound", err)
	}
	// A caller-chosen id that exists is a conflict, not an overwrite.
	if _, err := s.CreateRequest(ctx, &Request{ID: got.ID, Policy: "p"}, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("create with an existing id: %v, want ErrConflict", err)
	}
}

func TestIDsSortByTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := ""
	for i := 0; i < 50; i++ {
		id, err := newID(t0.Add(time.Duration(i) * time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if id <= prev {
			t.Fatalf("id %s does not sort after %s", id, prev)
		}
		prev = id
	}
	a, _ := newID(t0)
	b, _ := newID(t0)
	if a == b {
		t.Error("two ids in the same millisecond are equal")
	}
}

func TestCreateValidation(t *testing.T) {
	s := openTestStore(t, nil)
	tests := []struct {
		name string
		r    *Request
		want string
	}{
		{"no policy", &Request{}, "policy key is empty"},
		{"bad status", &Request{Policy: "p", Status: "done"}, `invalid status "done"`},
		{"terminal status", &Request{Policy: "p", Status: StatusComplete}, "terminal"},
		{"empty identity", &Request{Policy: "p", Identities: map[string]string{"email": ""}}, "empty value"},
		{"bad source", &Request{Policy: "p", Source: "web"}, "invalid source"},
		{"bad id", &Request{Policy: "p", ID: "a/b"}, "invalid request id"},
		{"nul external id", &Request{Policy: "p", ExternalID: "a\x00b"}, "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateRequest(context.Background(), tt.r, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestTransitionCAS(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		start    []Status // path from pending
		from     []Status
		to       Status
		wantErr  error
		wantText string
	}{
		{"pending to approved", nil, []Status{StatusPending}, StatusApproved, nil, ""},
		{"approved is not pending", []Status{StatusApproved}, []Status{StatusPending}, StatusApproved, ErrConflict, "is approved, expected pending"},
		{"one of several", []Status{StatusApproved}, []Status{StatusPending, StatusApproved}, StatusInProcessing, nil, ""},
		{"conflict lists all expected", []Status{StatusDenied}, []Status{StatusPending, StatusApproved}, StatusInProcessing, ErrConflict, "is denied, expected one of pending, approved"},
		{"same status (requeue)", []Status{StatusInProcessing}, []Status{StatusInProcessing}, StatusInProcessing, nil, ""},
		{"retry from error", []Status{StatusInProcessing, StatusError}, []Status{StatusError}, StatusInProcessing, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t, nil)
			r := mustCreate(t, s, &Request{Policy: "p"})
			cur := StatusPending
			for _, st := range tt.start {
				if _, err := s.Transition(ctx, r.ID, []Status{cur}, st, Event{}, nil); err != nil {
					t.Fatal(err)
				}
				cur = st
			}
			got, err := s.Transition(ctx, r.ID, tt.from, tt.to, Event{}, func(r *Request) error { r.Attempt++; return nil })
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantText) {
					t.Fatalf("err = %v, want %v containing %q", err, tt.wantErr, tt.wantText)
				}
				back, _ := s.Get(ctx, r.ID)
				if back.Status != cur || back.Attempt != 0 {
					t.Errorf("failed CAS changed the request: %s attempt %d", back.Status, back.Attempt)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			back, _ := s.Get(ctx, r.ID)
			if got.Status != tt.to || back.Status != tt.to || back.Attempt != 1 {
				t.Errorf("after transition: returned %s, stored %s attempt %d", got.Status, back.Status, back.Attempt)
			}
			if tt.to == StatusInProcessing && back.StartedAt.IsZero() {
				t.Error("StartedAt not set on in_processing")
			}
			if !back.FinishedAt.IsZero() {
				t.Error("FinishedAt set on a non-terminal status")
			}
		})
	}
}

func TestTransitionConcurrentCAS(t *testing.T) {
	s := openTestStore(t, nil)
	r := mustCreate(t, s, &Request{Policy: "p"})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Transition(context.Background(), r.ID, []Status{StatusPending}, StatusApproved, Event{Type: EventApproved}, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != 49 {
		t.Errorf("wins %d conflicts %d, want 1 and 49", wins, conflicts)
	}
	evs, _ := s.Events(context.Background(), r.ID, 0, 0)
	if len(evs) != 2 {
		t.Errorf("%d events, want created + one approval", len(evs))
	}
}

func TestTransitionMutate(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		mutate func(*Request) error
		want   string
	}{
		{"identities", func(r *Request) error { r.Identities["email"] = "other@example.com"; return nil }, "Identities"},
		{"identity removed", func(r *Request) error { delete(r.Identities, "email"); return nil }, "Identities"},
		{"result key", func(r *Request) error { r.ResultKey = nil; return nil }, "ResultKey"},
		{"status", func(r *Request) error { r.Status = StatusComplete; return nil }, "Status"},
		{"id", func(r *Request) error { r.ID = "other"; return nil }, "ID"},
		{"error", func(r *Request) error { return errors.New("boom") }, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t, nil)
			r := mustCreate(t, s, &Request{Policy: "p", Identities: map[string]string{"email": "a@example.com"}, ResultKey: []byte("k")})
			_, err := s.Transition(ctx, r.ID, []Status{StatusPending}, StatusApproved, Event{}, func(r *Request) error {
				r.ReviewedBy = "someone"
				return tt.mutate(r)
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			back, _ := s.Get(ctx, r.ID)
			if !reflect.DeepEqual(back, r) {
				t.Errorf("a refused mutate changed the request:\n%+v\nwant %+v", back, r)
			}
		})
	}
	t.Run("allowed fields", func(t *testing.T) {
		s := openTestStore(t, nil)
		r := mustCreate(t, s, &Request{Policy: "p"})
		_, err := s.Transition(ctx, r.ID, []Status{StatusPending}, StatusApproved, Event{Type: EventApproved}, func(r *Request) error {
			r.ReviewedBy = "client-1"
			r.Counts = map[string]NodeCounts{"db.users": {Found: 3, Masked: 2}}
			r.Locations = []string{"s3://b/k"}
			r.Reason = "ok"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		back, _ := s.Get(ctx, r.ID)
		if back.ReviewedBy != "client-1" || back.Counts["db.users"].Masked != 2 || back.Locations[0] != "s3://b/k" || back.Reason != "ok" {
			t.Errorf("mutated fields not stored: %+v", back)
		}
	})
}

func TestIdempotentCreateConcurrent(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	const n = 50
	var wg sync.WaitGroup
	results := make([]*Request, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], errs[i] = s.CreateRequest(ctx, &Request{
				Policy: "p", IdempotencyKey: "drp:agent-1:req-42",
				Identities: map[string]string{"email": fmt.Sprintf("u%d@example.com", i)},
			}, []byte("s"))
		}(i)
	}
	wg.Wait()
	created, dups := 0, 0
	var id string
	for i := range results {
		switch {
		case errs[i] == nil:
			created++
			id = results[i].ID
		case errors.Is(errs[i], ErrDuplicate):
			dups++
		default:
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
	}
	if created != 1 || dups != n-1 {
		t.Fatalf("created %d, duplicates %d; want 1 and %d", created, dups, n-1)
	}
	for i := range results {
		if results[i] == nil || results[i].ID != id {
			t.Fatalf("goroutine %d got request %v, want the one created (%s)", i, results[i], id)
		}
	}
	items, total, err := s.List(ctx, Filter{})
	if err != nil || total != 1 || len(items) != 1 {
		t.Fatalf("List: %d items, total %d, %v; want exactly one request", len(items), total, err)
	}
	// Replay after the request finished: same request, nothing new.
	if _, err := s.Finish(ctx, id, StatusComplete, Event{}, nil); err != nil {
		t.Fatal(err)
	}
	again, err := s.CreateRequest(ctx, &Request{Policy: "p", IdempotencyKey: "drp:agent-1:req-42"}, nil)
	if !errors.Is(err, ErrDuplicate) || again.ID != id || again.Status != StatusComplete {
		t.Errorf("replay: %v, %v", again, err)
	}
	if _, total, _ := s.List(ctx, Filter{}); total != 1 {
		t.Errorf("replay created a request: total %d", total)
	}
	evs, _ := s.Events(ctx, id, 0, 0)
	if len(evs) != 2 {
		t.Errorf("%d events, want created + complete", len(evs))
	}
}

func TestFinishAndUnfinished(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	var reqs []*Request
	for i := 0; i < 6; i++ {
		reqs = append(reqs, mustCreate(t, s, &Request{Policy: "p"}))
		s.clock.Advance(time.Second)
	}
	step := func(i int, from, to Status) {
		t.Helper()
		if _, err := s.Transition(ctx, reqs[i].ID, []Status{from}, to, Event{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	step(0, StatusPending, StatusApproved)
	step(1, StatusPending, StatusInProcessing)
	step(2, StatusPending, StatusDenied)
	step(3, StatusPending, StatusPaused)
	if _, err := s.Finish(ctx, reqs[4].ID, StatusComplete, Event{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Finish(ctx, reqs[4].ID, StatusCanceled, Event{}, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("finishing a finished request: %v, want ErrConflict", err)
	}
	if _, err := s.Finish(ctx, reqs[5].ID, StatusApproved, Event{}, nil); err == nil {
		t.Error("Finish accepted a non-terminal status")
	}

	all, err := s.Unfinished(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{reqs[0].ID, reqs[1].ID, reqs[3].ID, reqs[5].ID}
	if !slices.Equal(ids(all), want) {
		t.Errorf("Unfinished() = %v, want oldest first %v", ids(all), want)
	}
	some, _ := s.Unfinished(ctx, StatusInProcessing, StatusApproved)
	if !slices.Equal(ids(some), []string{reqs[0].ID, reqs[1].ID}) {
		t.Errorf("Unfinished(in_processing, approved) = %v", ids(some))
	}
	done, _ := s.Get(ctx, reqs[4].ID)
	if done.FinishedAt.IsZero() {
		t.Error("FinishedAt not set")
	}
	// Error then retry clears FinishedAt.
	if _, err := s.Finish(ctx, reqs[1].ID, StatusError, Event{Error: "connector app_db: timeout"}, func(r *Request) error {
		r.Reason = "node app_db.users failed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e, _ := s.Get(ctx, reqs[1].ID)
	if e.FinishedAt.IsZero() || e.Reason == "" {
		t.Errorf("errored request: %+v", e)
	}
	r, err := s.Transition(ctx, reqs[1].ID, []Status{StatusError}, StatusInProcessing, Event{}, nil)
	if err != nil || !r.FinishedAt.IsZero() {
		t.Errorf("retry: %v, FinishedAt %v", err, r.FinishedAt)
	}
}

func TestEventsOrderAndPaging(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	a := mustCreate(t, s, &Request{Policy: "p"})
	b := mustCreate(t, s, &Request{Policy: "p"})
	for i := 1; i <= 24; i++ {
		s.clock.Advance(time.Millisecond)
		seq, err := s.AppendEvent(ctx, a.ID, Event{Type: EventNodeStarted, Phase: PhaseAccess, Node: fmt.Sprintf("db.c%02d", i), Attempt: 1})
		if err != nil {
			t.Fatal(err)
		}
		if seq != uint64(i+1) {
			t.Fatalf("seq %d, want %d", seq, i+1)
		}
	}
	if _, err := s.AppendEvent(ctx, b.ID, Event{Type: EventNodeStarted, Node: "x"}); err != nil {
		t.Fatal(err)
	}
	var got []Event
	var after uint64
	for {
		page, err := s.Events(ctx, a.ID, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 10 {
			t.Fatalf("page of %d events, limit 10", len(page))
		}
		got = append(got, page...)
		after = page[len(page)-1].Seq
	}
	if len(got) != 25 {
		t.Fatalf("%d events, want 25", len(got))
	}
	for i, ev := range got {
		if ev.Seq != uint64(i+1) {
			t.Errorf("event %d has seq %d", i, ev.Seq)
		}
		if i > 0 && (ev.Node != fmt.Sprintf("db.c%02d", i) || ev.Time.Before(got[i-1].Time)) {
			t.Errorf("event %d out of order: %+v", i, ev)
		}
	}
	bev, _ := s.Events(ctx, b.ID, 0, 0)
	if len(bev) != 2 || bev[1].Node != "x" {
		t.Errorf("request b events = %+v (logs must not mix)", bev)
	}
	if _, err := s.AppendEvent(ctx, a.ID, Event{Type: "exploded"}); err == nil {
		t.Error("unknown event type accepted")
	}
	if _, err := s.AppendEvent(ctx, "pri_missing", Event{Type: EventStatus}); !errors.Is(err, ErrNotFound) {
		t.Errorf("event for a missing request: %v", err)
	}
}

// TestIdempotencyUntil: a key holds its request until IdempotencyUntil;
// from then on the same key creates a new request, which the key names.
func TestIdempotencyUntil(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	until := s.clock.Now().Add(time.Hour)
	mk := func() (*Request, error) {
		return s.CreateRequest(ctx, &Request{Policy: "p", IdempotencyKey: "k", IdempotencyUntil: until,
			Identities: map[string]string{"email": "a@example.com"}}, nil)
	}
	first, err := mk()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, first.ID); !got.IdempotencyUntil.Equal(until) {
		t.Errorf("IdempotencyUntil read back %v, want %v", got.IdempotencyUntil, until)
	}
	s.clock.Advance(time.Hour - time.Nanosecond)
	if r, err := mk(); !errors.Is(err, ErrDuplicate) || r.ID != first.ID {
		t.Fatalf("before until: %v %v, want the first request as a duplicate", r, err)
	}
	s.clock.Advance(time.Nanosecond)
	until = s.clock.Now().Add(time.Hour)
	second, err := mk()
	if err != nil || second.ID == first.ID {
		t.Fatalf("at until: %v %v, want a new request", second, err)
	}
	if r, err := mk(); !errors.Is(err, ErrDuplicate) || r.ID != second.ID {
		t.Fatalf("after the new request: %v %v, want the new request as a duplicate", r, err)
	}
}
