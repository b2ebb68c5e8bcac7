package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// MaxBlobSize bounds a blob: blobs are for small per-request values.
const MaxBlobSize = 1 << 20

// nodeState is a node's checkpoint, kept after the request finishes.
type nodeState struct {
	Attempts  int        `json:"attempts"`
	StartedAt time.Time  `json:"started_at,omitzero"`
	Done      bool       `json:"done"`
	Result    NodeResult `json:"result"`
}

func pageAAD(id string, phase Phase, node string, page int) []byte {
	return aad(string(bktPages), id, string(phase), node, strconv.Itoa(page))
}

func pageKey(page int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(page)) }

// pageDataKey holds a page's sealed bytes inside the page's own bucket.
//
// Each page lives in a bucket of its own (nodePages/<page>/d) rather than
// as a value of nodePages: bbolt keeps at least two to four values per leaf,
// so appending a large value beside others would rewrite its neighbours
// too (about 3.5x write amplification with 500 KiB pages). A bucket per
// page makes an append write only its own page.
var pageDataKey = []byte("d")

func putPage(nodePages *bolt.Bucket, page int, sealed []byte) error {
	k := pageKey(page)
	if nodePages.Bucket(k) != nil {
		if err := nodePages.DeleteBucket(k); err != nil {
			return err
		}
	}
	pb, err := nodePages.CreateBucket(k)
	if err != nil {
		return err
	}
	return pb.Put(pageDataKey, sealed)
}

// getPage returns the sealed bytes of a page bucket (valid only inside the
// transaction).
func getPage(nodePages *bolt.Bucket, key []byte) []byte {
	pb := nodePages.Bucket(key)
	if pb == nil {
		return nil
	}
	return pb.Get(pageDataKey)
}

func loadNode(tx *bolt.Tx, id string, phase Phase, node string) (*nodeState, error) {
	bkt := tx.Bucket(bktNodes).Bucket([]byte(id))
	if bkt == nil {
		return nil, nil
	}
	v := bkt.Get(nodeKey(phase, node))
	if v == nil {
		return nil, nil
	}
	var st nodeState
	if err := json.Unmarshal(v, &st); err != nil {
		return nil, fmt.Errorf("decode checkpoint of %s node %s: %w", phase, node, err)
	}
	return &st, nil
}

func putNode(tx *bolt.Tx, id string, phase Phase, node string, st *nodeState) error {
	bkt, err := tx.Bucket(bktNodes).CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return err
	}
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return bkt.Put(nodeKey(phase, node), v)
}

// requireActive checks that the request exists and is not terminal: no
// work may start (or leave rows behind) on a finished request.
func requireActive(tx *bolt.Tx, id string) error {
	rec, err := loadRecord(tx, id)
	if err != nil {
		return err
	}
	if rec.Status.Terminal() {
		return fmt.Errorf("%w: request %s is %s", ErrConflict, id, rec.Status)
	}
	return nil
}

// BeginNode implements Store.
func (b *Bolt) BeginNode(ctx context.Context, id string, phase Phase, node string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkNode(phase, node); err != nil {
		return 0, fmt.Errorf("begin node: %w", err)
	}
	var attempt int
	err := b.w.update(func(tx *bolt.Tx) error {
		if err := requireActive(tx, id); err != nil {
			return err
		}
		st, err := loadNode(tx, id, phase, node)
		if err != nil {
			return err
		}
		attempt = 1
		if st != nil {
			attempt = st.Attempts + 1
		}
		_, err = b.beginAttempt(tx, id, phase, node, attempt)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("begin %s node %s of request %s: %w", phase, node, id, err)
	}
	return attempt, nil
}

// AppendRows implements Store.
func (b *Bolt) AppendRows(ctx context.Context, id string, phase Phase, node string, page int, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNode(phase, node); err != nil {
		return fmt.Errorf("append rows: %w", err)
	}
	if page < 0 || page > math.MaxInt32 {
		return fmt.Errorf("append rows: page %d out of range", page)
	}
	// Encrypt outside the write transaction.
	sealed, err := b.seal.seal(data, pageAAD(id, phase, node, page))
	if err != nil {
		return fmt.Errorf("append rows: %w", err)
	}
	err = b.w.update(func(tx *bolt.Tx) error {
		if err := requireActive(tx, id); err != nil {
			return err
		}
		st, err := loadNode(tx, id, phase, node)
		if err != nil {
			return err
		}
		if st == nil {
			return fmt.Errorf("%w: %s node %s of request %s was not begun (call BeginNode first)", ErrConflict, phase, node, id)
		}
		if st.Done {
			return fmt.Errorf("%w: %s node %s of request %s is already done", ErrConflict, phase, node, id)
		}
		reqPages, err := tx.Bucket(bktPages).CreateBucketIfNotExists([]byte(id))
		if err != nil {
			return err
		}
		nodePages, err := reqPages.CreateBucketIfNotExists(nodeKey(phase, node))
		if err != nil {
			return err
		}
		// Pages are appended in order: fill the index completely.
		nodePages.FillPercent = 1.0
		return putPage(nodePages, page, sealed)
	})
	if err != nil {
		return fmt.Errorf("append rows to %s node %s of request %s: %w", phase, node, id, err)
	}
	return nil
}

// FinishNode implements Store. A node may be finished without having been
// begun (a skipped node). It may be finished while the request is terminal
// (it records what was done), but only once.
func (b *Bolt) FinishNode(ctx context.Context, id string, phase Phase, node string, res NodeResult, ev Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNode(phase, node); err != nil {
		return fmt.Errorf("finish node: %w", err)
	}
	ev = doneEvent(ev, phase, node, res)
	if err := validateEvent(ev); err != nil {
		return fmt.Errorf("finish node: %w", err)
	}
	err := b.w.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bktRequests).Get([]byte(id)) == nil {
			return fmt.Errorf("request %s: %w", id, ErrNotFound)
		}
		st, err := loadNode(tx, id, phase, node)
		if err != nil {
			return err
		}
		if st == nil {
			st = &nodeState{}
		}
		if st.Done {
			return fmt.Errorf("%w: %s node %s of request %s is already done", ErrConflict, phase, node, id)
		}
		r := res
		if r.Attempts == 0 {
			r.Attempts = st.Attempts
		}
		if r.FinishedAt.IsZero() {
			r.FinishedAt = b.now()
		}
		r.FinishedAt = r.FinishedAt.UTC()
		st.Done, st.Result = true, r
		if err := putNode(tx, id, phase, node, st); err != nil {
			return err
		}
		e := ev
		if e.Attempt == 0 {
			e.Attempt = r.Attempts
		}
		_, err = b.appendEvent(tx, id, e)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish %s node %s of request %s: %w", phase, node, id, err)
	}
	return nil
}

// NodeDone implements Store.
func (b *Bolt) NodeDone(ctx context.Context, id string, phase Phase, node string) (NodeResult, bool, error) {
	if err := ctx.Err(); err != nil {
		return NodeResult{}, false, err
	}
	if err := checkNode(phase, node); err != nil {
		return NodeResult{}, false, err
	}
	var st *nodeState
	err := b.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bktRequests).Get([]byte(id)) == nil {
			return fmt.Errorf("request %s: %w", id, ErrNotFound)
		}
		var err error
		st, err = loadNode(tx, id, phase, node)
		return err
	})
	if err != nil {
		return NodeResult{}, false, err
	}
	if st == nil || !st.Done {
		return NodeResult{}, false, nil
	}
	return st.Result, true, nil
}

// DoneNodes implements Store.
func (b *Bolt) DoneNodes(ctx context.Context, id string, phase Phase) (map[string]NodeResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !phase.Valid() {
		return nil, fmt.Errorf("invalid phase %q: use access, erasure or upload", phase)
	}
	out := map[string]NodeResult{}
	err := b.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bktRequests).Get([]byte(id)) == nil {
			return fmt.Errorf("request %s: %w", id, ErrNotFound)
		}
		bkt := tx.Bucket(bktNodes).Bucket([]byte(id))
		if bkt == nil {
			return nil
		}
		prefix := nodeKey(phase, "")
		c := bkt.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var st nodeState
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("decode checkpoint: %w", err)
			}
			if st.Done {
				out[string(k[len(prefix):])] = st.Result
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("done %s nodes of request %s: %w", phase, id, err)
	}
	return out, nil
}

// ReadRows implements Store: one short read transaction per page; the page
// is decrypted into a fresh slice inside it and fn runs after it closed.
func (b *Bolt) ReadRows(ctx context.Context, id string, phase Phase, node string, fn func(page int, data []byte) error) error {
	if err := checkNode(phase, node); err != nil {
		return fmt.Errorf("read rows: %w", err)
	}
	next := uint64(0)
	first := true
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var (
			page  int
			data  []byte
			found bool
		)
		err := b.db.View(func(tx *bolt.Tx) error {
			if first && tx.Bucket(bktRequests).Get([]byte(id)) == nil {
				return fmt.Errorf("request %s: %w", id, ErrNotFound)
			}
			reqPages := tx.Bucket(bktPages).Bucket([]byte(id))
			if reqPages == nil {
				return nil
			}
			nodePages := reqPages.Bucket(nodeKey(phase, node))
			if nodePages == nil {
				return nil
			}
			k, _ := nodePages.Cursor().Seek(binary.BigEndian.AppendUint32(nil, uint32(next)))
			if k == nil {
				return nil
			}
			page = int(binary.BigEndian.Uint32(k))
			v := getPage(nodePages, k)
			if v == nil {
				return fmt.Errorf("page %d has no data", page)
			}
			var err error
			if data, err = b.seal.open(v, pageAAD(id, phase, node, page)); err != nil {
				return fmt.Errorf("page %d: %w", page, err)
			}
			found = true
			return nil
		})
		first = false
		if err != nil {
			return fmt.Errorf("read rows of %s node %s of request %s: %w", phase, node, id, err)
		}
		if !found {
			return nil
		}
		if err := fn(page, data); err != nil {
			return err
		}
		next = uint64(page) + 1
		if next > math.MaxUint32 {
			return nil
		}
	}
}

// PutBlob implements Store.
func (b *Bolt) PutBlob(ctx context.Context, id, name string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkName("blob name", name, 256); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	if len(data) > MaxBlobSize {
		return fmt.Errorf("put blob %q: %d bytes, at most %d allowed; store large data as rows", name, len(data), MaxBlobSize)
	}
	sealed, err := b.seal.seal(data, aad(string(bktBlobs), id, name))
	if err != nil {
		return fmt.Errorf("put blob %q: %w", name, err)
	}
	err = b.w.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bktRequests).Get([]byte(id)) == nil {
			return fmt.Errorf("request %s: %w", id, ErrNotFound)
		}
		bkt, err := tx.Bucket(bktBlobs).CreateBucketIfNotExists([]byte(id))
		if err != nil {
			return err
		}
		return bkt.Put([]byte(name), sealed)
	})
	if err != nil {
		return fmt.Errorf("put blob %q of request %s: %w", name, id, err)
	}
	return nil
}

// GetBlob implements Store.
func (b *Bolt) GetBlob(ctx context.Context, id, name string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	var sealed []byte
	err := b.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bktRequests).Get([]byte(id)) == nil {
			return fmt.Errorf("request %s: %w", id, ErrNotFound)
		}
		if bkt := tx.Bucket(bktBlobs).Bucket([]byte(id)); bkt != nil {
			if v := bkt.Get([]byte(name)); v != nil {
				sealed = bytes.Clone(v)
			}
		}
		return nil
	})
	if err != nil || sealed == nil {
		return nil, false, err
	}
	out, err := b.seal.open(sealed, aad(string(bktBlobs), id, name))
	if err != nil {
		return nil, false, fmt.Errorf("blob %q of request %s: %w", name, id, err)
	}
	return out, true, nil
}

// PurgeExpired implements Store. Each request is purged in its own write
// transaction, so a large backlog never makes one long transaction.
func (b *Bolt) PurgeExpired(ctx context.Context) (int, error) {
	now := b.now()
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		var key []byte
		err := b.db.View(func(tx *bolt.Tx) error {
			k, _ := tx.Bucket(bktIdxExpiry).Cursor().First()
			if k != nil && len(k) > 8 && !decTime(k[:8]).After(now) {
				key = bytes.Clone(k)
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("purge expired: %w", err)
		}
		if key == nil {
			return n, nil
		}
		id := string(key[8:])
		err = b.w.update(func(tx *bolt.Tx) error {
			if tx.Bucket(bktIdxExpiry).Get(key) == nil {
				return nil // purged meanwhile
			}
			if err := tx.Bucket(bktIdxExpiry).Delete(key); err != nil {
				return err
			}
			rec, err := loadRecord(tx, id)
			if err != nil {
				return err
			}
			if !rec.Status.Terminal() || rec.Status.Retryable() {
				return nil // back at work: keep its data
			}
			if err := deleteRequestData(tx, id); err != nil {
				return err
			}
			rec.ExpiresAt = time.Time{}
			return putRecord(tx, rec)
		})
		if err != nil {
			return n, fmt.Errorf("purge expired request %s: %w", id, err)
		}
		n++
	}
}

// NodeOutcome is what one attempt at a node leaves, for CompleteNode.
type NodeOutcome struct {
	Attempt int
	// FirstPage is the page number of Pages[0]: the pages the attempt did
	// not store yet, in order.
	FirstPage int
	Pages     [][]byte
	// Events are appended before the done event (rows_shared, ...).
	Events []Event
	Result NodeResult
	Done   Event
}

// NextAttempt implements Store.
func (b *Bolt) NextAttempt(ctx context.Context, id string, phase Phase, node string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkNode(phase, node); err != nil {
		return 0, fmt.Errorf("next attempt: %w", err)
	}
	var attempt int
	err := b.db.View(func(tx *bolt.Tx) error {
		if err := requireActive(tx, id); err != nil {
			return err
		}
		st, err := loadNode(tx, id, phase, node)
		if err != nil {
			return err
		}
		if st == nil {
			st = &nodeState{}
		}
		if st.Done {
			return fmt.Errorf("%w: %s node %s of request %s is already done", ErrConflict, phase, node, id)
		}
		attempt = st.Attempts + 1
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("begin %s node %s of request %s: %w", phase, node, id, err)
	}
	return attempt, nil
}

// beginAttempt records attempt at a node in tx unless it is recorded
// already, deleting the pages of an earlier attempt that did not finish.
// It returns the node's state.
func (b *Bolt) beginAttempt(tx *bolt.Tx, id string, phase Phase, node string, attempt int) (*nodeState, error) {
	st, err := loadNode(tx, id, phase, node)
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = &nodeState{}
	}
	if st.Done {
		return nil, fmt.Errorf("%w: %s node %s of request %s is already done", ErrConflict, phase, node, id)
	}
	if st.Attempts >= attempt {
		if st.Attempts > attempt {
			return nil, fmt.Errorf("%w: %s node %s of request %s is at attempt %d, not %d", ErrConflict, phase, node, id, st.Attempts, attempt)
		}
		return st, nil
	}
	if reqPages := tx.Bucket(bktPages).Bucket([]byte(id)); reqPages != nil {
		if reqPages.Bucket(nodeKey(phase, node)) != nil {
			if err := reqPages.DeleteBucket(nodeKey(phase, node)); err != nil {
				return nil, fmt.Errorf("delete partial pages: %w", err)
			}
		}
	}
	st.Attempts = attempt
	st.StartedAt = b.now().UTC()
	return st, putNode(tx, id, phase, node, st)
}

// putPages stores sealed pages of a node, numbered from first.
func putPages(tx *bolt.Tx, id string, phase Phase, node string, first int, sealed [][]byte) error {
	if len(sealed) == 0 {
		return nil
	}
	reqPages, err := tx.Bucket(bktPages).CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return err
	}
	nodePages, err := reqPages.CreateBucketIfNotExists(nodeKey(phase, node))
	if err != nil {
		return err
	}
	nodePages.FillPercent = 1.0
	for i, data := range sealed {
		if err := putPage(nodePages, first+i, data); err != nil {
			return err
		}
	}
	return nil
}

// AppendPage implements Store.
func (b *Bolt) AppendPage(ctx context.Context, id string, phase Phase, node string, attempt, page int, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNode(phase, node); err != nil {
		return fmt.Errorf("append rows: %w", err)
	}
	if page < 0 || page > math.MaxInt32 || attempt < 1 {
		return fmt.Errorf("append rows: page %d or attempt %d out of range", page, attempt)
	}
	sealed, err := b.seal.seal(data, pageAAD(id, phase, node, page))
	if err != nil {
		return fmt.Errorf("append rows: %w", err)
	}
	err = b.w.update(func(tx *bolt.Tx) error {
		if err := requireActive(tx, id); err != nil {
			return err
		}
		if _, err := b.beginAttempt(tx, id, phase, node, attempt); err != nil {
			return err
		}
		return putPages(tx, id, phase, node, page, [][]byte{sealed})
	})
	if err != nil {
		return fmt.Errorf("append rows to %s node %s of request %s: %w", phase, node, id, err)
	}
	return nil
}

// CompleteNode implements Store.
func (b *Bolt) CompleteNode(ctx context.Context, id string, phase Phase, node string, o NodeOutcome) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNode(phase, node); err != nil {
		return fmt.Errorf("complete node: %w", err)
	}
	if o.Attempt < 1 || o.FirstPage < 0 || o.FirstPage+len(o.Pages) > math.MaxInt32 {
		return fmt.Errorf("complete node: attempt %d or pages from %d out of range", o.Attempt, o.FirstPage)
	}
	ev := doneEvent(o.Done, phase, node, o.Result)
	if ev.Attempt == 0 {
		ev.Attempt = o.Attempt
	}
	events := make([]Event, len(o.Events))
	for i, e := range o.Events {
		if e.Phase == "" {
			e.Phase = phase
		}
		if e.Node == "" {
			e.Node = node
		}
		if e.Attempt == 0 {
			e.Attempt = o.Attempt
		}
		events[i] = e
	}
	for _, e := range append(append([]Event(nil), events...), ev) {
		if err := validateEvent(e); err != nil {
			return fmt.Errorf("complete node: %w", err)
		}
	}
	// Encrypt outside the write transaction.
	sealed := make([][]byte, len(o.Pages))
	for i, data := range o.Pages {
		var err error
		if sealed[i], err = b.seal.seal(data, pageAAD(id, phase, node, o.FirstPage+i)); err != nil {
			return fmt.Errorf("complete node: %w", err)
		}
	}
	err := b.w.update(func(tx *bolt.Tx) error {
		// Like FinishNode, an outcome is recorded even when the request
		// became terminal meanwhile (it says what was done); pages are not,
		// as AppendRows would not store them.
		if len(sealed) > 0 {
			if err := requireActive(tx, id); err != nil {
				return err
			}
		} else if tx.Bucket(bktRequests).Get([]byte(id)) == nil {
			return fmt.Errorf("request %s: %w", id, ErrNotFound)
		}
		st, err := b.beginAttempt(tx, id, phase, node, o.Attempt)
		if err != nil {
			return err
		}
		if err := putPages(tx, id, phase, node, o.FirstPage, sealed); err != nil {
			return err
		}
		for _, e := range events {
			if _, err := b.appendEvent(tx, id, e); err != nil {
				return err
			}
		}
		r := o.Result
		r.Attempts = o.Attempt
		if r.FinishedAt.IsZero() {
			r.FinishedAt = b.now()
		}
		r.FinishedAt = r.FinishedAt.UTC()
		st.Done, st.Result = true, r
		if err := putNode(tx, id, phase, node, st); err != nil {
			return err
		}
		_, err = b.appendEvent(tx, id, ev)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish %s node %s of request %s: %w", phase, node, id, err)
	}
	return nil
}

// doneEvent fills in what a node's done event leaves out: its type, phase,
// node, rows and duration.
func doneEvent(ev Event, phase Phase, node string, res NodeResult) Event {
	if ev.Type == "" {
		ev.Type = EventNodeDone
	}
	if ev.Phase == "" {
		ev.Phase = phase
	}
	if ev.Node == "" {
		ev.Node = node
	}
	if ev.Rows == 0 {
		ev.Rows = res.Rows
	}
	if ev.DurationMS == 0 {
		ev.DurationMS = res.Duration.Milliseconds()
	}
	return ev
}
