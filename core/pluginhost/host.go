package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// Options configure a Host. Zero values take the defaults.
type Options struct {
	// Dir is the plugin directory. It may be empty when every plugin is
	// pinned by path.
	Dir string
	// Pins are the operator's plugin blocks, keyed by "<kind>-<name>".
	Pins map[string]Pin
	// Logger receives the host's messages and the plugins' re-emitted log
	// lines; nil discards them.
	Logger hclog.Logger
	// StartTimeout bounds a plugin's start-up handshake and its Describe
	// (default 30s). A pin's StartTimeout overrides it per plugin.
	StartTimeout time.Duration
	// EnvAllowlist names host environment variables plugins inherit in
	// addition to DefaultEnvAllowlist ("NAME" or "PREFIX*").
	EnvAllowlist []string
	// CrashLimit crashes within CrashWindow mark a plugin failed
	// (defaults 5 and 5m).
	CrashLimit  int
	CrashWindow time.Duration
	// BackoffBase and BackoffMax bound the wait before restarting a
	// crashed plugin: BackoffBase after the first crash, doubling with each
	// further crash in the window (defaults 1s and 2m).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// ReconfigureTimeout bounds re-configuring each instance after a
	// restart (default 1m).
	ReconfigureTimeout time.Duration
	// SumCache is a file (in the state directory) where the sha256 of
	// plugin binaries is kept by inode, size and times, so that unchanged
	// binaries are not read again by later processes. Empty: digests are
	// kept in memory only.
	SumCache string
	// WorkDir is the working directory of plugin processes: the
	// configuration directory, so that relative paths in a connection's or
	// storage's config resolve against it like every other path of the
	// configuration. Empty: the host's working directory.
	WorkDir string
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 30 * time.Second
	}
	if o.CrashLimit <= 0 {
		o.CrashLimit = 5
	}
	if o.CrashWindow <= 0 {
		o.CrashWindow = 5 * time.Minute
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 2 * time.Minute
	}
	if o.BackoffMax < o.BackoffBase {
		o.BackoffMax = o.BackoffBase
	}
	if o.ReconfigureTimeout <= 0 {
		o.ReconfigureTimeout = time.Minute
	}
	return o
}

// State of a plugin.
type State string

const (
	// StateUnchecked: discovered, not started yet.
	StateUnchecked State = "unchecked"
	// StateOK: started and described itself correctly.
	StateOK State = "ok"
	// StateFailed: refused, failed to start, or crashed too often; Reason says why.
	StateFailed State = "failed"
	// StateIgnored: another binary provides the same plugin; Reason names it.
	StateIgnored State = "ignored"
)

// Status describes one discovered plugin binary.
type Status struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Pinned bool   `json:"pinned"`
	State  State  `json:"state"`
	Reason string `json:"reason,omitempty"`
	// From Describe, once the plugin has started.
	Version      string   `json:"version,omitempty"`
	SDKVersion   string   `json:"sdk_version,omitempty"`
	Capabilities []string `json:"capabilities"`
	// Protocol is "major.minor" once described, just the major when a
	// mismatch was detected, or "".
	Protocol string `json:"protocol,omitempty"`
	// Running is set while a process serves the plugin; PID is its id.
	Running bool `json:"running"`
	PID     int  `json:"pid,omitempty"`
	// Restarts counts restarts after crashes; RecentCrashes counts crashes
	// within the crash window.
	Restarts      int `json:"restarts"`
	RecentCrashes int `json:"recent_crashes"`
}

// Host supervises the plugins of one plugin directory.
type Host struct {
	opts   Options
	logger hclog.Logger
	allow  []string

	plugins map[string]*plugin // by "<kind>-<name>"
	ignored []Binary
	sums    *sums

	// closeCtx is cancelled by Close; background work derives from it.
	closeCtx context.Context
	cancel   context.CancelFunc
	bg       sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

// New discovers the plugins of opts.Dir and opts.Pins. It starts nothing.
// It fails only when the directory cannot be read or a pin is malformed;
// refused binaries are reported by Statuses.
func New(opts Options) (*Host, error) {
	opts = opts.withDefaults()
	sums := loadSums(opts.SumCache)
	bins, skips, err := discover(opts.Dir, opts.Pins, sums)
	if err != nil {
		return nil, err
	}
	h := &Host{
		opts:    opts,
		logger:  opts.Logger,
		allow:   append(append([]string(nil), DefaultEnvAllowlist...), opts.EnvAllowlist...),
		plugins: map[string]*plugin{},
		sums:    sums,
	}
	h.saveSums()
	h.closeCtx, h.cancel = context.WithCancel(context.Background())
	for _, s := range skips {
		h.logger.Warn("ignoring file in the plugin directory", "file", s.file, "reason", s.why)
	}
	for _, b := range bins {
		if b.SupersededBy != "" {
			h.logger.Info("ignoring plugin binary", "file", b.File(), "superseded_by", b.SupersededBy)
			h.ignored = append(h.ignored, b)
			continue
		}
		if b.Err != nil {
			h.logger.Error("refusing plugin", "plugin", b.ID(), "reason", b.Err.Error())
		}
		h.plugins[b.ID()] = newPlugin(h, b)
	}
	return h, nil
}

// Fingerprint starts every plugin not yet described, calls Describe,
// checks the answer against the file name, and stops it again. Plugins
// that fail are marked failed with the reason. It returns Statuses.
func (h *Host) Fingerprint(ctx context.Context) []Status {
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, p := range h.plugins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			_, _ = p.describe(ctx)
		}()
	}
	wg.Wait()
	return h.Statuses()
}

// saveSums writes the digest cache when it grew; failing to is logged and
// otherwise harmless.
func (h *Host) saveSums() {
	if err := h.sums.save(); err != nil {
		h.logger.Debug("cannot save the plugin digest cache", "file", h.opts.SumCache, "error", err)
	}
}

// Statuses reports every discovered plugin binary, sorted by kind and name,
// with the sha256 of each (computed here for unpinned binaries, once per
// file version).
func (h *Host) Statuses() []Status {
	out := make([]Status, 0, len(h.plugins)+len(h.ignored))
	for _, p := range h.plugins {
		out = append(out, p.status())
	}
	for i := range h.ignored {
		b := &h.ignored[i]
		if b.SHA256 == "" && b.Err == nil {
			b.SHA256, _ = h.sums.sum(b.Exec, b.id)
		}
		out = append(out, Status{
			Kind: b.Kind, Name: b.Name, Path: b.Path, SHA256: b.SHA256, Pinned: b.Pinned,
			State: StateIgnored, Reason: "superseded by " + b.SupersededBy, Capabilities: []string{},
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].State != StateIgnored && out[j].State == StateIgnored
	})
	h.saveSums()
	return out
}

// Status reports one plugin by kind and name.
func (h *Host) Status(kind, name string) (Status, bool) {
	p, ok := h.plugins[kind+"-"+name]
	if !ok {
		return Status{}, false
	}
	return p.status(), true
}

// Info returns what a plugin says about itself (its configuration schema
// included), starting it once to ask if it has not been described yet.
func (h *Host) Info(ctx context.Context, kind, name string) (schema.Info, error) {
	p, err := h.lookup(kind, name)
	if err != nil {
		return schema.Info{}, err
	}
	return p.describe(ctx)
}

// Connector returns the handle of connector plugin name. The plugin's
// process starts on the handle's first call.
func (h *Host) Connector(name string) (*Connector, error) {
	p, err := h.lookup(schema.KindConnector, name)
	if err != nil {
		return nil, err
	}
	return &Connector{p: p}, nil
}

// Storage returns the handle of storage plugin name. The plugin's process
// starts on the handle's first call.
func (h *Host) Storage(name string) (*Storage, error) {
	p, err := h.lookup(schema.KindStorage, name)
	if err != nil {
		return nil, err
	}
	return &Storage{p: p}, nil
}

func (h *Host) lookup(kind, name string) (*plugin, error) {
	if p, ok := h.plugins[kind+"-"+name]; ok {
		return p, nil
	}
	var have []string
	for _, p := range h.plugins {
		if p.bin.Kind == kind {
			have = append(have, p.bin.Name)
		}
	}
	sort.Strings(have)
	found := "none"
	if len(have) > 0 {
		found = strings.Join(have, ", ")
	}
	where := h.opts.Dir
	if where == "" {
		where = "the plugin directory"
	}
	return nil, fault.AsPermanent(fmt.Errorf("no %s plugin %q: install lethe-%s-%s in %s (%s plugins found: %s)", kind, name, kind, name, where, kind, found))
}

// Reset clears a failed plugin's crash history so that the next call
// starts it again. Refused binaries (a bad symlink, a sha256 mismatch)
// stay refused until the directory is scanned again by a new Host.
func (h *Host) Reset(kind, name string) error {
	p, err := h.lookup(kind, name)
	if err != nil {
		return err
	}
	return p.reset()
}

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("plugin host is shut down")

// Close stops every plugin process the host started, gracefully and then
// by force, and waits for them to exit or for ctx to end.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.mu.Unlock()
	h.cancel()
	var kills sync.WaitGroup
	for _, p := range h.plugins {
		if pr := p.shutdown(); pr != nil {
			kills.Add(1)
			go func() {
				defer kills.Done()
				pr.client.Kill()
			}()
		}
	}
	done := make(chan struct{})
	go func() {
		kills.Wait()
		h.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop plugins: %w", ctx.Err())
	}
}
