package execute

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/mask"
	"github.com/lethehq/lethe/core/plan"
	"github.com/lethehq/lethe/core/policy"
	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/redact"
)

// run is one execution of one request.
type run struct {
	e       *Engine
	cfg     *config.Config // the configuration the run started with
	req     *store.Request
	pol     *policy.Policy
	plan    *plan.Plan
	nodes   map[string]*plan.Node
	secrets mask.Secrets
	log     hclog.Logger
	// redact holds the request's identity values: redacted from every
	// error text the run logs, records or reports (the plugin side and the
	// connector client redact the values of each call already; this is the
	// net for errors that come another way).
	redact *redact.Set

	valuesMu sync.Mutex
	values   map[string]*parentValues // by parent field address
}

// parentValues are the values a done node's rows hold at one field,
// gathered once for all the nodes they feed.
type parentValues struct {
	once   sync.Once
	values []any
	err    error
}

// errAborted marks a run stopped by a failpoint or by its context: the
// request keeps its status, to be resumed.
type errAborted struct{ err error }

func (e errAborted) Error() string { return "run aborted: " + e.err.Error() }
func (e errAborted) Unwrap() error { return e.err }

// Run executes the request with id from wherever it stands: an approved
// request starts, one in processing resumes from its checkpoints. It
// returns the request as stored at the end. When the request ends in
// error, the error wraps ErrRequestFailed. When ctx ends or a failpoint
// aborts the run, the request stays in processing and the error says so.
func (e *Engine) Run(ctx context.Context, id string) (*store.Request, error) {
	st := e.opts.Store
	req, err := st.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if req.Status.Terminal() {
		return req, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.mu.Lock()
	if _, busy := e.running[id]; busy {
		e.mu.Unlock()
		return nil, fmt.Errorf("request %s is already running in this process", id)
	}
	e.running[id] = cancel
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.running, id)
		e.mu.Unlock()
	}()

	if req.Status != store.StatusInProcessing {
		req, err = st.Transition(ctx, id, []store.Status{store.StatusApproved}, store.StatusInProcessing,
			store.Event{Type: store.EventStatus, Status: store.StatusInProcessing}, func(r *store.Request) error {
				r.Attempt++
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("start request %s: %w", id, err)
		}
	}
	if pol := e.snap().cfg.Policy(req.Policy); pol != nil && policy.IsConsent(pol.DRPAction) {
		return e.recordConsent(ctx, req, pol)
	}
	r, err := e.prepare(ctx, req)
	if err != nil {
		return e.fail(ctx, req, err)
	}
	if err := r.execute(ctx); err != nil {
		var ab errAborted
		if errors.As(err, &ab) || ctx.Err() != nil {
			cur, gerr := st.Get(context.WithoutCancel(ctx), id)
			if gerr == nil && cur.Status.Terminal() {
				// Canceled (or finished) by someone else meanwhile.
				return cur, nil
			}
			return cur, fmt.Errorf("request %s stopped before it finished; run it again to resume: %w", id, err)
		}
		return e.fail(ctx, req, err)
	}
	return r.finish(ctx)
}

// prepare loads what a run needs: the policy, the plan, the secrets.
func (e *Engine) prepare(ctx context.Context, req *store.Request) (*run, error) {
	sn := e.snap()
	raw, err := e.opts.Store.MaskingSecrets(ctx, req.ID)
	if err != nil {
		return nil, fmt.Errorf("load the request's policy and masking secrets: %w", err)
	}
	var pol *policy.Policy
	var secrets []byte
	if raw != nil {
		if pol, secrets, err = decodeSubmission(raw); err != nil {
			return nil, err
		}
	}
	if pol == nil || pol.Name != req.Policy {
		// A request stored without its policy runs the one in force.
		if pol = sn.cfg.Policy(req.Policy); pol == nil {
			return nil, fmt.Errorf("policy %q is no longer declared", req.Policy)
		}
	}
	names := make([]string, 0, len(req.Identities))
	for k := range req.Identities {
		names = append(names, k)
	}
	sort.Strings(names)
	p, err := plan.New(sn.graph, plan.Options{Identities: names, Erasure: hasErasure(pol)})
	if err != nil {
		return nil, err
	}
	r := &run{
		e: e, cfg: sn.cfg, req: req, pol: pol, plan: p,
		nodes:  make(map[string]*plan.Node, len(p.Nodes)),
		log:    e.log.With("request_id", req.ID),
		redact: identityValues(req),
		values: map[string]*parentValues{},
	}
	for i := range p.Nodes {
		r.nodes[p.Nodes[i].Address.String()] = &p.Nodes[i]
	}
	if hasErasure(pol) {
		if secrets == nil {
			return nil, errors.New("the request's masking secrets are gone; submit the request again")
		}
		if err := r.secrets.UnmarshalBinary(secrets); err != nil {
			return nil, fmt.Errorf("load masking secrets: %w", err)
		}
	}
	return r, nil
}

// fail ends the request in error with err's message as the reason.
// recordConsent fulfils a consent request (sale:opt_out, sale:opt_in):
// the request itself, complete, is the durable record of the preference,
// found again by identity through the store's keyed index. No database is
// touched.
func (e *Engine) recordConsent(ctx context.Context, req *store.Request, pol *policy.Policy) (*store.Request, error) {
	out, err := e.opts.Store.Finish(context.WithoutCancel(ctx), req.ID, store.StatusComplete,
		store.Event{Type: store.EventStatus, Status: store.StatusComplete}, nil)
	if err != nil {
		return nil, fmt.Errorf("record consent of request %s: %w", req.ID, err)
	}
	e.log.Info("consent preference recorded", "request_id", req.ID, "action", pol.DRPAction)
	e.observe(Progress{RequestID: req.ID, Event: store.EventStatus})
	return out, nil
}

// identityValues is the set of a request's identity values.
func identityValues(req *store.Request) *redact.Set {
	vals := &redact.Set{}
	for _, v := range req.Identities {
		vals.Add(v)
	}
	return vals
}

func (e *Engine) fail(ctx context.Context, req *store.Request, cause error) (*store.Request, error) {
	cause = redactedError{text: identityValues(req).Text(cause.Error()), err: cause}
	reason := cause.Error()
	if len(reason) > 2000 {
		reason = reason[:2000] + "…"
	}
	ctx = context.WithoutCancel(ctx)
	out, err := e.opts.Store.Transition(ctx, req.ID, []store.Status{store.StatusInProcessing}, store.StatusError,
		store.Event{Type: store.EventStatus, Status: store.StatusError, Error: reason}, func(r *store.Request) error {
			r.Reason = reason
			return nil
		})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			cur, gerr := e.opts.Store.Get(ctx, req.ID)
			if gerr == nil {
				return cur, fmt.Errorf("%w: %v (the request is now %s)", ErrRequestFailed, cause, cur.Status)
			}
		}
		return nil, errors.Join(fmt.Errorf("%w: %v", ErrRequestFailed, cause), err)
	}
	e.observe(Progress{RequestID: req.ID, Event: store.EventStatus, Err: cause})
	e.log.Error("request failed", "request_id", req.ID, "reason", reason)
	return out, fmt.Errorf("%w: %v", ErrRequestFailed, cause)
}

func (e *Engine) observe(p Progress) {
	if e.opts.Observe != nil {
		e.opts.Observe(p)
	}
}

func (e *Engine) failpoint(point, name string) error {
	if e.opts.Failpoint == nil {
		return nil
	}
	if err := e.opts.Failpoint(point + ":" + name); err != nil {
		return errAborted{err}
	}
	return nil
}

// execute runs the phases in order: access, uploads, erasure.
func (r *run) execute(ctx context.Context) error {
	if err := r.accessPhase(ctx); err != nil {
		return err
	}
	if err := r.uploadPhase(ctx); err != nil {
		return err
	}
	if hasErasure(r.pol) {
		if err := r.erasurePhase(ctx); err != nil {
			return err
		}
	}
	return nil
}

// finish moves the request to complete with its counts and locations.
func (r *run) finish(ctx context.Context) (*store.Request, error) {
	st := r.e.opts.Store
	access, err := st.DoneNodes(ctx, r.req.ID, store.PhaseAccess)
	if err != nil {
		return nil, err
	}
	erasure, err := st.DoneNodes(ctx, r.req.ID, store.PhaseErasure)
	if err != nil {
		return nil, err
	}
	uploads, err := st.DoneNodes(ctx, r.req.ID, store.PhaseUpload)
	if err != nil {
		return nil, err
	}
	counts := map[string]store.NodeCounts{}
	for k, v := range access {
		c := counts[k]
		c.Found, c.Shared = v.Rows, v.Shared
		counts[k] = c
	}
	for k, v := range erasure {
		c := counts[k]
		c.Masked = v.Masked
		counts[k] = c
	}
	var locations []string
	for _, rule := range r.pol.Rules {
		if u, ok := uploads[rule.Name]; ok && u.Detail != "" {
			locations = append(locations, u.Detail)
		}
	}
	out, err := st.Transition(ctx, r.req.ID, []store.Status{store.StatusInProcessing}, store.StatusComplete,
		store.Event{Type: store.EventStatus, Status: store.StatusComplete}, func(req *store.Request) error {
			req.Counts = counts
			req.Locations = locations
			req.Reason = ""
			return nil
		})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			if cur, gerr := st.Get(ctx, r.req.ID); gerr == nil {
				return cur, nil // canceled meanwhile
			}
		}
		return nil, fmt.Errorf("complete request %s: %w", r.req.ID, err)
	}
	r.e.observe(Progress{RequestID: r.req.ID, Event: store.EventStatus})
	r.log.Info("request complete", "collections", len(access), "uploads", len(uploads))
	return out, nil
}

// task is one unit of a phase's schedule.
type task struct {
	name string
	deps []string
	conn string // connection whose limit applies, "" for none
	run  func(ctx context.Context) error
}

// schedule runs tasks as soon as their dependencies are done, within the
// engine's global and per-connection limits. done names tasks finished in
// an earlier run. On the first failure it cancels the rest and returns
// that failure once every started task has stopped.
func (r *run) schedule(ctx context.Context, tasks []task, done map[string]bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		waiting  = map[string]int{}
		children = map[string][]int{}
	)
	byName := map[string]bool{}
	for _, t := range tasks {
		byName[t.name] = true
	}
	for i, t := range tasks {
		n := 0
		for _, d := range t.deps {
			if byName[d] && !done[d] {
				n++
				children[d] = append(children[d], i)
			}
		}
		waiting[t.name] = n
	}
	var start func(i int)
	start = func(i int) {
		t := tasks[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := r.e.acquire(ctx, t.conn)
			if err == nil {
				err = t.run(ctx)
				r.e.release(t.conn)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil || (isCancel(firstErr) && !isCancel(err)) {
					firstErr = err
				}
				cancel()
				return
			}
			if firstErr != nil {
				return
			}
			for _, c := range children[t.name] {
				waiting[tasks[c].name]--
				if waiting[tasks[c].name] == 0 {
					start(c)
				}
			}
		}()
	}
	mu.Lock()
	for i, t := range tasks {
		if !done[t.name] && waiting[t.name] == 0 {
			start(i)
		}
	}
	mu.Unlock()
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return errAborted{err}
	}
	return nil
}

func isCancel(err error) bool {
	var ab errAborted
	return errors.As(err, &ab) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// acquire takes a slot of conn's limit, then one of the global limit.
func (e *Engine) acquire(ctx context.Context, conn string) error {
	sem := e.connLimit(conn)
	if sem != nil {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return errAborted{ctx.Err()}
		}
	}
	select {
	case e.global <- struct{}{}:
		return nil
	case <-ctx.Done():
		if sem != nil {
			<-sem
		}
		return errAborted{ctx.Err()}
	}
}

func (e *Engine) release(conn string) {
	<-e.global
	if sem := e.connLimit(conn); sem != nil {
		<-sem
	}
}

// attempt runs fn until it succeeds, fails permanently, or the attempts
// are used up, backing off exponentially with jitter in between. begin is
// called before each attempt and returns its number.
func (r *run) attempt(ctx context.Context, phase store.Phase, node string, begin func() (int, error), fn func(attempt int) error) error {
	last := 0
	for {
		n, err := begin()
		if err != nil {
			return err
		}
		// An attempt that failed before its first write left no record
		// (NextAttempt numbers it again): count it here, so that retries
		// are numbered on and end at the cap.
		if n <= last {
			n = last + 1
		}
		last = n
		err = fn(n)
		if err == nil {
			return nil
		}
		var ab errAborted
		if errors.As(err, &ab) || ctx.Err() != nil {
			if ctx.Err() != nil && !errors.As(err, &ab) {
				return errAborted{err}
			}
			return err
		}
		retry := fault.Retryable(err) && n < r.e.opts.Attempts
		text := r.errText(err)
		ev := store.Event{Type: store.EventNodeFailed, Phase: phase, Node: node, Attempt: n, Error: text}
		if retry {
			ev.Type = store.EventNodeRetry
		}
		if _, aerr := r.e.opts.Store.AppendEvent(context.WithoutCancel(ctx), r.req.ID, ev); aerr != nil {
			return errors.Join(err, aerr)
		}
		r.e.observe(Progress{RequestID: r.req.ID, Phase: phase, Node: node, Event: ev.Type, Attempt: n, Err: redactedError{text: text, err: err}})
		if !retry {
			r.log.Error("node failed", "phase", phase, "node", node, "attempt", n, "error", text)
			return fmt.Errorf("%s %s: %w", phase, node, err)
		}
		wait := r.e.backoff(n)
		r.log.Warn("node failed, retrying", "phase", phase, "node", node, "attempt", n, "wait", wait, "error", text)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return errAborted{ctx.Err()}
		}
	}
}

func (e *Engine) backoff(attempt int) time.Duration {
	d := e.opts.BackoffBase << (attempt - 1)
	if d > e.opts.BackoffMax || d <= 0 {
		d = e.opts.BackoffMax
	}
	// Full jitter over the upper half keeps retries of parallel nodes apart.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// errText is an error's message for events and logs: the request's
// identity values redacted, bounded.
func (r *run) errText(err error) string {
	s := r.redact.Text(err.Error())
	if len(s) > 1000 {
		s = s[:1000] + "…"
	}
	return s
}

// redactedError shows a redacted text and keeps the error it stands for
// (errors.Is and errors.As see through it).
type redactedError struct {
	text string
	err  error
}

func (e redactedError) Error() string { return e.text }
func (e redactedError) Unwrap() error { return e.err }

func joinPath(p []string) string { return strings.Join(p, ".") }
