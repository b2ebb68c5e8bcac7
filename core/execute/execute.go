package execute

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/graph"
	"github.com/lethehq/lethe/core/identity"
	"github.com/lethehq/lethe/core/mask"
	"github.com/lethehq/lethe/core/plan"
	"github.com/lethehq/lethe/core/policy"
	"github.com/lethehq/lethe/core/store"
)

// Defaults.
const (
	// MaxInValues bounds the values of one query's filters; more values
	// are split into several queries.
	MaxInValues = 1000
	// EraseBatch is the number of row updates sent in one Erase call (one
	// transaction in the database).
	EraseBatch = 500
	// DefaultAttempts is how often a node is tried before it fails.
	DefaultAttempts = 3
	// MaxEncryptedPackage bounds a package encrypted with the requester's
	// key: AES-GCM in the reference format seals the whole document at once.
	MaxEncryptedPackage = 1 << 30
)

// Options configure an Engine.
type Options struct {
	Config  *config.Config
	Store   store.Store
	Plugins Plugins
	Logger  hclog.Logger
	// Attempts per node (default DefaultAttempts); BackoffBase and
	// BackoffMax bound the wait between attempts (defaults 200ms and 10s).
	Attempts    int
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Observe, when set, receives a Progress for each step of a request as
	// it happens (the CLI's progress lines). It must not block for long.
	Observe func(Progress)
	// Failpoint, when set, is called at named points of a run (see the
	// Point constants). A non-nil error aborts the run at once, leaving the
	// store as a crash at that point would: tests use it to check resume.
	Failpoint func(point string) error
}

// Failpoints, with the node or rule name appended after a colon.
const (
	PointAccessPage    = "access.page"    // after a page of rows is stored (the last one: before it is stored with the node's done mark)
	PointAccessFinish  = "access.finish"  // before a node is marked done
	PointUploadFinish  = "upload.finish"  // after an upload, before it is marked done
	PointErasureBatch  = "erasure.batch"  // after an erase batch committed
	PointErasureFinish = "erasure.finish" // before an erasure node is marked done
)

// Progress is one step of a request, for display.
type Progress struct {
	RequestID string
	Phase     store.Phase
	Node      string // collection address, or the rule name for uploads
	Event     store.EventType
	Rows      int64
	Masked    int64
	// Shared counts the rows found only through shared references: in
	// access, among Rows; in erasure, the rows left unmasked for that.
	Shared   int64
	Duration time.Duration
	Attempt  int
	Err      error
	Location string
}

// Engine runs requests. It is safe for concurrent use; limits on parallel
// queries hold across all the requests it runs.
type Engine struct {
	opts   Options
	state  atomic.Pointer[snapshot]
	log    hclog.Logger
	global chan struct{}

	mu         sync.Mutex
	conns      map[string]chan struct{} // per-connection limits, by connection name
	configured map[string]error         // plugin instances configured, by what and config fingerprint
	configLock map[string]*sync.Mutex   // serialises the first Configure of each instance
	firstFP    map[string]string        // the first config fingerprint seen for each instance
	running    map[string]context.CancelFunc
}

// snapshot is the configuration in force and its graph. A run takes the
// snapshot of its start; Reconfigure swaps in a new one for later runs.
type snapshot struct {
	cfg   *config.Config
	graph *graph.Graph
}

func (e *Engine) snap() *snapshot { return e.state.Load() }

// Config returns the configuration in force.
func (e *Engine) Config() *config.Config { return e.snap().cfg }

// Reconfigure puts cfg in force for the requests that start (or resume)
// from now on; running requests finish with the configuration they started
// with. cfg must be validated; its datasets must form a valid graph.
func (e *Engine) Reconfigure(cfg *config.Config) error {
	if cfg == nil {
		return errors.New("execute: Reconfigure with no configuration")
	}
	g, diags := graph.Build(cfg.Datasets)
	if diags.HasErrors() {
		return fmt.Errorf("execute: the datasets do not form a valid graph: %s", diags.Error())
	}
	e.mu.Lock()
	e.addConnLimits(cfg)
	e.mu.Unlock()
	e.state.Store(&snapshot{cfg: cfg, graph: g})
	return nil
}

// addConnLimits adds the limit of each connection not seen yet. e.mu held.
func (e *Engine) addConnLimits(cfg *config.Config) {
	for _, c := range cfg.Connections {
		if _, ok := e.conns[c.Name]; ok {
			continue
		}
		n := c.MaxParallel
		if n <= 0 {
			n = config.DefaultMaxParallel
		}
		e.conns[c.Name] = make(chan struct{}, n)
	}
}

func (e *Engine) connLimit(name string) chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conns[name]
}

// New returns an engine for a validated configuration.
func New(opts Options) (*Engine, error) {
	if opts.Config == nil || opts.Store == nil || opts.Plugins == nil {
		return nil, errors.New("execute: Config, Store and Plugins are required")
	}
	g, diags := graph.Build(opts.Config.Datasets)
	if diags.HasErrors() {
		return nil, fmt.Errorf("execute: the datasets do not form a valid graph: %s", diags.Error())
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = 200 * time.Millisecond
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 10 * time.Second
	}
	maxNodes := opts.Config.Server.MaxParallelNodes
	if maxNodes <= 0 {
		maxNodes = config.DefaultMaxParallelNodes
	}
	e := &Engine{
		opts:       opts,
		log:        opts.Logger,
		global:     make(chan struct{}, maxNodes),
		conns:      map[string]chan struct{}{},
		configured: map[string]error{},
		configLock: map[string]*sync.Mutex{},
		firstFP:    map[string]string{},
		running:    map[string]context.CancelFunc{},
	}
	e.addConnLimits(opts.Config)
	e.state.Store(&snapshot{cfg: opts.Config, graph: g})
	return e, nil
}

// Submission is a new request.
type Submission struct {
	Policy     string
	Identities map[string]string
	// ResultKey encrypts the access package (16, 24 or 32 bytes); optional.
	ResultKey      []byte
	Source         string
	ExternalID     string
	IdempotencyKey string
	// IdempotencyUntil ends the key's hold (zero: never); see
	// store.Request.IdempotencyUntil.
	IdempotencyUntil time.Time
	// Status to create the request in: approved (the default) runs at
	// once; pending waits for a review.
	Status store.Status
}

// Submit checks a submission against the configuration, generates the
// request's masking secrets and stores it. Nothing is stored when the
// policy is unknown, an identity is empty, no supplied identity reaches a
// collection, or the result key has a wrong length.
func (e *Engine) Submit(ctx context.Context, s Submission) (*store.Request, error) {
	sn := e.snap()
	pol := sn.cfg.Policy(s.Policy)
	if pol == nil {
		return nil, fmt.Errorf("unknown policy %q; declared policies: %s", s.Policy, policyNames(sn.cfg))
	}
	consent := policy.IsConsent(pol.DRPAction)
	if len(pol.Rules) == 0 && !consent {
		return nil, fmt.Errorf("policy %q has no rules yet; add an access or erasure rule first", s.Policy)
	}
	if len(s.Identities) == 0 {
		return nil, errors.New("no identity given; give at least one, e.g. email")
	}
	for k, v := range s.Identities {
		if v == "" {
			return nil, fmt.Errorf("identity %q is empty", k)
		}
	}
	identities, normalized, err := NormalizeIdentities(sn.cfg, s.Identities)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(identities))
	for k := range identities {
		names = append(names, k)
	}
	switch len(s.ResultKey) {
	case 0, 16, 24, 32:
	default:
		return nil, fmt.Errorf("encryption key is %d bytes; it must be 16, 24 or 32 bytes", len(s.ResultKey))
	}
	if !consent {
		if _, err := plan.New(sn.graph, plan.Options{Identities: names, Erasure: hasErasure(pol)}); err != nil {
			return nil, err
		}
	}
	sec, err := mask.NewSecrets(maskSpecs(pol))
	if err != nil {
		return nil, err
	}
	secBytes, err := sec.MarshalBinary()
	if err != nil {
		return nil, err
	}
	// The policy is kept with the request, sealed with its masking
	// secrets in the same transaction: the request runs the policy it was
	// accepted under, even if the policy changes before it runs.
	record, err := encodeSubmission(pol, secBytes)
	if err != nil {
		return nil, err
	}
	status := s.Status
	if status == "" {
		status = store.StatusApproved
	}
	source := s.Source
	if source == "" {
		source = store.SourceAPI
	}
	r := &store.Request{
		Policy:           pol.Name,
		Status:           status,
		Identities:       identities,
		Normalized:       normalized,
		ResultKey:        s.ResultKey,
		Source:           source,
		ExternalID:       s.ExternalID,
		IdempotencyKey:   s.IdempotencyKey,
		IdempotencyUntil: s.IdempotencyUntil,
	}
	if pol.ExecutionTimeframe > 0 {
		r.DueAt = time.Now().Add(pol.ExecutionTimeframe).UTC()
	}
	return e.opts.Store.CreateRequest(ctx, r, record)
}

// NormalizeIdentities applies the normalizations cfg declares for each
// identity (identity blocks) to its value, and returns the values to use
// and, by identity name, the normalizations applied (nil when none). It is
// the one place identity values are normalized: Submit calls it for every
// intake (lethe run, the API, DRP); callers that look requests up by
// identity value call it too, so that they match what was stored. Values
// without a declared normalization are returned unchanged (exact match).
// Errors name the identity, never its value.
func NormalizeIdentities(cfg *config.Config, ids map[string]string) (map[string]string, map[string][]string, error) {
	out := make(map[string]string, len(ids))
	var applied map[string][]string
	for name, v := range ids {
		var steps []string
		if id := cfg.Identity(name); id != nil {
			steps = id.Normalize
		}
		if len(steps) == 0 {
			out[name] = v
			continue
		}
		nv, err := identity.Normalize(v, steps)
		if err != nil {
			return nil, nil, fmt.Errorf("identity %q (normalized with %s): %w", name, strings.Join(steps, ", "), err)
		}
		out[name] = nv
		if applied == nil {
			applied = map[string][]string{}
		}
		applied[name] = append([]string(nil), steps...)
	}
	return out, applied, nil
}

// Cancel stops a running request at its next batch. The caller records why
// (the API moves the request to canceled first).
func (e *Engine) Cancel(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if cancel, ok := e.running[id]; ok {
		cancel()
		return true
	}
	return false
}

// Resume runs every request a previous process left approved or in
// processing, oldest first, one after the other, and returns the first
// error that is not the request's own failure.
func (e *Engine) Resume(ctx context.Context) ([]*store.Request, error) {
	reqs, err := e.opts.Store.Unfinished(ctx, store.StatusApproved, store.StatusInProcessing)
	if err != nil {
		return nil, err
	}
	var out []*store.Request
	for _, r := range reqs {
		done, err := e.Run(ctx, r.ID)
		if done != nil {
			out = append(out, done)
		}
		if err != nil && !errors.Is(err, ErrRequestFailed) {
			return out, err
		}
	}
	return out, nil
}

// ErrRequestFailed wraps the reason of a request that ended in error.
var ErrRequestFailed = errors.New("request failed")

func policyNames(cfg *config.Config) string {
	if len(cfg.Policies) == 0 {
		return "none"
	}
	s := ""
	for i, p := range cfg.Policies {
		if i > 0 {
			s += ", "
		}
		s += p.Name
	}
	return s
}

func hasErasure(p *policy.Policy) bool {
	for _, r := range p.Rules {
		if r.Action == policy.ActionErasure {
			return true
		}
	}
	return false
}

// maskSpecs lists every masking step of the policy's erasure rules.
func maskSpecs(p *policy.Policy) []mask.Spec {
	var out []mask.Spec
	for _, r := range p.Rules {
		if r.Action == policy.ActionErasure {
			out = append(out, chainOf(r)...)
		}
	}
	return out
}

func chainOf(r *policy.Rule) mask.Chain {
	var c mask.Chain
	for _, m := range r.Masking {
		m = m.WithDefaults()
		c = append(c, mask.Spec{
			Strategy: m.Strategy, RewriteValue: m.RewriteValue, Length: m.Length,
			Algorithm: m.Algorithm, Mode: m.Mode, FormatSuffix: m.Suffix,
		})
	}
	return c
}
