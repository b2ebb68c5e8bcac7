package api

import (
	"context"
	"errors"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/core/execute"
	"github.com/lethehq/lethe/core/store"
)

// Runner runs approved requests on a bounded pool of workers, in the
// order they were queued. Stop cancels the runs in progress, which stop at
// their next batch with every finished node checkpointed; the requests
// stay in_processing and the next process resumes them.
type Runner struct {
	eng    *execute.Engine
	st     store.Store
	log    hclog.Logger
	n      int
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []string
	queued map[string]bool
	closed bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// active holds the requests a worker is running; again those queued
	// again meanwhile (a retry landing before the run ended), which run
	// once it has.
	active map[string]bool
	again  map[string]bool
	// handled, when set (tests), is called when a worker is done with a
	// request it took: run or put back behind its running run.
	handled func(id string)
}

// NewRunner returns a runner of workers workers.
func NewRunner(eng *execute.Engine, st store.Store, workers int, log hclog.Logger) *Runner {
	if workers < 1 {
		workers = 1
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	r := &Runner{eng: eng, st: st, log: log, n: workers, queued: map[string]bool{}, active: map[string]bool{}, again: map[string]bool{}}
	r.cond = sync.NewCond(&r.mu)
	return r
}

// Start queues every unfinished request a previous process left (approved
// or in processing, oldest first) and starts the workers.
func (r *Runner) Start(ctx context.Context) error {
	reqs, err := r.st.Unfinished(ctx, store.StatusApproved, store.StatusInProcessing)
	if err != nil {
		return err
	}
	for _, req := range reqs {
		r.Enqueue(req.ID)
	}
	if len(reqs) > 0 {
		r.log.Info("resuming unfinished requests", "count", len(reqs))
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	for range r.n {
		r.wg.Add(1)
		go r.work(runCtx)
	}
	return nil
}

// Enqueue queues a request to run; a request already queued is not
// queued twice.
func (r *Runner) Enqueue(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.queued[id] {
		return
	}
	r.queued[id] = true
	r.queue = append(r.queue, id)
	r.cond.Signal()
}

// Queued is how many requests wait for a worker.
func (r *Runner) Queued() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// next takes the next request to run. A request another worker is still
// running is not run twice: it is marked to run again once that run ends
// (busy is true, and the caller takes the next one).
func (r *Runner) next() (id string, busy, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.queue) == 0 && !r.closed {
		r.cond.Wait()
	}
	if r.closed {
		return "", false, false
	}
	id = r.queue[0]
	r.queue = r.queue[1:]
	delete(r.queued, id)
	if r.active[id] {
		r.again[id] = true
		return id, true, true
	}
	r.active[id] = true
	return id, false, true
}

// done ends a worker's run of id, queueing it again if a retry asked for
// it meanwhile.
func (r *Runner) done(id string) {
	r.mu.Lock()
	delete(r.active, id)
	rerun := r.again[id]
	delete(r.again, id)
	if rerun && !r.closed && !r.queued[id] {
		r.queued[id] = true
		r.queue = append(r.queue, id)
		r.cond.Signal()
	}
	r.mu.Unlock()
}

func (r *Runner) work(ctx context.Context) {
	defer r.wg.Done()
	for {
		id, busy, ok := r.next()
		if !ok {
			return
		}
		if busy {
			r.log.Debug("request queued again while it runs; it runs again when this run ends", "request_id", id)
			if r.handled != nil {
				r.handled(id)
			}
			continue
		}
		r.runOne(ctx, id)
		if r.handled != nil {
			r.handled(id)
		}
	}
}

func (r *Runner) runOne(ctx context.Context, id string) {
	defer r.done(id)
	req, err := r.eng.Run(ctx, id)
	switch {
	case err == nil:
		r.log.Info("request finished", "request_id", id, "status", req.Status)
	case errors.Is(err, execute.ErrRequestFailed):
		r.log.Warn("request failed", "request_id", id)
	case ctx.Err() != nil:
		r.log.Info("request interrupted; it resumes at the next start", "request_id", id)
	default:
		// The error may quote a database message; the request's own log has
		// the reason, so only the id is logged here.
		r.log.Error("request could not run; see its event log", "request_id", id)
	}
}

// Stop stops taking work, cancels the runs in progress and waits for the
// workers (or ctx) to end.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.cond.Broadcast()
	r.mu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
