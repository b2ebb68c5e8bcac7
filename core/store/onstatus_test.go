package store

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestOnStatus: the hook sees every committed status change, once, with
// the status before; refused changes and duplicates are not reported.
func TestOnStatus(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	s := openTestStore(t, func(o *Options) {
		o.OnStatus = func(from, to Status) {
			mu.Lock()
			seen = append(seen, string(from)+">"+string(to))
			mu.Unlock()
		}
	})
	ctx := context.Background()
	r := mustCreate(t, s, &Request{Policy: "p", Status: StatusApproved, IdempotencyKey: "k", Identities: map[string]string{"email": "a@b.c"}})
	if _, err := s.CreateRequest(ctx, &Request{Policy: "p", IdempotencyKey: "k", Identities: map[string]string{"email": "a@b.c"}}, nil); !errors.Is(err, ErrDuplicate) {
		t.Fatal(err)
	}
	if _, err := s.Transition(ctx, r.ID, []Status{StatusApproved}, StatusInProcessing, Event{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Transition(ctx, r.ID, []Status{StatusApproved}, StatusInProcessing, Event{}, nil); !errors.Is(err, ErrConflict) {
		t.Fatal(err)
	}
	if _, err := s.Transition(ctx, r.ID, []Status{StatusInProcessing}, StatusInProcessing, Event{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Finish(ctx, r.ID, StatusError, Event{}, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{">approved", "approved>in_processing", "in_processing>error"}
	if len(seen) != len(want) {
		t.Fatalf("seen %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("seen %v, want %v", seen, want)
		}
	}
}
