package drp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
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
	// AllowNetworks are the egress block's allow_networks: internal
	// addresses a callback may reach (see CallbackPolicy).
	AllowNetworks []netip.Prefix
	// Client makes the calls (default: 10 s timeout, no redirects, each
	// dialled address checked by CallbackPolicy).
	Client *http.Client
	// Attempts per status (default 6) and the first backoff (default 1 s,
	// doubling, at most 1 min).
	Attempts int
	Backoff  time.Duration
	// Outbox, when set, keeps every status not yet delivered, so that a
	// restarted daemon sends what the previous one could not (Resume).
	Outbox Outbox
}

// Outbox is where undelivered statuses wait (the store's objects).
type Outbox interface {
	PutObjects(ctx context.Context, writes []store.ObjectWrite) error
	ListObjects(ctx context.Context, kind string) ([]store.Object, error)
}

// OutboxKind is the store object kind of undelivered statuses, keyed
// "<request id>/<time>".
const OutboxKind = "drp_outbox"

type outboxEntry struct {
	URL    string `json:"url"`
	Status Status `json:"status"`
}

// Notifier POSTs a DRP request's status object to its status_callback on
// every change of DRP status, in order, retrying with backoff until a 2xx
// answer. It never blocks the caller on the network: each request has its
// own queue and goroutine. With an Outbox, a status stays there until it is
// delivered (or given up after its attempts), and Resume sends what a
// previous process left.
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
	pending []item
	last    string // status+reason last queued
	running bool   // a goroutine is draining pending
}

// item is a status to deliver and its outbox key ("" when not kept).
type item struct {
	st  Status
	key string
}

// NewNotifier returns a Notifier.
func NewNotifier(o NotifierOptions) *Notifier {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Client == nil {
		o.Client = callbackClient(CallbackPolicy(o.Allowed, o.AllowNetworks))
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
	if url == "" {
		return
	}
	n.mu.Lock()
	n.urls[id] = url
	n.mu.Unlock()
}

// drop forgets a request whose queue is idle.
func (n *Notifier) drop(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if q := n.queues[id]; q != nil && (q.running || len(q.pending) > 0) {
		return
	}
	delete(n.queues, id)
	delete(n.urls, id)
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
		// Requests without a callback are not remembered (one blob read per
		// status change instead): the maps hold only requests with a
		// callback, until their final status is delivered.
		data, ok, err := n.o.Store.GetBlob(context.Background(), r.ID, BlobCallback)
		if err != nil {
			n.log.Warn("status callback: cannot read the callback URL", "request_id", r.ID, "error", err)
			return
		}
		if !ok || len(data) == 0 {
			return
		}
		url = string(data)
	}
	if _, err := CheckCallback(url, n.o.Allowed); err != nil {
		n.log.Warn("status callback refused", "request_id", r.ID, "error", err)
		n.drop(r.ID)
		return
	}
	n.Register(r.ID, url)
	st := StatusOf(r)
	key := stateKey(st)
	n.mu.Lock()
	q := n.queues[r.ID]
	same := q != nil && q.last == key
	n.mu.Unlock()
	if same {
		return // the DRP status did not change (approved → in_processing)
	}
	it := item{st: st, key: n.keep(r.ID, url, st)}
	n.enqueue(r.ID, url, key, it)
}

func stateKey(st Status) string {
	if st.Reason != nil {
		return st.Status + "/" + *st.Reason
	}
	return st.Status
}

// keep writes a status to the outbox and returns its key ("" without an
// outbox, or when the write failed: then it is delivered from memory only).
func (n *Notifier) keep(id, url string, st Status) string {
	if n.o.Outbox == nil {
		return ""
	}
	data, err := json.Marshal(outboxEntry{URL: url, Status: st})
	if err != nil {
		return ""
	}
	key := fmt.Sprintf("%s/%020d", id, time.Now().UnixNano())
	if err := n.o.Outbox.PutObjects(context.Background(), []store.ObjectWrite{{Kind: OutboxKind, Key: key, Value: data}}); err != nil {
		n.log.Warn("status callback: cannot keep the status for delivery after a restart", "request_id", id, "error", err)
		return ""
	}
	return key
}

func (n *Notifier) enqueue(id, url, state string, it item) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	q := n.queues[id]
	if q == nil {
		q = &queue{}
		n.queues[id] = q
	} else if q.last == state {
		n.forget(it.key)
		return
	}
	q.last = state
	q.pending = append(q.pending, it)
	if !q.running {
		q.running = true
		n.wg.Add(1)
		go n.drain(id, url, q)
	}
}

// forget removes a delivered (or given up) status from the outbox.
func (n *Notifier) forget(key string) {
	if key == "" || n.o.Outbox == nil {
		return
	}
	if err := n.o.Outbox.PutObjects(context.Background(), []store.ObjectWrite{{Kind: OutboxKind, Key: key}}); err != nil {
		n.log.Warn("status callback: cannot remove a delivered status from the outbox", "error", err)
	}
}

// Resume queues the statuses a previous process left undelivered, in the
// order they were made.
func (n *Notifier) Resume(ctx context.Context) error {
	if n.o.Outbox == nil {
		return nil
	}
	objs, err := n.o.Outbox.ListObjects(ctx, OutboxKind)
	if err != nil {
		return fmt.Errorf("read the status callback outbox: %w", err)
	}
	for _, o := range objs { // ordered by key: request id, then time
		var e outboxEntry
		id, _, _ := strings.Cut(o.Key, "/")
		if err := json.Unmarshal(o.Value, &e); err != nil || id == "" {
			n.forget(o.Key)
			continue
		}
		if _, err := CheckCallback(e.URL, n.o.Allowed); err != nil {
			n.log.Warn("status callback refused", "request_id", id, "error", err)
			n.forget(o.Key)
			continue
		}
		n.Register(id, e.URL)
		n.enqueue(id, e.URL, stateKey(e.Status), item{st: e.Status, key: o.Key})
	}
	return nil
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
		it := q.pending[0]
		n.mu.Unlock()
		if n.deliver(id, url, it.st) {
			n.forget(it.key)
		}
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

// deliver sends one status until a 2xx answer or its attempts are used
// up. It reports false only when the notifier is closing, so the status
// stays in the outbox for the next process.
func (n *Notifier) deliver(id, url string, st Status) bool {
	body, err := json.Marshal(st)
	if err != nil {
		return true
	}
	wait := n.o.Backoff
	for attempt := 1; attempt <= n.o.Attempts; attempt++ {
		err := n.post(url, body)
		if err == nil {
			n.log.Debug("status callback delivered", "request_id", id, "status", st.Status, "attempt", attempt)
			return true
		}
		if n.ctx.Err() != nil {
			return false
		}
		n.log.Warn("status callback failed", "request_id", id, "status", st.Status, "attempt", attempt, "error", err)
		if attempt == n.o.Attempts {
			break
		}
		select {
		case <-n.ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
	n.log.Error("status callback given up", "request_id", id, "status", st.Status, "attempts", n.o.Attempts)
	return true
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
