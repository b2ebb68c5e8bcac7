package execute

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/pack"
	"github.com/lethehq/lethe/core/policy"
	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/storage"
)

// uploadPhase builds and uploads one package per access rule, in policy
// order. A rule whose upload is done is not uploaded again.
func (r *run) uploadPhase(ctx context.Context) error {
	for _, rule := range r.pol.Rules {
		if rule.Action != policy.ActionAccess {
			continue
		}
		if _, done, err := r.e.opts.Store.NodeDone(ctx, r.req.ID, store.PhaseUpload, rule.Name); err != nil {
			return err
		} else if done {
			continue
		}
		if err := r.upload(ctx, rule); err != nil {
			return err
		}
	}
	return nil
}

// ObjectKey names a rule's package: "<request id>/<rule><ext>", so two
// rules, or two requests, never overwrite each other.
func ObjectKey(requestID, rule, format string) string {
	return requestID + "/" + rule + pack.Extension(format)
}

func (r *run) upload(ctx context.Context, rule *policy.Rule) error {
	st := r.e.opts.Store
	dest := r.cfg.Storage(rule.Storage)
	if dest == nil {
		return fault.AsPermanent(fmt.Errorf("upload for rule %q: storage %q is not declared", rule.Name, rule.Storage))
	}
	format := dest.Format
	if format == "" {
		format = config.FormatJSON
	}
	return r.attempt(ctx, store.PhaseUpload, rule.Name,
		func() (int, error) { return st.BeginNode(ctx, r.req.ID, store.PhaseUpload, rule.Name) },
		func(attempt int) error {
			started := time.Now()
			r.e.observe(Progress{RequestID: r.req.ID, Phase: store.PhaseUpload, Node: rule.Name, Event: store.EventNodeStarted, Attempt: attempt})
			s, err := r.e.opts.Plugins.Storage(dest.Plugin)
			if err != nil {
				return fault.AsPermanent(fmt.Errorf("storage %s: %w", dest.Name, err))
			}
			if err := r.e.configure(ctx, "storage "+dest.Name, dest.Name, dest.Config, s.Configure); err != nil {
				return err
			}
			obj := storage.Object{
				RequestID:   r.req.ID,
				Key:         ObjectKey(r.req.ID, rule.Name, format),
				ContentType: pack.ContentType(format),
				Metadata:    map[string]string{"request-id": r.req.ID, "rule": rule.Name, "policy": r.pol.Name},
				SizeHint:    -1,
			}
			if len(r.req.ResultKey) > 0 {
				obj.ContentType = "text/plain"
				obj.Metadata["encryption"] = "aes-gcm;nonce=12;aad=nonce;base64"
			}
			pr, pw := io.Pipe()
			rows := make(chan int64, 1)
			go func() {
				n, err := r.writePackage(ctx, pw, rule, format)
				rows <- n
				pw.CloseWithError(err)
			}()
			res, err := s.Upload(ctx, dest.Name, obj, pr)
			pr.CloseWithError(fmt.Errorf("upload ended"))
			n := <-rows
			if err != nil {
				return fmt.Errorf("upload %s to storage %s: %w", obj.Key, dest.Name, err)
			}
			if err := r.e.failpoint(PointUploadFinish, rule.Name); err != nil {
				return err
			}
			d := time.Since(started)
			res2 := store.NodeResult{Rows: n, Duration: d, Attempts: attempt, Detail: res.Location}
			ev := store.Event{Type: store.EventUploadDone, Phase: store.PhaseUpload, Node: rule.Name, Rows: n, DurationMS: d.Milliseconds(), Attempt: attempt}
			if err := st.FinishNode(context.WithoutCancel(ctx), r.req.ID, store.PhaseUpload, rule.Name, res2, ev); err != nil {
				return fmt.Errorf("checkpoint upload of rule %s: %w", rule.Name, err)
			}
			r.log.Info("package uploaded", "rule", rule.Name, "storage", dest.Name, "rows", n, "bytes", res.Size, "duration", d)
			r.e.observe(Progress{RequestID: r.req.ID, Phase: store.PhaseUpload, Node: rule.Name, Event: store.EventUploadDone, Rows: n, Duration: d, Attempt: attempt, Location: res.Location})
			return nil
		})
}

// writePackage streams the rule's package to w: for each node in access
// order, the rows filtered to the fields the rule's targets cover.
func (r *run) writePackage(ctx context.Context, w io.Writer, rule *policy.Rule, format string) (int64, error) {
	var (
		out io.Writer = w
		enc io.WriteCloser
		err error
	)
	if len(r.req.ResultKey) > 0 {
		enc, err = pack.Encrypt(w, r.req.ResultKey, MaxEncryptedPackage)
		if err != nil {
			return 0, fault.AsPermanent(err)
		}
		out = enc
	}
	var pw pack.Writer
	if format == config.FormatCSV {
		pw = pack.NewCSV(out)
	} else {
		pw = pack.NewJSON(out)
	}
	var n int64
	for i := range r.plan.Nodes {
		node := &r.plan.Nodes[i]
		sel := pack.NewSelector(node.Collection, rule.Targets)
		// Shared rows show their pointing fields when the rule covers the
		// field's categories or those of the field it points at, whose
		// value (the subject's) it holds.
		sharedSel := sel
		if pc := r.pointingCollection(node); pc != nil {
			sharedSel = pack.NewSelector(pc, rule.Targets)
		}
		if sharedSel.Empty() {
			continue
		}
		name := node.Address.Dataset + ":" + node.Address.Collection
		if err := pw.Begin(name, sharedSel); err != nil {
			return n, err
		}
		err := r.e.opts.Store.ReadRows(ctx, r.req.ID, store.PhaseAccess, node.Address.String(), func(_ int, data []byte) error {
			return decodePage(data, func(row connector.Row) error {
				if isShared(row) {
					// Someone else's row: only the fields that point at the
					// subject, and nothing when the rule selects none of them.
					view := sharedSel.Apply(sharedView(row))
					if len(view) == 0 {
						return nil
					}
					n++
					return pw.Row(view)
				}
				n++
				return pw.Row(sel.Apply(accessView(row)))
			})
		})
		if err != nil {
			return n, err
		}
	}
	if err := pw.Close(); err != nil {
		return n, err
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return n, fault.AsPermanent(err)
		}
	}
	return n, nil
}
