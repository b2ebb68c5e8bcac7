package drp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethehq/lethe/core/store"
)

type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	got      []string
	failures atomic.Int64 // answer 500 while > 0
	calls    atomic.Int64 // every call, answered or failed
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		rc.calls.Add(1)
		if rc.failures.Add(-1) >= 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var st Status
		_ = json.Unmarshal(data, &st)
		rc.mu.Lock()
		rc.got = append(rc.got, st.Status)
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) statuses() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.got...)
}

func openStore(t *testing.T, dir string) *store.Bolt {
	t.Helper()
	st, err := store.Open(dir, store.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func outbox(t *testing.T, st *store.Bolt) int {
	t.Helper()
	objs, err := st.ListObjects(context.Background(), OutboxKind)
	if err != nil {
		t.Fatal(err)
	}
	return len(objs)
}

func drpRequest(id string, s store.Status) *store.Request {
	return &store.Request{ID: id, Status: s, Source: store.SourceDRP, CreatedAt: time.Now()}
}

// TestCallbacksSurviveARestart: a status the receiver has not taken when
// the notifier closes stays in the outbox; the next notifier sends it, in
// order, and empties the outbox. A status that never gets through is given
// up after its attempts and removed.
func TestCallbacksSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	rc := newReceiver(t)
	u, _ := url.Parse(rc.srv.URL)
	allowed := []string{u.Host}
	st := openStore(t, dir)
	rc.failures.Store(1 << 30) // down
	n := NewNotifier(NotifierOptions{Store: st, Outbox: st, Allowed: allowed, Attempts: 100, Backoff: 10 * time.Millisecond})
	n.Register("pri_1", rc.srv.URL+"/cb")
	n.Changed(drpRequest("pri_1", store.StatusInProcessing))
	n.Changed(drpRequest("pri_1", store.StatusComplete))
	// Close while the receiver is failing the first status's attempts.
	deadline := time.Now().Add(5 * time.Second)
	for rc.calls.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if rc.calls.Load() < 2 {
		t.Fatal("the notifier made no retries within 5s")
	}
	n.Close()
	if got := outbox(t, st); got != 2 {
		t.Fatalf("outbox holds %d statuses after a close mid-retry, want 2", got)
	}
	st.Close()

	rc.failures.Store(0)
	st = openStore(t, dir)
	defer st.Close()
	n = NewNotifier(NotifierOptions{Store: st, Outbox: st, Allowed: allowed, Backoff: 10 * time.Millisecond})
	if err := n.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for len(rc.statuses()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	n.Close()
	if got := rc.statuses(); len(got) != 2 || got[0] != StatusInProgress || got[1] != StatusFulfilled {
		t.Fatalf("delivered %v, want [in_progress fulfilled]", got)
	}
	if got := outbox(t, st); got != 0 {
		t.Fatalf("outbox holds %d delivered statuses", got)
	}

	// Given up after its attempts: removed, not retried forever.
	rc.failures.Store(1 << 30)
	n = NewNotifier(NotifierOptions{Store: st, Outbox: st, Allowed: allowed, Attempts: 2, Backoff: time.Millisecond})
	n.Register("pri_2", rc.srv.URL+"/cb")
	n.Changed(drpRequest("pri_2", store.StatusCanceled))
	deadline = time.Now().Add(5 * time.Second)
	for outbox(t, st) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	n.Close()
	if got := outbox(t, st); got != 0 {
		t.Fatalf("a given-up status stays in the outbox (%d)", got)
	}
	// A URL outside the allowed hosts is never called, even from the outbox.
	n = NewNotifier(NotifierOptions{Store: st, Outbox: st, Allowed: []string{"elsewhere.example"}, Backoff: time.Millisecond})
	rc.failures.Store(0)
	n.Register("pri_3", rc.srv.URL+"/cb")
	calls := rc.calls.Load()
	n.Changed(drpRequest("pri_3", store.StatusComplete))
	// The refusal is decided in Changed: nothing is queued or kept in the
	// outbox, so no call can come later either.
	if got := n.entries(); got != 0 {
		t.Errorf("the notifier keeps %d entries for a refused host", got)
	}
	if got := outbox(t, st); got != 0 {
		t.Errorf("a status for a refused host is in the outbox (%d)", got)
	}
	n.Close()
	if got := rc.calls.Load(); got != calls {
		t.Fatalf("a refused host was called %d times", got-calls)
	}
}

// TestCallbackRedirectNotFollowed: a 302 is an answer (not a success),
// never followed to its target.
func TestCallbackRedirectNotFollowed(t *testing.T) {
	var followed, redirected atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirected.Add(1)
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	st := openStore(t, t.TempDir())
	defer st.Close()
	n := NewNotifier(NotifierOptions{Store: st, Allowed: []string{u.Host}, Attempts: 2, Backoff: time.Millisecond})
	n.Register("pri_1", srv.URL+"/cb")
	n.Changed(drpRequest("pri_1", store.StatusComplete))
	deadline := time.Now().Add(5 * time.Second)
	for redirected.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	n.Close()
	if redirected.Load() != 2 || followed.Load() != 0 {
		t.Fatalf("redirecting receiver called %d times (want 2 attempts), target %d times (want 0)", redirected.Load(), followed.Load())
	}
}

// entries is how many requests the notifier keeps state for.
func (n *Notifier) entries() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.urls) + len(n.queues)
}

// TestNotifierForgetsRequests reproduces issue 13 item 10: the notifier
// kept an entry for every DRP request without a callback, forever. It
// keeps state only for requests with a callback that have not reached a
// final status; a refused callback is not kept either.
func TestNotifierForgetsRequests(t *testing.T) {
	rc := newReceiver(t)
	u, _ := url.Parse(rc.srv.URL)
	st := openStore(t, t.TempDir())
	defer st.Close()
	n := NewNotifier(NotifierOptions{Store: st, Allowed: []string{u.Host}, Backoff: time.Millisecond})
	const requests = 200
	for i := range requests {
		r, err := st.CreateRequest(context.Background(), &store.Request{ID: fmt.Sprintf("pri_nocb%d", i), Policy: "p", Source: store.SourceDRP}, nil)
		if err != nil {
			t.Fatal(err)
		}
		id := r.ID
		for _, s := range []store.Status{store.StatusApproved, store.StatusInProcessing, store.StatusError} {
			n.Changed(drpRequest(id, s)) // error is not final: it may be retried
		}
	}
	if got := n.entries(); got != 0 {
		t.Errorf("after %d requests without a callback the notifier keeps %d entries, want 0", requests, got)
	}
	// A callback to a host no longer allowed: refused, not kept.
	n.Register("pri_refused", "http://elsewhere.example/cb")
	n.Changed(drpRequest("pri_refused", store.StatusInProcessing))
	if got := n.entries(); got != 0 {
		t.Errorf("a refused callback is kept: %d entries", got)
	}
	// With a callback: kept while the request is live, dropped once its
	// final status is delivered.
	n.Register("pri_cb", rc.srv.URL+"/cb")
	n.Changed(drpRequest("pri_cb", store.StatusInProcessing))
	n.Changed(drpRequest("pri_cb", store.StatusComplete))
	deadline := time.Now().Add(5 * time.Second)
	for len(rc.statuses()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	n.Close() // waits for the queue's goroutine to end
	if got := rc.statuses(); len(got) != 2 {
		t.Fatalf("delivered %v, want two statuses", got)
	}
	if got := n.entries(); got != 0 {
		t.Errorf("after a final status the notifier keeps %d entries, want 0", got)
	}
}
