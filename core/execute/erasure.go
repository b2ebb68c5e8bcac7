package execute

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/mask"
	"github.com/lethehq/lethe/core/policy"
	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/core/taxonomy"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
)

// erasurePhase masks the targeted fields of every node in the plan's
// erasure order (a node after every node it must follow).
func (r *run) erasurePhase(ctx context.Context) error {
	done, err := r.e.opts.Store.DoneNodes(ctx, r.req.ID, store.PhaseErasure)
	if err != nil {
		return err
	}
	doneSet := make(map[string]bool, len(done))
	for k := range done {
		doneSet[k] = true
	}
	tasks := make([]task, 0, len(r.plan.Erasure))
	for _, en := range r.plan.Erasure {
		n := r.nodes[en.Address.String()]
		if n == nil {
			return fmt.Errorf("erasure order names %s, which the access plan does not reach", en.Address)
		}
		deps := make([]string, len(en.After))
		for j, d := range en.After {
			deps[j] = d.String()
		}
		tasks = append(tasks, task{
			name: en.Address.String(),
			deps: deps,
			conn: n.Dataset.Connection,
			run:  func(ctx context.Context) error { return r.eraseNode(ctx, n.Dataset, n.Collection, en.Address) },
		})
	}
	return r.schedule(ctx, tasks, doneSet)
}

// maskedField is a field an erasure rule targets, with its chain.
type maskedField struct {
	path   dataset.Path
	field  *dataset.Field
	rule   string
	chain  mask.Chain
	all    bool // return_all_elements on the way
	isPKey bool
}

// targets lists the fields of c that the policy's erasure rules mask. When
// several rules target one field, the first rule in policy order masks it.
func targets(p *policy.Policy, c *dataset.Collection) []maskedField {
	var out []maskedField
	taken := map[string]bool{}
	for _, rule := range p.Rules {
		if rule.Action != policy.ActionErasure {
			continue
		}
		chain := chainOf(rule)
		walkLeaves(c.Fields, nil, func(path dataset.Path, f *dataset.Field) {
			if taken[path.String()] || !covers(rule.Targets, f.Categories) {
				return
			}
			taken[path.String()] = true
			out = append(out, maskedField{
				path: path, field: f, rule: rule.Name, chain: chain,
				all: returnsAll(c, path), isPKey: len(path) == 1 && f.PrimaryKey,
			})
		})
	}
	return out
}

func covers(targets, categories []string) bool {
	for _, t := range targets {
		for _, c := range categories {
			if taxonomy.Match(t, c) {
				return true
			}
		}
	}
	return false
}

// walkLeaves calls fn for every field without sub-fields, in declaration
// order, with its path.
func walkLeaves(fields []*dataset.Field, parent dataset.Path, fn func(dataset.Path, *dataset.Field)) {
	for _, f := range fields {
		path := append(append(dataset.Path(nil), parent...), f.Name)
		if len(f.Fields) > 0 {
			walkLeaves(f.Fields, path, fn)
			continue
		}
		fn(path, f)
	}
}

// eraseNode masks one collection's targeted fields on the rows its access
// node found, in batches of EraseBatch updates, each one transaction.
func (r *run) eraseNode(ctx context.Context, ds *dataset.Dataset, c *dataset.Collection, addr dataset.CollectionAddress) error {
	name := addr.String()
	st := r.e.opts.Store
	fields := targets(r.pol, c)
	conn := r.cfg.Connection(ds.Connection)
	pk := primaryKeys(c)
	skip := ""
	switch {
	case len(fields) == 0:
		skip = "no field of this collection is targeted by an erasure rule"
	case conn == nil:
		return fault.AsPermanent(fmt.Errorf("erasure %s: connection %q is not declared", name, ds.Connection))
	case len(pk) == 0:
		skip = "no values were erased: the collection declares no primary key"
	}
	if skip != "" {
		return r.attempt(ctx, store.PhaseErasure, name,
			func() (int, error) { return st.NextAttempt(ctx, r.req.ID, store.PhaseErasure, name) },
			func(attempt int) error {
				ev := store.Event{Type: store.EventNodeSkipped, Phase: store.PhaseErasure, Node: name, Attempt: attempt, Error: skip}
				if err := st.CompleteNode(context.WithoutCancel(ctx), r.req.ID, store.PhaseErasure, name,
					store.NodeOutcome{Attempt: attempt, Result: store.NodeResult{Attempts: attempt, Detail: skip}, Done: ev}); err != nil {
					return err
				}
				if len(fields) > 0 {
					r.log.Warn("erasure skipped", "node", name, "reason", skip)
				}
				r.e.observe(Progress{RequestID: r.req.ID, Phase: store.PhaseErasure, Node: name, Event: store.EventNodeSkipped})
				return nil
			})
	}
	if conn.Access != config.AccessWrite {
		err := fault.AsPermanent(fmt.Errorf("no values were erased: connection %q has access = %q; give it access = \"write\" to erase %s", conn.Name, conn.Access, name))
		return r.attempt(ctx, store.PhaseErasure, name,
			func() (int, error) { return st.NextAttempt(ctx, r.req.ID, store.PhaseErasure, name) },
			func(int) error { return err })
	}
	for _, f := range fields {
		if f.isPKey {
			r.log.Warn("erasure leaves a primary key unmasked", "node", name, "field", f.path.String(), "rule", f.rule)
		}
	}
	return r.attempt(ctx, store.PhaseErasure, name,
		func() (int, error) { return st.NextAttempt(ctx, r.req.ID, store.PhaseErasure, name) },
		func(attempt int) error {
			started := time.Now()
			r.e.observe(Progress{RequestID: r.req.ID, Phase: store.PhaseErasure, Node: name, Event: store.EventNodeStarted, Attempt: attempt})
			rows, affected, shared, err := r.eraseRows(ctx, conn, addr, fields, pk)
			if err != nil {
				return err
			}
			if err := r.e.failpoint(PointErasureFinish, name); err != nil {
				return err
			}
			d := time.Since(started)
			o := store.NodeOutcome{
				Attempt: attempt,
				Result:  store.NodeResult{Rows: rows, Masked: affected, Shared: shared, Duration: d, Attempts: attempt},
				Done:    store.Event{Type: store.EventNodeDone, Phase: store.PhaseErasure, Node: name, Rows: affected, DurationMS: d.Milliseconds(), Attempt: attempt},
			}
			if shared > 0 {
				o.Events = []store.Event{{Type: store.EventRowsShared, Phase: store.PhaseErasure, Node: name, Rows: shared, Attempt: attempt}}
			}
			if err := st.CompleteNode(context.WithoutCancel(ctx), r.req.ID, store.PhaseErasure, name, o); err != nil {
				return fmt.Errorf("checkpoint erasure of %s: %w", name, err)
			}
			if shared > 0 {
				r.log.Info("shared rows not erased", "node", name, "rows", shared)
			}
			r.log.Info("node done", "phase", "erasure", "node", name, "updates", rows, "rows_affected", affected, "duration", d)
			r.e.observe(Progress{RequestID: r.req.ID, Phase: store.PhaseErasure, Node: name, Event: store.EventNodeDone, Rows: rows, Masked: affected, Shared: shared, Duration: d, Attempt: attempt})
			return nil
		})
}

// eraseRows reads the node's access rows, masks the targeted values and
// sends the updates in batches. Rows found only through shared references
// are someone else's and are left alone. It returns the updates sent, the
// rows the database reports changed and the shared rows left alone.
func (r *run) eraseRows(ctx context.Context, conn *config.Connection, addr dataset.CollectionAddress, fields []maskedField, pk []string) (int64, int64, int64, error) {
	name := addr.String()
	c, err := r.e.connector(ctx, conn)
	if err != nil {
		return 0, 0, 0, err
	}
	var (
		batch    []connector.RowUpdate
		updates  int64
		affected int64
		shared   int64
		batchNo  int
	)
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := c.Erase(ctx, conn.Name, connector.EraseRequest{
			RequestID:  r.req.ID,
			Collection: connector.Collection{Dataset: addr.Dataset, Name: addr.Collection},
			Updates:    batch,
		})
		if err != nil {
			return err
		}
		affected += res.Rows
		updates += int64(len(batch))
		batch = batch[:0]
		batchNo++
		return r.e.failpoint(PointErasureBatch, fmt.Sprintf("%s:%d", name, batchNo))
	}
	err = r.e.opts.Store.ReadRows(ctx, r.req.ID, store.PhaseAccess, name, func(_ int, data []byte) error {
		return decodePage(data, func(row connector.Row) error {
			if isShared(row) {
				shared++
				return nil
			}
			u, ok, err := r.update(row, fields, pk, name)
			if err != nil || !ok {
				return err
			}
			batch = append(batch, u)
			if len(batch) >= EraseBatch {
				return send()
			}
			return nil
		})
	})
	if err == nil {
		err = send()
	}
	return updates, affected, shared, err
}

// update builds one row's update: its primary key, and the masked value of
// every concrete targeted path that holds a value. ok is false when there
// is nothing to set or the key is incomplete.
func (r *run) update(row connector.Row, fields []maskedField, pk []string, node string) (connector.RowUpdate, bool, error) {
	key := make(connector.Row, len(pk))
	for _, k := range pk {
		v := row[k]
		if v == nil {
			return connector.RowUpdate{}, false, nil
		}
		key[k] = v
	}
	set := connector.Row{}
	for _, f := range fields {
		if f.isPKey {
			continue
		}
		for _, t := range expand(row, f.path, f.all) {
			m, err := f.chain.Mask(t.value, r.secrets, f.field.Length)
			if err != nil {
				var te *mask.TypeError
				if errors.As(err, &te) {
					return connector.RowUpdate{}, false, fault.AsPermanent(fmt.Errorf(
						"erasure %s: field %q holds a %s, but rule %q masks it with %s, which works only on strings; use null_rewrite for it or change the rule's targets",
						node, f.path.String(), te.GoType, f.rule, te.Strategy))
				}
				return connector.RowUpdate{}, false, fault.AsPermanent(fmt.Errorf("erasure %s: field %q: %w", node, f.path.String(), err))
			}
			set[t.path] = m
		}
	}
	if len(set) == 0 {
		return connector.RowUpdate{}, false, nil
	}
	return connector.RowUpdate{Key: key, Set: set}, true, nil
}
