package drp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/core/store"
)

// Blob names of a DRP request's details in the store.
const (
	BlobCallback = "drp_status_callback"
	BlobAgent    = "drp_agent"
)

// NotifierOptions configure a Notifier.
type NotifierOptions struct {
	Store store.Store
	// Allowed is drp.callback_hosts: a URL whose host is not there is never
	// called, even if it was stored earlier.
	Allowed []string
	Logger  hclog.Logger
	// Client makes the calls (default: 10 s timeout, no redirects).
	Client *http.Client
	// Attempts per status (default 6) and the first backoff (default 1 s,
	// doubling, at most 1 min).
	Attempts int
	Backoff  time.Duration
}

// Notifier POSTs a DRP request's status object to its status_callback on
// every change of DRP status, in order, retrying with backoff until a 2xx
// answer. It never blocks the caller: each request has its own queue and
// goroutine. Deliveries are best effort and not kept across restarts.
type Notifier struct {
	o   NotifierOptions
	log hclog.Logger

	mu     sync.Mutex
	queues map[string]*queue // by request id
	urls   map[string]string // callback URL by request id ("" when none)
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

type queue struct {
	pending []Status
	last    string // status+reason last queued
	running bool   // a goroutine is draining pending
}

// NewNotifier returns a Notifier.
func NewNotifier(o NotifierOptions) *Notifier {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Client == nil {
		o.Client = &http.Client{
			Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // a redirect is an answer, never followed
			},
		}
	}
	if o.Attempts <= 0 {
		o.Attempts = 6
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Notifier{o: o, log: o.Logger, queues: map[string]*queue{}, urls: map[string]string{}, ctx: ctx, cancel: cancel}
}

// Register remembers a request's callback URL (already stored as a blob).
func (n *Notifier) Register(id, url string) {
	n.mu.Lock()
	n.urls[id] = url
	n.mu.Unlock()
}

// Changed is called after every status change of a request.
func (n *Notifier) Changed(r *store.Request) {
	if r == nil || r.Source != store.SourceDRP {
		return
	}
	n.mu.Lock()
	url, known := n.urls[r.ID]
	n.mu.Unlock()
	if !known {
		data, ok, err := n.o.Store.GetBlob(context.Background(), r.ID, BlobCallback)
		if err != nil {
			n.log.Warn("status callback: cannot read the callback URL", "request_id", r.ID, "error", err)
			return
		}
		if ok {
			url = string(data)
		}
		n.Register(r.ID, url)
	}
	if url == "" {
		return
	}
	if _, err := CheckCallback(url, n.o.Allowed); err != nil {
		n.log.Warn("status callback refused", "request_id", r.ID, "error", err)
		return
	}
	st := StatusOf(r)
	key := st.Status
	if st.Reason != nil {
		key += "/" + *st.Reason
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	q := n.queues[r.ID]
	if q == nil {
		q = &queue{}
		n.queues[r.ID] = q
	} else if q.last == key {
		return // the DRP status did not change (approved → in_processing)
	}
	q.last = key
	q.pending = append(q.pending, st)
	if !q.running {
		q.running = true
		n.wg.Add(1)
		go n.drain(r.ID, url, q)
	}
}

// drain delivers a request's queued statuses in order.
func (n *Notifier) drain(id, url string, q *queue) {
	defer n.wg.Done()
	for {
		n.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			if isFinal(q.last) {
				delete(n.queues, id)
				delete(n.urls, id)
			}
			n.mu.Unlock()
			return
		}
		st := q.pending[0]
		n.mu.Unlock()
		n.deliver(id, url, st)
		n.mu.Lock()
		q.pending = q.pending[1:]
		n.mu.Unlock()
	}
}

func isFinal(key string) bool {
	switch key {
	case StatusFulfilled, StatusRevoked, StatusExpired:
		return true
	}
	return len(key) > len(StatusDenied) && key[:len(StatusDenied)] == StatusDenied
}

func (n *Notifier) deliver(id, url string, st Status) {
	body, err := json.Marshal(st)
	if err != nil {
		return
	}
	wait := n.o.Backoff
	for attempt := 1; attempt <= n.o.Attempts; attempt++ {
		err := n.post(url, body)
		if err == nil {
			n.log.Debug("status callback delivered", "request_id", id, "status", st.Status, "attempt", attempt)
			return
		}
		n.log.Warn("status callback failed", "request_id", id, "status", st.Status, "attempt", attempt, "error", err)
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

func (n *Notifier) post(url string, body []byte) error {
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.o.Client.Do(req)
	if err != nil {
		var ue interface{ Timeout() bool }
		if errors.As(err, &ue) && ue.Timeout() {
			return errors.New("timed out")
		}
		return errors.New("the receiver is unreachable")
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return nil
}

// Close stops delivering and waits for the queues' goroutines.
func (n *Notifier) Close() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	n.cancel()
	n.wg.Wait()
}

// Store wraps a store so that every status change of a DRP request is
// reported to the Notifier.
type Store struct {
	store.Store
	N *Notifier
}

// Transition implements store.Store.
func (s Store) Transition(ctx context.Context, id string, from []store.Status, to store.Status, ev store.Event, mutate func(*store.Request) error) (*store.Request, error) {
	r, err := s.Store.Transition(ctx, id, from, to, ev, mutate)
	if err == nil {
		s.N.Changed(r)
	}
	return r, err
}

// Finish implements store.Store.
func (s Store) Finish(ctx context.Context, id string, to store.Status, ev store.Event, mutate func(*store.Request) error) (*store.Request, error) {
	r, err := s.Store.Finish(ctx, id, to, ev, mutate)
	if err == nil {
		s.N.Changed(r)
	}
	return r, err
}
