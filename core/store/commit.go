package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// maxBatch bounds how many writes share one commit.
const maxBatch = 128

var errClosed = errors.New("store is closed")

// committer is a group commit: every write goes through one goroutine,
// which runs all the writes waiting at that moment in one bbolt transaction
// (one pair of fsyncs) and returns to each caller once it is durable.
//
// Unlike bolt.DB.Batch it never waits for company: a lone write commits at
// once, and writes arriving during a commit form the next batch. If one
// write's function fails, the batch is rolled back, that write runs alone
// (its error is the one its caller gets) and the others run again, so each
// function may run more than once and must only act through the
// transaction (and reset what it captures at its start).
type committer struct {
	db    *bolt.DB
	calls chan *call
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once
	// commits counts write transactions (for tests and metrics).
	commits atomic.Int64
}

type call struct {
	fn     func(*bolt.Tx) error
	result chan callResult
}

type callResult struct {
	err      error
	panicked any
}

type panicked struct{ v any }

func newCommitter(db *bolt.DB) *committer {
	c := &committer{db: db, calls: make(chan *call), quit: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// update runs fn in a write transaction shared with concurrent writers and
// returns once the transaction is committed (or fn's error).
func (c *committer) update(fn func(*bolt.Tx) error) error {
	cl := &call{fn: fn, result: make(chan callResult, 1)}
	select {
	case c.calls <- cl:
	case <-c.quit:
		return errClosed
	}
	r := <-cl.result
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

func (c *committer) close() {
	c.once.Do(func() { close(c.quit) })
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	for {
		var first *call
		select {
		case first = <-c.calls:
		case <-c.quit:
			return
		}
		batch := []*call{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case cl := <-c.calls:
				batch = append(batch, cl)
			default:
				break drain
			}
		}
		c.run(batch)
	}
}

// run commits batch, isolating failing calls.
func (c *committer) run(batch []*call) {
	for len(batch) > 0 {
		failed := -1
		var fnErr error
		c.commits.Add(1)
		err := c.db.Update(func(tx *bolt.Tx) error {
			for i, cl := range batch {
				if err := safeCall(cl.fn, tx); err != nil {
					failed, fnErr = i, err
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, cl := range batch {
				cl.result <- callResult{err: err}
			}
			return
		}
		cl := batch[failed]
		if len(batch) == 1 {
			cl.result <- resultOf(fnErr)
			return
		}
		// Alone, its outcome no longer depends on the others' writes.
		c.commits.Add(1)
		cl.result <- resultOf(c.db.Update(func(tx *bolt.Tx) error { return safeCall(cl.fn, tx) }))
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
}

func resultOf(err error) callResult {
	var p panicked
	if errors.As(err, &p) {
		return callResult{panicked: p.v}
	}
	return callResult{err: err}
}

func (p panicked) Error() string { return fmt.Sprintf("panic: %v", p.v) }

func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicked{v}
		}
	}()
	return fn(tx)
}
