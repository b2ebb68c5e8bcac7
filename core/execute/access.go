package execute

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/plan"
	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// accessPhase queries every planned collection, parents before children.
func (r *run) accessPhase(ctx context.Context) error {
	done, err := r.e.opts.Store.DoneNodes(ctx, r.req.ID, store.PhaseAccess)
	if err != nil {
		return err
	}
	doneSet := make(map[string]bool, len(done))
	for k := range done {
		doneSet[k] = true
	}
	tasks := make([]task, 0, len(r.plan.Nodes))
	for i := range r.plan.Nodes {
		n := &r.plan.Nodes[i]
		deps := make([]string, len(n.Dependencies))
		for j, d := range n.Dependencies {
			deps[j] = d.String()
		}
		tasks = append(tasks, task{
			name: n.Address.String(),
			deps: deps,
			conn: n.Dataset.Connection,
			run:  func(ctx context.Context) error { return r.accessNode(ctx, n) },
		})
	}
	return r.schedule(ctx, tasks, doneSet)
}

// query is one Access call's filters.
type query struct {
	filters []connector.Filter
}

// accessNode runs one collection's queries with retries and checkpoints
// its rows.
func (r *run) accessNode(ctx context.Context, n *plan.Node) error {
	name := n.Address.String()
	st := r.e.opts.Store
	conn := r.cfg.Connection(n.Dataset.Connection)
	if conn == nil {
		return fault.AsPermanent(fmt.Errorf("access %s: dataset %s names connection %q, which is not declared", name, n.Dataset.Name, n.Dataset.Connection))
	}
	owned, shared, dropped, err := r.inputs(ctx, n)
	if err != nil {
		return fmt.Errorf("access %s: gather inputs: %w", name, err)
	}
	queries, entries := buildQueries(n, mergeInputs(owned, shared))
	var cls *classifier
	if len(shared) > 0 {
		cls = newClassifier(n, owned, shared)
	}
	var detail string
	if dropped > 0 {
		detail = fmt.Sprintf("%d input values did not convert to the field's type and were dropped", dropped)
		r.log.Warn("input values dropped", "node", name, "dropped", dropped)
	}
	if len(queries) == 0 && detail == "" {
		detail = "no input values reached this collection; nothing queried"
	}
	// The attempt is recorded by its first write: a node whose rows fit in
	// one page costs one commit (its rows, events and done mark together).
	return r.attempt(ctx, store.PhaseAccess, name,
		func() (int, error) { return st.NextAttempt(ctx, r.req.ID, store.PhaseAccess, name) },
		func(attempt int) error {
			started := time.Now()
			r.e.observe(Progress{RequestID: r.req.ID, Phase: store.PhaseAccess, Node: name, Event: store.EventNodeStarted, Attempt: attempt})
			out, err := r.queryNode(ctx, n, conn, queries, entries, cls, attempt)
			if err != nil {
				return err
			}
			if err := r.e.failpoint(PointAccessFinish, name); err != nil {
				return err
			}
			d := time.Since(started)
			o := store.NodeOutcome{
				Attempt: attempt, FirstPage: out.lastPage, Pages: out.last,
				Result: store.NodeResult{Rows: out.rows, Shared: out.shared, Duration: d, Attempts: attempt, Detail: detail},
				Done:   store.Event{Type: store.EventNodeDone, Phase: store.PhaseAccess, Node: name, Rows: out.rows, DurationMS: d.Milliseconds(), Attempt: attempt},
			}
			if out.shared > 0 {
				o.Events = []store.Event{{Type: store.EventRowsShared, Phase: store.PhaseAccess, Node: name, Rows: out.shared, Attempt: attempt}}
			}
			if err := st.CompleteNode(context.WithoutCancel(ctx), r.req.ID, store.PhaseAccess, name, o); err != nil {
				return fmt.Errorf("checkpoint %s: %w", name, err)
			}
			rows, sharedRows := out.rows, out.shared
			r.log.Info("node done", "phase", "access", "node", name, "rows", rows, "shared", sharedRows, "queries", len(queries), "duration", d)
			r.e.observe(Progress{RequestID: r.req.ID, Phase: store.PhaseAccess, Node: name, Event: store.EventNodeDone, Rows: rows, Shared: sharedRows, Duration: d, Attempt: attempt})
			return nil
		})
}

// queryNode issues the node's queries and stores the rows page by page.
// When the node has shared inputs, cls decides for each row whether it is
// the subject's (a seed or a normal input holds one of its values) or
// someone else's, stored marked shared. Full pages are stored as they
// fill; the last one is returned, for the node's outcome to store with
// its done mark in one transaction.
func (r *run) queryNode(ctx context.Context, n *plan.Node, conn *config.Connection, queries []query, entries []entryArray,
	cls *classifier, attempt int) (nodeRows, error) {
	name := n.Address.String()
	if len(queries) == 0 {
		return nodeRows{}, nil
	}
	c, err := r.e.connector(ctx, conn)
	if err != nil {
		return nodeRows{}, err
	}
	fields := make([]connector.Path, 0, len(n.Collection.Fields))
	for _, f := range n.Collection.Fields {
		fields = append(fields, connector.Path{f.Name})
	}
	pk := primaryKeys(n.Collection)
	var (
		buf    pageBuffer
		page   int
		total  int64
		shared int64
		seen   map[string]struct{}
		kbuf   []byte
	)
	if len(queries) > 1 {
		// Several queries can return the same row; keep it once.
		seen = map[string]struct{}{}
	}
	flush := func() error {
		if buf.empty() {
			return nil
		}
		data, err := buf.take()
		if err != nil {
			return err
		}
		if err := r.e.opts.Store.AppendPage(ctx, r.req.ID, store.PhaseAccess, name, attempt, page, data); err != nil {
			return fmt.Errorf("checkpoint rows of %s: %w", name, err)
		}
		page++
		return r.e.failpoint(PointAccessPage, name)
	}
	for _, q := range queries {
		req := connector.AccessRequest{
			RequestID:  r.req.ID,
			Collection: connector.Collection{Dataset: n.Address.Dataset, Name: n.Address.Collection},
			Fields:     fields,
			Filters:    q.filters,
		}
		_, err := c.Access(ctx, conn.Name, req, func(rows []connector.Row) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			for _, row := range rows {
				if seen != nil {
					k, b, err := rowKey(kbuf, row, pk)
					kbuf = b
					if err != nil {
						return err
					}
					if _, dup := seen[k]; dup {
						continue
					}
					seen[k] = struct{}{}
				}
				markMatches(row, entries)
				if cls != nil && cls.mark(row) {
					shared++
				}
				if err := buf.add(row); err != nil {
					return fault.AsPermanent(err)
				}
				total++
				if buf.full() {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return nodeRows{}, err
		}
	}
	out := nodeRows{rows: total, shared: shared, lastPage: page}
	if !buf.empty() {
		data, err := buf.take()
		if err != nil {
			return nodeRows{}, err
		}
		out.last = [][]byte{data}
		// The last page is stored with the node's done mark; a crash here
		// leaves the node unfinished, as after any earlier page.
		if err := r.e.failpoint(PointAccessPage, name); err != nil {
			return nodeRows{}, err
		}
	}
	return out, nil
}

// nodeRows is what an access node's queries found: the rows stored, the
// shared ones among them, and the last page, not stored yet, numbered
// lastPage.
type nodeRows struct {
	rows, shared int64
	last         [][]byte
	lastPage     int
}

// rowKey identifies a row by its primary key, or by all its values when
// the collection declares none: the page codec's encoding of the values
// (deterministic: maps in key order, one tag for every integer width), used
// as is for a key, hashed for a whole row. buf is reused between calls.
func rowKey(buf []byte, row connector.Row, pk []string) (string, []byte, error) {
	buf = buf[:0]
	var err error
	if len(pk) == 0 {
		if buf, err = appendValue(buf, map[string]any(row), 0); err != nil {
			return "", buf, err
		}
		sum := sha256.Sum256(buf)
		return string(sum[:]), buf, nil
	}
	for _, k := range pk {
		if buf, err = appendValue(buf, row[k], 0); err != nil {
			return "", buf, err
		}
	}
	return string(buf), buf, nil
}

func primaryKeys(c *dataset.Collection) []string {
	var pk []string
	for _, f := range c.Fields {
		if f.PrimaryKey {
			pk = append(pk, f.Name)
		}
	}
	sort.Strings(pk)
	return pk
}

// nodeInputs are a node's filter values by field path.
type nodeInputs map[string]*valueSet

// inputs gathers the values that find the node's rows: the request's
// identities for seeded fields, and the values its parents returned for
// each incoming reference, cast to this field's type and de-duplicated.
// The values of shared references are gathered apart (shared).
func (r *run) inputs(ctx context.Context, n *plan.Node) (in, shared nodeInputs, dropped int, err error) {
	in, shared = nodeInputs{}, nodeInputs{}
	add := func(in nodeInputs, path dataset.Path, v any) {
		f := n.Collection.Field(path)
		typ := ""
		if f != nil {
			typ = f.Type
		}
		c, ok := cast(typ, v)
		if !ok {
			dropped++
			return
		}
		k := path.String()
		if in[k] == nil {
			in[k] = &valueSet{}
		}
		in[k].add(c)
	}
	for _, s := range n.Seeds {
		if v, ok := r.req.Identities[s.Identity]; ok {
			add(in, s.Field, v)
		}
	}
	for _, inp := range n.Inputs {
		vals, err := r.parentValues(ctx, inp.From)
		if err != nil {
			return nil, nil, 0, err
		}
		dest := in
		if inp.Shared {
			dest = shared
		}
		for _, v := range vals {
			add(dest, inp.To, v)
		}
	}
	return in, shared, dropped, nil
}

// parentValues returns the values at a done parent's field, read once from
// its checkpoint.
func (r *run) parentValues(ctx context.Context, from dataset.FieldAddress) ([]any, error) {
	key := from.String()
	r.valuesMu.Lock()
	pv := r.values[key]
	if pv == nil {
		pv = &parentValues{}
		r.values[key] = pv
	}
	r.valuesMu.Unlock()
	pv.once.Do(func() {
		var set valueSet
		node := from.CollectionAddress().String()
		pv.err = r.e.opts.Store.ReadRows(ctx, r.req.ID, store.PhaseAccess, node, func(_ int, data []byte) error {
			return decodePage(data, func(row connector.Row) error {
				if isShared(row) {
					return nil // someone else's row finds nothing more
				}
				collect(map[string]any(accessView(row)), from.Field, set.add)
				return nil
			})
		})
		pv.values = set.values
	})
	if pv.err != nil {
		return nil, fmt.Errorf("read rows of %s: %w", from.CollectionAddress(), pv.err)
	}
	return pv.values, nil
}

// buildQueries turns a node's inputs into Access filters: one query with
// every filter when the values fit in MaxInValues, otherwise one query per
// chunk of MaxInValues values of one field. It also returns the entry
// arrays whose matches rows must record.
func buildQueries(n *plan.Node, in nodeInputs) ([]query, []entryArray) {
	paths := slices.Sorted(maps.Keys(in))
	var entries []entryArray
	total := 0
	for _, p := range paths {
		total += in[p].len()
		path := dataset.Path(splitDots(p))
		if k := arrayPrefix(n.Collection, path); k > 0 && !returnsAll(n.Collection, path) {
			typ := ""
			if f := n.Collection.Field(path); f != nil {
				typ = f.Type
			}
			entries = append(entries, entryArray{prefix: path[:k], rest: path[k:], typ: typ, values: in[p]})
		}
	}
	if total == 0 {
		return nil, entries
	}
	if total <= MaxInValues {
		q := query{}
		for _, p := range paths {
			if in[p].len() > 0 {
				q.filters = append(q.filters, connector.Filter{Field: splitDots(p), Values: in[p].values})
			}
		}
		return []query{q}, entries
	}
	var qs []query
	for _, p := range paths {
		vals := in[p].values
		for len(vals) > 0 {
			k := min(len(vals), MaxInValues)
			qs = append(qs, query{filters: []connector.Filter{{Field: splitDots(p), Values: vals[:k:k]}}})
			vals = vals[k:]
		}
	}
	return qs, entries
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// connector returns the connector for conn with its instance configured.
func (e *Engine) connector(ctx context.Context, conn *config.Connection) (Connector, error) {
	c, err := e.opts.Plugins.Connector(conn.Plugin)
	if err != nil {
		return nil, fault.AsPermanent(fmt.Errorf("connection %s: %w", conn.Name, err))
	}
	if err := e.configure(ctx, "connection "+conn.Name, conn.Name, conn.Config, c.Configure); err != nil {
		return nil, err
	}
	return c, nil
}

// configure configures a plugin instance once per engine and
// configuration; a failure is not remembered, so the next node tries again.
// Nodes that start together wait for one Configure: a second one would
// replace the instance (and close its connections) under the first node's
// feet. When the configuration of a connection or storage changes (through
// the API), the new one gets an instance of its own, so requests still
// running on the old one are not cut off.
func (e *Engine) configure(ctx context.Context, what, id string, cfg map[string]any,
	fn func(context.Context, string, map[string]any) (schema.Diagnostics, error)) error {
	fp, err := fingerprint(cfg)
	if err != nil {
		return fault.AsPermanent(fmt.Errorf("configure %s: %w", what, err))
	}
	e.mu.Lock()
	if first, ok := e.firstFP[what]; !ok {
		e.firstFP[what] = fp
	} else if first != fp {
		id = id + "-" + fp[:12]
	}
	key := what + "\x00" + fp
	_, ok := e.configured[key]
	lock := e.configLock[key]
	if lock == nil {
		lock = &sync.Mutex{}
		e.configLock[key] = lock
	}
	e.mu.Unlock()
	if ok {
		return nil
	}
	lock.Lock()
	defer lock.Unlock()
	e.mu.Lock()
	_, ok = e.configured[key]
	e.mu.Unlock()
	if ok {
		return nil
	}
	diags, err := fn(ctx, id, cfg)
	if err != nil {
		return fmt.Errorf("configure %s: %w", what, err)
	}
	if derr := diags.Err(); derr != nil {
		return fault.AsPermanent(fmt.Errorf("configure %s: %w", what, derr))
	}
	e.mu.Lock()
	e.configured[key] = nil
	e.mu.Unlock()
	return nil
}

// fingerprint identifies a plugin config: SHA-256 of its JSON (map keys
// sorted), hex.
func fingerprint(cfg map[string]any) (string, error) {
	data, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("config is not serialisable: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
