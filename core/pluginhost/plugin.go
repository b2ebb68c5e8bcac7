package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// ErrPluginFailed matches (errors.Is) the errors of calls to a plugin that
// is marked failed. Such errors are permanent faults.
var ErrPluginFailed = errors.New("plugin is marked failed")

// FailedError is the error of a call to a failed plugin: refused at
// discovery, unable to start, or crashing in a loop.
type FailedError struct {
	// Plugin is the binary's file name.
	Plugin string
	// Reason says why, and what to do about it.
	Reason string
	// Err is the underlying error, when there is one.
	Err error
}

func (e *FailedError) Error() string {
	return e.Reason + "; the plugin is marked failed until Lethe restarts"
}

func (e *FailedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrPluginFailed) true.
func (e *FailedError) Is(target error) bool { return target == ErrPluginFailed }

// crashConfirmWait bounds how long a call that saw the connection drop waits
// for the process to be reported exited, so that its last words on stderr
// are read before the crash is explained.
const crashConfirmWait = time.Second

// plugin supervises the process of one binary.
type plugin struct {
	h      *Host
	bin    Binary
	logger hclog.Logger // "<kind>-<name>": host messages and the plugin's own lines
	// calls are the values of the calls in flight (and the last ones),
	// redacted from the plugin's log lines and crash explanations.
	calls *callValues

	fpMu sync.Mutex // serialises fingerprinting

	mu        sync.Mutex
	info      *schema.Info
	protocol  int // the plugin's protocol major when known, else -1
	failed    *FailedError
	proc      *process
	starting  *startAttempt
	gen       int // processes started for calls so far
	restarts  int
	crashes   []time.Time
	nextStart time.Time
	instances map[string]*instanceConfig
	version   uint64 // last instanceConfig.version handed out
	closed    bool
	sum       string // an unpinned binary's sha256, once shown
}

type instanceConfig struct {
	cfg     map[string]any
	version uint64
}

type startAttempt struct {
	done chan struct{}
	err  error
}

func newPlugin(h *Host, b Binary) *plugin {
	calls := &callValues{}
	p := &plugin{h: h, bin: b, logger: &redactLogger{Logger: h.logger.Named(b.ID()), vals: calls}, calls: calls,
		protocol: -1, instances: map[string]*instanceConfig{}}
	if b.Err != nil {
		p.failed = &FailedError{Plugin: b.File(), Reason: fmt.Sprintf("plugin %s is refused: %v", b.File(), b.Err), Err: b.Err}
	}
	return p
}

func (p *plugin) startTimeout() time.Duration {
	if p.bin.StartTimeout > 0 {
		return p.bin.StartTimeout
	}
	return p.h.opts.StartTimeout
}

func (p *plugin) launch(ctx context.Context) (*process, error) {
	pr, err := launch(ctx, p.bin, p.logger, append(append([]string(nil), p.h.allow...), p.bin.Env...), p.startTimeout(), p.h.opts.WorkDir)
	var perr *ProtocolError
	if errors.As(err, &perr) {
		p.mu.Lock()
		p.protocol = perr.Plugin
		p.mu.Unlock()
	}
	return pr, err
}

// describe returns the plugin's info. When the plugin has not described
// itself yet, it starts a process, asks, and stops it; a failure marks the
// plugin failed.
func (p *plugin) describe(ctx context.Context) (schema.Info, error) {
	p.fpMu.Lock()
	defer p.fpMu.Unlock()
	p.mu.Lock()
	info, failed, closed := p.info, p.failed, p.closed
	if info == nil && failed == nil && !closed {
		p.h.bg.Add(1) // Close waits for this process to be stopped
		defer p.h.bg.Done()
	}
	p.mu.Unlock()
	switch {
	case info != nil:
		return *info, nil
	case failed != nil:
		return schema.Info{}, fault.AsPermanent(failed)
	case closed:
		return schema.Info{}, fmt.Errorf("plugin %s: %w", p.bin.File(), ErrClosed)
	}
	pr, err := p.launch(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return schema.Info{}, err
		}
		failed := &FailedError{Plugin: p.bin.File(), Reason: err.Error(), Err: err}
		p.mu.Lock()
		p.failed = failed
		p.mu.Unlock()
		p.logger.Error("plugin failed its fingerprint", "error", err.Error())
		return schema.Info{}, fault.AsPermanent(failed)
	}
	pr.client.Kill()
	p.mu.Lock()
	p.info, p.protocol = &pr.info, pr.info.ProtocolMajor
	p.mu.Unlock()
	p.logger.Debug("plugin fingerprinted", "version", pr.info.Version, "protocol", pr.info.ProtocolMajor, "capabilities", pr.info.Capabilities)
	return pr.info, nil
}

func (p *plugin) status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	sum := p.bin.SHA256
	if sum == "" && p.bin.Err == nil && p.bin.Exec != "" {
		// Unpinned binaries are hashed only when shown (p.bin is read
		// without the lock, so the digest goes elsewhere); an unreadable
		// or changed file shows no digest (starting it says why).
		if p.sum == "" {
			p.sum, _ = p.h.sums.sum(p.bin.Exec, p.bin.id)
		}
		sum = p.sum
	}
	st := Status{
		Kind: p.bin.Kind, Name: p.bin.Name, Path: p.bin.Path, SHA256: sum, Pinned: p.bin.Pinned,
		State: StateUnchecked, Capabilities: []string{}, Restarts: p.restarts,
	}
	if p.info != nil {
		st.State = StateOK
		st.Version, st.SDKVersion = p.info.Version, p.info.SDKVersion
		st.Capabilities = append(st.Capabilities, p.info.Capabilities...)
		st.Protocol = fmt.Sprintf("%d.%d", p.info.ProtocolMajor, p.info.ProtocolMinor)
	} else if p.protocol >= 0 {
		st.Protocol = strconv.Itoa(p.protocol)
	}
	if p.failed != nil {
		st.State, st.Reason = StateFailed, p.failed.Reason
	}
	if pr := p.proc; pr != nil && !pr.dead && !pr.exited() {
		st.Running, st.PID = true, pr.pid
	}
	cut := time.Now().Add(-p.h.opts.CrashWindow)
	for _, t := range p.crashes {
		if t.After(cut) {
			st.RecentCrashes++
		}
	}
	return st
}

// running returns the live process, starting one when there is none. A
// restart after a crash waits out the backoff first, or fails at once when
// ctx would end before the backoff does.
func (p *plugin) running(ctx context.Context) (*process, error) {
	var waited *startAttempt
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, fmt.Errorf("plugin %s: %w", p.bin.File(), ErrClosed)
		}
		if p.failed != nil {
			p.mu.Unlock()
			return nil, fault.AsPermanent(p.failed)
		}
		if waited != nil && waited.err != nil {
			p.mu.Unlock()
			return nil, waited.err
		}
		if pr := p.proc; pr != nil {
			if !pr.exited() {
				p.mu.Unlock()
				return pr, nil
			}
			// It died while idle.
			p.crashedLocked(pr)
			p.mu.Unlock()
			continue
		}
		if att := p.starting; att != nil {
			p.mu.Unlock()
			select {
			case <-att.done:
				waited = att
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("wait for plugin %s to start: %w", p.bin.File(), ctx.Err())
			}
		}
		if wait := time.Until(p.nextStart); wait > 0 {
			p.mu.Unlock()
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				return nil, fmt.Errorf("plugin %s is restarting after a crash; next attempt in %s: %w", p.bin.File(), wait.Round(time.Millisecond), fault.ErrPluginShutdown)
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("wait for plugin %s to restart: %w", p.bin.File(), ctx.Err())
			}
		}
		att := &startAttempt{done: make(chan struct{})}
		p.starting = att
		p.h.bg.Add(1)
		p.mu.Unlock()
		go p.start(att)
	}
}

// start launches a process for running. It runs on its own so that a
// caller's cancellation does not abort a start others wait for.
func (p *plugin) start(att *startAttempt) {
	defer p.h.bg.Done()
	defer close(att.done)
	ctx, cancel := context.WithTimeout(p.h.closeCtx, p.startTimeout())
	pr, err := p.launch(ctx)
	cancel()

	p.mu.Lock()
	p.starting = nil
	if err == nil && p.closed {
		p.mu.Unlock()
		pr.client.Kill()
		att.err = fmt.Errorf("plugin %s: %w", p.bin.File(), ErrClosed)
		return
	}
	defer p.mu.Unlock()
	if err != nil {
		att.err = err
		switch {
		case p.closed:
		case fault.KindOf(err) == fault.Permanent:
			p.failed = &FailedError{Plugin: p.bin.File(), Reason: err.Error(), Err: err}
			p.logger.Error("plugin cannot start; marked failed", "error", err.Error())
		default:
			p.logger.Error("plugin failed to start", "error", err.Error())
			p.noteCrashLocked(err.Error())
		}
		return
	}
	p.gen++
	p.proc = pr
	p.info, p.protocol = &pr.info, pr.info.ProtocolMajor
	restart := p.gen > 1
	if restart {
		p.restarts++
	}
	p.logger.Info("plugin started", "pid", pr.pid, "version", pr.info.Version, "generation", p.gen)
	if !restart {
		return
	}
	// Configure the remembered instances again, so that connections are
	// ready before they are next used. A call that needs an instance
	// before this finishes waits for it, and one that finds it failed
	// tries again itself.
	for id := range p.instances {
		p.h.bg.Add(1)
		go func() {
			defer p.h.bg.Done()
			ctx, cancel := context.WithTimeout(p.h.closeCtx, p.h.opts.ReconfigureTimeout)
			defer cancel()
			if err := p.ensureConfigured(ctx, pr, id); err != nil {
				p.logger.Warn("re-configuring instance after restart failed; retrying on its next use", "instance", id, "error", err.Error())
			}
		}()
	}
}

// crashedLocked records that pr died or stopped answering, once, and has
// it killed and reaped. p.mu must be held.
func (p *plugin) crashedLocked(pr *process) {
	if pr.dead {
		return
	}
	pr.dead = true
	if p.proc == pr {
		p.proc = nil
	}
	if p.closed {
		return
	}
	p.noteCrashLocked(p.calls.text(pr.crashReason()))
	p.h.bg.Add(1)
	go func() {
		defer p.h.bg.Done()
		pr.client.Kill()
	}()
}

// noteCrashLocked counts a crash (or failed start) in the crash window and
// either schedules the next start after a backoff or, at the crash limit,
// marks the plugin failed.
func (p *plugin) noteCrashLocked(reason string) {
	now := time.Now()
	cut := now.Add(-p.h.opts.CrashWindow)
	kept := p.crashes[:0]
	for _, t := range p.crashes {
		if t.After(cut) {
			kept = append(kept, t)
		}
	}
	p.crashes = append(kept, now)
	n := len(p.crashes)
	if n >= p.h.opts.CrashLimit {
		p.failed = &FailedError{
			Plugin: p.bin.File(),
			Reason: fmt.Sprintf("plugin %s crashed %d times within %s (last: %s); fix the plugin (its log lines carry the name %q)",
				p.bin.File(), n, p.h.opts.CrashWindow, reason, p.bin.ID()),
		}
		p.logger.Error("plugin is crashing in a loop; marked failed", "crashes", n, "window", p.h.opts.CrashWindow.String(), "last", reason)
		return
	}
	backoff := p.h.opts.BackoffBase
	for i := 1; i < n && backoff < p.h.opts.BackoffMax; i++ {
		backoff *= 2
	}
	backoff = min(backoff, p.h.opts.BackoffMax)
	p.nextStart = now.Add(backoff)
	p.logger.Warn("plugin crashed; restarting it on next use", "reason", reason, "crashes", n, "backoff", backoff.String())
}

// broken decides, after a call failed with fault.ErrPluginShutdown, whether
// pr is dead or unreachable. If so the crash is recorded and it returns
// true; a live process that answers a health check is left alone.
func (p *plugin) broken(pr *process) bool {
	if !pr.exited() {
		if pr.ping(2*time.Second) == nil {
			return false
		}
		deadline := time.Now().Add(crashConfirmWait)
		for !pr.exited() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	p.mu.Lock()
	p.crashedLocked(pr)
	p.mu.Unlock()
	return true
}

// call runs fn against a live process in which instance id (unless "") is
// configured. After a crash, or when the plugin lost the instance, it runs
// fn once more if retrySafe says that is safe.
func (p *plugin) call(ctx context.Context, id string, retrySafe func() bool, fn func(pr *process) error) error {
	for attempt := 0; ; attempt++ {
		pr, err := p.running(ctx)
		if err != nil {
			return err
		}
		if id != "" {
			err = p.ensureConfigured(ctx, pr, id)
		}
		if err == nil {
			if err = fn(pr); err == nil {
				return nil
			}
		}
		retry := false
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, fault.ErrPluginShutdown):
			retry = p.broken(pr)
		case errors.Is(err, fault.ErrInstanceNotFound) && id != "":
			p.forget(pr, id)
			retry = true
		}
		if !retry || attempt > 0 || (retrySafe != nil && !retrySafe()) {
			return fmt.Errorf("%s: %w", p.bin.File(), err)
		}
		p.logger.Warn("retrying a call after the plugin restarted or lost its instance", "instance", id, "error", err.Error())
	}
}

// ensureConfigured configures instance id in pr unless that is done, once
// per process even when many calls ask at the same time.
func (p *plugin) ensureConfigured(ctx context.Context, pr *process, id string) error {
	for tries := 0; ; tries++ {
		p.mu.Lock()
		ic := p.instances[id]
		if ic == nil {
			p.mu.Unlock()
			return fault.AsPermanent(fmt.Errorf("instance %q is not configured; configure it before use", id))
		}
		st := pr.configured[id]
		if st != nil && st.version == ic.version {
			p.mu.Unlock()
			select {
			case <-st.done:
			case <-ctx.Done():
				return fmt.Errorf("configure instance %q: %w", id, ctx.Err())
			}
			if st.err == nil || tries > 0 {
				return st.err
			}
			continue // someone else's attempt failed: try once ourselves
		}
		st = &configState{version: ic.version, done: make(chan struct{})}
		pr.configured[id] = st
		cfg := ic.cfg
		p.mu.Unlock()

		st.err = p.configure(ctx, pr, id, cfg)
		if st.err != nil {
			p.mu.Lock()
			if pr.configured[id] == st {
				delete(pr.configured, id)
			}
			p.mu.Unlock()
		} else {
			p.logger.Debug("instance configured", "instance", id, "pid", pr.pid)
		}
		close(st.done)
		return st.err
	}
}

// configure sends a remembered configuration; problems come back as an error.
func (p *plugin) configure(ctx context.Context, pr *process, id string, cfg map[string]any) error {
	diags, err := configureRPC(ctx, pr, id, cfg)
	if err != nil {
		return err
	}
	if err := diags.Err(); err != nil {
		return fmt.Errorf("configure instance %q: %w", id, err)
	}
	return nil
}

// forget makes the next call configure id in pr again.
func (p *plugin) forget(pr *process, id string) {
	p.mu.Lock()
	delete(pr.configured, id)
	p.mu.Unlock()
}

// Configure creates or replaces instance id and remembers cfg for restarts.
func (p *plugin) Configure(ctx context.Context, id string, cfg map[string]any) (schema.Diagnostics, error) {
	if id == "" {
		return nil, fault.AsPermanent(errors.New("configure: the instance id is empty"))
	}
	var diags schema.Diagnostics
	err := p.call(ctx, "", nil, func(pr *process) error {
		d, err := configureRPC(ctx, pr, id, cfg)
		if err != nil {
			return err
		}
		diags = d
		if d.HasErrors() {
			// The plugin keeps the instance's previous configuration, if
			// any; so does the host.
			return nil
		}
		done := make(chan struct{})
		close(done)
		p.mu.Lock()
		p.version++
		p.instances[id] = &instanceConfig{cfg: maps.Clone(cfg), version: p.version}
		pr.configured[id] = &configState{version: p.version, done: done}
		p.mu.Unlock()
		return nil
	})
	return diags, err
}

// CloseInstance forgets instance id and releases it in the running process.
// It does not start a process.
func (p *plugin) CloseInstance(ctx context.Context, id string) error {
	p.mu.Lock()
	delete(p.instances, id)
	pr := p.proc
	if pr != nil {
		delete(pr.configured, id)
	}
	p.mu.Unlock()
	if pr == nil || pr.exited() {
		return nil
	}
	err := closeInstanceRPC(ctx, pr, id)
	if errors.Is(err, fault.ErrPluginShutdown) {
		return nil // the process, and the instance with it, is gone
	}
	if err != nil {
		return fmt.Errorf("%s: %w", p.bin.File(), err)
	}
	return nil
}

// reset clears a failure so that the next call starts the plugin again.
func (p *plugin) reset() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bin.Err != nil {
		return fault.AsPermanent(p.failed)
	}
	p.failed = nil
	p.crashes = nil
	p.nextStart = time.Time{}
	return nil
}

// shutdown marks the plugin closed and hands back its process to kill.
func (p *plugin) shutdown() *process {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	pr := p.proc
	p.proc = nil
	if pr == nil || pr.dead {
		return nil
	}
	pr.dead = true
	return pr
}
