package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/graph"
	"github.com/lethehq/lethe/core/policy"
	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/sdk/schema"
)

// Object kinds in the store.
const (
	KindPolicy           = "policy"
	KindStorage          = "storage"
	KindStorageSecret    = "storage_secret"
	KindConnection       = "connection"
	KindConnectionSecret = "connection_secret"
	KindDataset          = "dataset"
)

var kinds = []string{KindPolicy, KindStorage, KindStorageSecret, KindConnection, KindConnectionSecret, KindDataset}

// Objects is the part of the store the catalog needs.
type Objects interface {
	PutObjects(ctx context.Context, writes []store.ObjectWrite) error
	ListObjects(ctx context.Context, kind string) ([]store.Object, error)
}

// Options configure Open.
type Options struct {
	// Base is the configuration of the HCL files, validated (plugin
	// configs included, as `lethe validate` does).
	Base *config.Config
	// Store keeps the objects.
	Store Objects
	// Schema returns the config schema of a plugin (kind is
	// schema.KindConnector or schema.KindStorage).
	Schema func(ctx context.Context, kind, plugin string) (schema.Schema, error)
	// Test configures a throw-away instance of a plugin with cfg and runs
	// its Test; used when a secret is given with verify=true.
	Test func(ctx context.Context, kind, plugin string, cfg map[string]any) error
	// Apply puts a new configuration in force (the engine's Reconfigure).
	Apply func(*config.Config) error
	// Logger receives the details of failed tests, which the API does
	// not show; nil discards them.
	Logger hclog.Logger
}

// DeclaredError refuses a write to an object declared in an HCL file.
type DeclaredError struct {
	Kind, Key, File string
}

func (e *DeclaredError) Error() string {
	return fmt.Sprintf("%s %q is declared in %s and cannot be changed through the API; change the file and restart", e.Kind, e.Key, e.File)
}

// InvalidError refuses a change that would make the configuration invalid.
type InvalidError struct {
	Problems []string
}

func (e *InvalidError) Error() string {
	return "the change would make the configuration invalid: " + strings.Join(e.Problems, "; ")
}

// ErrNotFound is returned for an object that does not exist.
var ErrNotFound = store.ErrNotFound

// Catalog is the configuration in force. It is safe for concurrent use;
// changes are applied one at a time.
type Catalog struct {
	o   Options
	cur atomic.Pointer[config.Config]

	mu      sync.Mutex // serialises changes
	objs    map[string]map[string]json.RawMessage
	schemas map[string]schema.Schema
}

// Open loads the stored objects on top of the base configuration and
// validates the result. A stored object that the files now contradict
// (a policy naming a storage that was removed, a dataset clashing with a
// declared one) fails Open with every problem listed, before any request
// runs.
func Open(ctx context.Context, o Options) (*Catalog, error) {
	if o.Base == nil || o.Store == nil || o.Schema == nil {
		return nil, errors.New("catalog: Base, Store and Schema are required")
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	c := &Catalog{o: o, objs: map[string]map[string]json.RawMessage{}, schemas: map[string]schema.Schema{}}
	for _, k := range kinds {
		list, err := o.Store.ListObjects(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("load %s objects: %w", k, err)
		}
		c.objs[k] = map[string]json.RawMessage{}
		for _, obj := range list {
			c.objs[k][obj.Key] = obj.Value
		}
	}
	cfg, problems, err := c.build(ctx, c.objs)
	if err != nil {
		return nil, err
	}
	// Objects stored before the egress block was tightened still load, so
	// that a changed policy never keeps the daemon from starting; their
	// plugins refuse what the policy refuses when they dial or open files.
	if len(problems) == 0 {
		for _, p := range c.checkEgress(ctx, cfg, c.objs, nil) {
			o.Logger.Warn("an object created through the API does not fit the egress policy; its plugin will refuse it", "problem", p)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the objects created through the API no longer fit the configuration files; fix the files or remove the objects: %w", &InvalidError{Problems: problems})
	}
	c.cur.Store(cfg)
	if o.Apply != nil {
		if err := o.Apply(cfg); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Config returns the configuration in force. Do not change it.
func (c *Catalog) Config() *config.Config { return c.cur.Load() }

// change is one pending write.
type change struct {
	kind, key string
	value     json.RawMessage // nil deletes
}

// commit validates the configuration with changes applied, stores them
// atomically and puts the result in force. c.mu must be held.
func (c *Catalog) commit(ctx context.Context, changes []change) error {
	next := cloneObjects(c.objs)
	writes := make([]store.ObjectWrite, 0, len(changes))
	for _, ch := range changes {
		if ch.value == nil {
			delete(next[ch.kind], ch.key)
		} else {
			next[ch.kind][ch.key] = ch.value
		}
		writes = append(writes, store.ObjectWrite{Kind: ch.kind, Key: ch.key, Value: ch.value})
	}
	cfg, problems, err := c.build(ctx, next)
	if err != nil {
		return err
	}
	if len(problems) == 0 {
		// Only the objects changed now: one stored before the egress block
		// was tightened does not block unrelated changes.
		changed := map[string]bool{}
		for _, ch := range changes {
			changed[strings.TrimSuffix(ch.kind, "_secret")+"/"+ch.key] = true
		}
		problems = cfg.Sanitize(c.checkEgress(ctx, cfg, next, func(kind, key string) bool { return changed[kind+"/"+key] }))
	}
	if len(problems) > 0 {
		return &InvalidError{Problems: problems}
	}
	if err := c.o.Store.PutObjects(ctx, writes); err != nil {
		return fmt.Errorf("store the change: %w", err)
	}
	c.objs = next
	c.cur.Store(cfg)
	if c.o.Apply != nil {
		if err := c.o.Apply(cfg); err != nil {
			return fmt.Errorf("the change is stored but could not be put in force: %w", err)
		}
	}
	return nil
}

// cloneObjects copies objs so that the copy's maps can change.
func cloneObjects(objs map[string]map[string]json.RawMessage) map[string]map[string]json.RawMessage {
	next := make(map[string]map[string]json.RawMessage, len(objs))
	for k, m := range objs {
		next[k] = maps.Clone(m)
	}
	return next
}

// build makes the configuration of the base and objs, and lists its
// problems (errors only; warnings do not refuse a change).
func (c *Catalog) build(ctx context.Context, objs map[string]map[string]json.RawMessage) (*config.Config, []string, error) {
	cfg := c.o.Base.Clone()
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for _, key := range slices.Sorted(maps.Keys(objs[KindStorage])) {
		var s StorageObject
		if err := strictJSON(objs[KindStorage][key], &s); err != nil {
			bad("storage %q: stored record: %v", key, err)
			continue
		}
		conf, err := mergeSecret(s.Details, objs[KindStorageSecret][key], s.Type)
		if err != nil {
			bad("storage %q: %v", key, err)
			continue
		}
		rememberSecrets(cfg, objs[KindStorageSecret][key])
		cfg.Storages = append(cfg.Storages, &config.Storage{Name: key, Plugin: s.Type, Format: s.Format, Config: conf})
	}
	for _, key := range slices.Sorted(maps.Keys(objs[KindConnection])) {
		var s ConnectionObject
		if err := strictJSON(objs[KindConnection][key], &s); err != nil {
			bad("connection %q: stored record: %v", key, err)
			continue
		}
		conf, err := mergeSecret(s.Config, objs[KindConnectionSecret][key], "")
		if err != nil {
			bad("connection %q: %v", key, err)
			continue
		}
		rememberSecrets(cfg, objs[KindConnectionSecret][key])
		cfg.Connections = append(cfg.Connections, &config.Connection{Name: key, Plugin: s.ConnectionType, Access: s.Access, MaxParallel: s.MaxParallel, Config: conf})
	}
	for _, key := range slices.Sorted(maps.Keys(objs[KindDataset])) {
		ds, err := decodeDataset(objs[KindDataset][key])
		if err != nil {
			bad("dataset %q: %v", key, err)
			continue
		}
		cfg.Datasets = append(cfg.Datasets, ds)
	}
	for _, key := range slices.Sorted(maps.Keys(objs[KindPolicy])) {
		var p PolicyObject
		if err := strictJSON(objs[KindPolicy][key], &p); err != nil {
			bad("policy %q: stored record: %v", key, err)
			continue
		}
		pol, err := p.policy(key)
		if err != nil {
			bad("policy %q: %v", key, err)
			continue
		}
		cfg.Policies = append(cfg.Policies, pol)
	}
	if len(problems) > 0 {
		return nil, problems, nil
	}
	var diags hcl.Diagnostics
	for _, d := range cfg.Validate() {
		if !tolerated(d) {
			diags = append(diags, d)
		}
	}
	if !diags.HasErrors() {
		_, gd := graph.Build(cfg.Datasets)
		diags = append(diags, gd...)
	}
	if !diags.HasErrors() {
		diags = append(diags, c.checkPlugins(ctx, cfg, objs)...)
	}
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		problems = append(problems, msg)
	}
	if len(problems) == 0 {
		if err := attachEgress(cfg, objs); err != nil {
			return nil, nil, err
		}
	}
	return cfg, cfg.Sanitize(problems), nil
}

// checkPlugins checks the config of every connection and storage created
// through the API against its plugin's schema (the files' were checked
// before Open, with their positions). One whose secret has not been given
// yet is checked without requiring its sensitive attributes: the reference
// flow creates the object first and sets its secret after.
func (c *Catalog) checkPlugins(ctx context.Context, cfg *config.Config, objs map[string]map[string]json.RawMessage) hcl.Diagnostics {
	complete, partial := cfg.Clone(), cfg.Clone()
	complete.Storages, partial.Storages = nil, nil
	complete.Connections, partial.Connections = nil, nil
	// where returns the config an object is checked in, or nil for one
	// declared in a file.
	where := func(kind, secretKind, name string) *config.Config {
		if _, api := objs[kind][name]; !api {
			return nil
		}
		if _, hasSecret := objs[secretKind][name]; hasSecret {
			return complete
		}
		return partial
	}
	for _, s := range cfg.Storages {
		if in := where(KindStorage, KindStorageSecret, s.Name); in != nil {
			in.Storages = append(in.Storages, s)
		}
	}
	for _, x := range cfg.Connections {
		if in := where(KindConnection, KindConnectionSecret, x.Name); in != nil {
			in.Connections = append(in.Connections, x)
		}
	}
	diags := complete.CheckPluginConfigs(func(kind, plugin string) (schema.Schema, error) {
		return c.schema(ctx, kind, plugin)
	})
	diags = append(diags, partial.CheckPluginConfigs(func(kind, plugin string) (schema.Schema, error) {
		s, err := c.schema(ctx, kind, plugin)
		if err != nil {
			return s, err
		}
		relaxed := schema.Schema{Attributes: append([]schema.Attribute(nil), s.Attributes...)}
		for i := range relaxed.Attributes {
			if relaxed.Attributes[i].Sensitive {
				relaxed.Attributes[i].Required = false
			}
		}
		return relaxed, nil
	})...)
	return diags
}

// tolerated are the problems of objects still being assembled through the
// API: a policy gets its rules, and a rule its targets, in later calls. A
// request on such a policy is refused when it is submitted.
func tolerated(d *hcl.Diagnostic) bool {
	return d.Summary == policy.SummaryNoRules || d.Summary == policy.SummaryNoTargets
}

func (c *Catalog) schema(ctx context.Context, kind, plugin string) (schema.Schema, error) {
	k := kind + "/" + plugin
	if s, ok := c.schemas[k]; ok {
		return s, nil
	}
	s, err := c.o.Schema(ctx, kind, plugin)
	if err != nil {
		return schema.Schema{}, err
	}
	c.schemas[k] = s
	return s, nil
}

// declared returns the file declaring kind key in the base configuration,
// or "".
func (c *Catalog) declared(kind, key string) string {
	b := c.o.Base
	switch kind {
	case KindPolicy:
		if p := b.Policy(key); p != nil {
			return fileOf(p.Range)
		}
	case KindStorage, KindStorageSecret:
		if s := b.Storage(key); s != nil {
			return fileOf(s.Range)
		}
	case KindConnection, KindConnectionSecret:
		if s := b.Connection(key); s != nil {
			return fileOf(s.Range)
		}
	case KindDataset:
		if s := b.Dataset(key); s != nil {
			return fileOf(s.Range)
		}
	}
	return ""
}

func (c *Catalog) refuseDeclared(kind, key string) error {
	if f := c.declared(kind, key); f != "" {
		k := strings.TrimSuffix(kind, "_secret")
		return &DeclaredError{Kind: k, Key: key, File: f}
	}
	return nil
}

func fileOf(r hcl.Range) string {
	if r.Filename == "" {
		return "the configuration files"
	}
	return r.Filename
}

// strictJSON decodes data into v, refusing unknown fields.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func rememberSecrets(cfg *config.Config, raw json.RawMessage) {
	if raw == nil {
		return
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	for _, v := range m {
		if s, ok := v.(string); ok {
			cfg.RememberSecret(s)
		}
	}
}
