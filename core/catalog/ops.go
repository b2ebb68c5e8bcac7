package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/importer"
	"github.com/lethehq/lethe/core/policy"
	"github.com/lethehq/lethe/sdk/egress"
	"github.com/lethehq/lethe/sdk/schema"
)

// ----- policies -----

// PolicyInput is an item of PATCH /policy.
type PolicyInput struct {
	Name               string `json:"name"`
	Key                string `json:"key,omitempty"`
	DRPAction          string `json:"drp_action,omitempty"`
	ExecutionTimeframe string `json:"execution_timeframe,omitempty"`
}

// RuleInput is an item of PATCH /policy/{key}/rule.
type RuleInput struct {
	Name                  string          `json:"name"`
	Key                   string          `json:"key,omitempty"`
	ActionType            string          `json:"action_type"`
	StorageDestinationKey string          `json:"storage_destination_key,omitempty"`
	MaskingStrategy       json.RawMessage `json:"masking_strategy,omitempty"`
}

// TargetInput is an item of PATCH /policy/{key}/rule/{rule}/target.
type TargetInput struct {
	Name         string `json:"name,omitempty"`
	Key          string `json:"key,omitempty"`
	DataCategory string `json:"data_category"`
}

// Policies lists the policies in force.
func (c *Catalog) Policies() []PolicyView {
	cfg := c.Config()
	out := make([]PolicyView, 0, len(cfg.Policies))
	for _, p := range cfg.Policies {
		out = append(out, c.policyView(p))
	}
	return out
}

// Policy returns one policy; ErrNotFound when there is none.
func (c *Catalog) Policy(key string) (PolicyView, error) {
	p := c.Config().Policy(key)
	if p == nil {
		return PolicyView{}, fmt.Errorf("policy %q: %w", key, ErrNotFound)
	}
	return c.policyView(p), nil
}

func (c *Catalog) policyView(p *policy.Policy) PolicyView {
	v := PolicyView{Key: p.Name, Name: p.Name, DRPAction: p.DRPAction, ExecutionTimeframe: formatDuration(p.ExecutionTimeframe), Rules: []RuleView{}}
	var obj PolicyObject
	c.mu.Lock()
	raw, api := c.objs[KindPolicy][p.Name]
	c.mu.Unlock()
	if api && strictJSON(raw, &obj) == nil {
		v.Name = obj.Name
	} else {
		v.DeclaredIn = fileOf(p.Range)
	}
	for _, r := range p.Rules {
		rv := RuleView{Key: r.Name, Name: r.Name, Action: r.Action, Storage: r.Storage, Targets: []TargetView{}}
		var ro *RuleObject
		for i := range obj.Rules {
			if obj.Rules[i].Key == r.Name {
				ro = &obj.Rules[i]
			}
		}
		if ro != nil {
			rv.Name = ro.Name
		}
		for _, m := range r.Masking {
			rv.Masking = append(rv.Masking, m.Strategy)
		}
		for i, t := range r.Targets {
			tv := TargetView{Key: t, DataCategory: t}
			if ro != nil && i < len(ro.Targets) {
				tv.Key, tv.Name = ro.Targets[i].Key, ro.Targets[i].Name
			}
			rv.Targets = append(rv.Targets, tv)
		}
		v.Rules = append(v.Rules, rv)
	}
	return v
}

// PutPolicy creates a policy, or changes the name, DRP action and
// execution timeframe of one created through the API (its rules stay).
func (c *Catalog) PutPolicy(ctx context.Context, in PolicyInput) (PolicyView, error) {
	key, err := KeyOf(in.Key, in.Name)
	if err != nil {
		return PolicyView{}, err
	}
	if in.Name == "" {
		in.Name = key
	}
	if err := c.refuseDeclared(KindPolicy, key); err != nil {
		return PolicyView{}, err
	}
	if in.DRPAction != "" {
		a, ok := policy.NormalizeDRPAction(in.DRPAction)
		if !ok {
			return PolicyView{}, fmt.Errorf("drp_action %q is not a DRP action; use one of %v", in.DRPAction, policy.DRPActions)
		}
		in.DRPAction = a
	}
	c.mu.Lock()
	var obj PolicyObject
	if raw, ok := c.objs[KindPolicy][key]; ok {
		if err := strictJSON(raw, &obj); err != nil {
			c.mu.Unlock()
			return PolicyView{}, fmt.Errorf("policy %q: stored record: %w", key, err)
		}
	}
	obj.Name, obj.DRPAction, obj.ExecutionTimeframe = in.Name, in.DRPAction, in.ExecutionTimeframe
	err = c.putPolicy(ctx, key, obj)
	c.mu.Unlock()
	if err != nil {
		return PolicyView{}, err
	}
	return c.Policy(key)
}

func (c *Catalog) putPolicy(ctx context.Context, key string, obj PolicyObject) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return c.commit(ctx, []change{{kind: KindPolicy, key: key, value: data}})
}

// editPolicy loads a policy created through the API, lets fn change it and
// commits the result.
func (c *Catalog) editPolicy(ctx context.Context, key string, fn func(*PolicyObject) error) error {
	if err := c.refuseDeclared(KindPolicy, key); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	raw, ok := c.objs[KindPolicy][key]
	if !ok {
		return fmt.Errorf("policy %q: %w", key, ErrNotFound)
	}
	var obj PolicyObject
	if err := strictJSON(raw, &obj); err != nil {
		return fmt.Errorf("policy %q: stored record: %w", key, err)
	}
	if err := fn(&obj); err != nil {
		return err
	}
	return c.putPolicy(ctx, key, obj)
}

// DeletePolicy deletes a policy created through the API.
func (c *Catalog) DeletePolicy(ctx context.Context, key string) error {
	if err := c.refuseDeclared(KindPolicy, key); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.objs[KindPolicy][key]; !ok {
		return fmt.Errorf("policy %q: %w", key, ErrNotFound)
	}
	return c.commit(ctx, []change{{kind: KindPolicy, key: key}})
}

// PutRule creates or replaces a rule of a policy created through the API;
// a replaced rule keeps its targets.
func (c *Catalog) PutRule(ctx context.Context, policyKey string, in RuleInput) (RuleView, error) {
	key, err := KeyOf(in.Key, in.Name)
	if err != nil {
		return RuleView{}, err
	}
	if in.Name == "" {
		in.Name = key
	}
	var steps []MaskingObject
	if len(in.MaskingStrategy) > 0 && string(in.MaskingStrategy) != "null" {
		var one MaskingObject
		if err := strictJSON(in.MaskingStrategy, &one); err == nil {
			steps = []MaskingObject{one}
		} else if err := strictJSON(in.MaskingStrategy, &steps); err != nil {
			return RuleView{}, fmt.Errorf(`masking_strategy must be {"strategy": "...", "configuration": {...}} or a list of them: %v`, err)
		}
	}
	if in.ActionType == policy.ActionErasure && len(steps) == 0 {
		return RuleView{}, errors.New("an erasure rule needs a masking_strategy")
	}
	if in.ActionType == policy.ActionAccess && in.StorageDestinationKey == "" {
		return RuleView{}, errors.New("an access rule needs a storage_destination_key")
	}
	err = c.editPolicy(ctx, policyKey, func(p *PolicyObject) error {
		r := RuleObject{Key: key, Name: in.Name, Action: in.ActionType, Storage: in.StorageDestinationKey, Masking: steps}
		for i := range p.Rules {
			if p.Rules[i].Key == key {
				r.Targets = p.Rules[i].Targets
				p.Rules[i] = r
				return nil
			}
		}
		p.Rules = append(p.Rules, r)
		return nil
	})
	if err != nil {
		return RuleView{}, err
	}
	return c.rule(policyKey, key)
}

func (c *Catalog) rule(policyKey, key string) (RuleView, error) {
	pv, err := c.Policy(policyKey)
	if err != nil {
		return RuleView{}, err
	}
	for _, r := range pv.Rules {
		if r.Key == key {
			return r, nil
		}
	}
	return RuleView{}, fmt.Errorf("rule %q of policy %q: %w", key, policyKey, ErrNotFound)
}

// DeleteRule deletes a rule and its targets.
func (c *Catalog) DeleteRule(ctx context.Context, policyKey, ruleKey string) error {
	return c.editPolicy(ctx, policyKey, func(p *PolicyObject) error {
		for i := range p.Rules {
			if p.Rules[i].Key == ruleKey {
				p.Rules = slices.Delete(p.Rules, i, i+1)
				return nil
			}
		}
		return fmt.Errorf("rule %q of policy %q: %w", ruleKey, policyKey, ErrNotFound)
	})
}

// PutTarget adds (or replaces, by key) a target of a rule.
func (c *Catalog) PutTarget(ctx context.Context, policyKey, ruleKey string, in TargetInput) (TargetView, error) {
	if in.DataCategory == "" {
		return TargetView{}, errors.New("data_category is empty; give a data category like \"user.contact.email\"")
	}
	key := in.Key
	if key == "" {
		key = in.Name
	}
	key, err := KeyOf(key, in.DataCategory)
	if err != nil {
		return TargetView{}, err
	}
	t := TargetObject{Key: key, Name: in.Name, DataCategory: in.DataCategory}
	err = c.editPolicy(ctx, policyKey, func(p *PolicyObject) error {
		for i := range p.Rules {
			if p.Rules[i].Key != ruleKey {
				continue
			}
			r := &p.Rules[i]
			for j := range r.Targets {
				if r.Targets[j].Key == key {
					r.Targets[j] = t
					return nil
				}
			}
			r.Targets = append(r.Targets, t)
			return nil
		}
		return fmt.Errorf("rule %q of policy %q: %w", ruleKey, policyKey, ErrNotFound)
	})
	if err != nil {
		return TargetView{}, err
	}
	return TargetView(t), nil
}

// DeleteTarget deletes a target of a rule.
func (c *Catalog) DeleteTarget(ctx context.Context, policyKey, ruleKey, targetKey string) error {
	return c.editPolicy(ctx, policyKey, func(p *PolicyObject) error {
		for i := range p.Rules {
			if p.Rules[i].Key != ruleKey {
				continue
			}
			r := &p.Rules[i]
			for j := range r.Targets {
				if r.Targets[j].Key == targetKey {
					r.Targets = slices.Delete(r.Targets, j, j+1)
					return nil
				}
			}
			return fmt.Errorf("target %q of rule %q: %w", targetKey, ruleKey, ErrNotFound)
		}
		return fmt.Errorf("rule %q of policy %q: %w", ruleKey, policyKey, ErrNotFound)
	})
}

// ----- storage destinations and connections -----

// StorageInput is an item of PATCH /storage/config.
type StorageInput struct {
	Name    string         `json:"name"`
	Key     string         `json:"key,omitempty"`
	Type    string         `json:"type"`
	Format  string         `json:"format,omitempty"`
	Details map[string]any `json:"details,omitempty"`
}

// StorageView is a storage destination; sensitive values never appear.
type StorageView struct {
	Key        string         `json:"key"`
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Format     string         `json:"format"`
	Details    map[string]any `json:"details"`
	HasSecret  bool           `json:"has_secret"`
	DeclaredIn string         `json:"declared_in,omitempty"`
	// SecretDropped is set on the answer to a change that dropped the
	// stored secret; Notice says why and how to set it again.
	SecretDropped bool   `json:"secret_dropped,omitempty"`
	Notice        string `json:"notice,omitempty"`
}

// ConnectionInput is an item of PATCH /connection.
type ConnectionInput struct {
	Name           string         `json:"name"`
	Key            string         `json:"key,omitempty"`
	ConnectionType string         `json:"connection_type"`
	Access         string         `json:"access"`
	MaxParallel    int            `json:"max_parallel,omitempty"`
	Config         map[string]any `json:"config,omitempty"`
}

// ConnectionView is a connection; sensitive values never appear.
type ConnectionView struct {
	Key            string         `json:"key"`
	Name           string         `json:"name"`
	ConnectionType string         `json:"connection_type"`
	Access         string         `json:"access"`
	MaxParallel    int            `json:"max_parallel"`
	Config         map[string]any `json:"config"`
	HasSecret      bool           `json:"has_secret"`
	DeclaredIn     string         `json:"declared_in,omitempty"`
	// SecretDropped and Notice: as in StorageView.
	SecretDropped bool   `json:"secret_dropped,omitempty"`
	Notice        string `json:"notice,omitempty"`
}

// TestResult is the outcome of testing a connection or storage.
type TestResult struct {
	Msg           string `json:"msg"`
	TestStatus    string `json:"test_status"` // succeeded, failed, skipped
	FailureReason string `json:"failure_reason,omitempty"`
}

// Storages lists the storage destinations in force.
func (c *Catalog) Storages(ctx context.Context) []StorageView {
	cfg := c.Config()
	out := make([]StorageView, 0, len(cfg.Storages))
	for _, s := range cfg.Storages {
		out = append(out, c.storageView(ctx, s))
	}
	return out
}

// Storage returns one storage destination.
func (c *Catalog) Storage(ctx context.Context, key string) (StorageView, error) {
	s := c.Config().Storage(key)
	if s == nil {
		return StorageView{}, fmt.Errorf("storage %q: %w", key, ErrNotFound)
	}
	return c.storageView(ctx, s), nil
}

func (c *Catalog) storageView(ctx context.Context, s *config.Storage) StorageView {
	v := StorageView{Key: s.Name, Name: s.Name, Type: s.Plugin, Format: s.Format, Details: c.redacted(ctx, "storage", s.Plugin, s.Config)}
	if v.Format == "" {
		v.Format = config.FormatJSON
	}
	c.mu.Lock()
	raw, api := c.objs[KindStorage][s.Name]
	_, v.HasSecret = c.objs[KindStorageSecret][s.Name]
	c.mu.Unlock()
	var obj StorageObject
	if api && strictJSON(raw, &obj) == nil {
		v.Name = obj.Name
	} else {
		v.DeclaredIn = fileOf(s.Range)
	}
	return v
}

// redacted returns cfg with the values of sensitive attributes (or of
// unknown attributes, when the schema cannot be read) replaced.
func (c *Catalog) redacted(ctx context.Context, kind, plugin string, cfg map[string]any) map[string]any {
	c.mu.Lock()
	sch, err := c.schema(ctx, kind, plugin)
	c.mu.Unlock()
	out := map[string]any{}
	for k, v := range cfg {
		if k == egress.ConfigKey {
			continue
		}
		a, ok := sch.Attribute(k)
		if err != nil || !ok || a.Sensitive {
			out[k] = "(redacted)"
			continue
		}
		out[k] = v
	}
	return out
}

// PutStorage creates or replaces a storage destination (its secret stays).
// The reference system's "naming": "request_id" is accepted and dropped:
// packages are always named by request id.
func (c *Catalog) PutStorage(ctx context.Context, in StorageInput) (StorageView, error) {
	key, err := KeyOf(in.Key, in.Name)
	if err != nil {
		return StorageView{}, err
	}
	if in.Name == "" {
		in.Name = key
	}
	if err := c.refuseDeclared(KindStorage, key); err != nil {
		return StorageView{}, err
	}
	if in.Type == "" {
		return StorageView{}, errors.New(`type is empty; name the storage plugin, like "s3" or "local"`)
	}
	switch in.Format {
	case "", config.FormatJSON, config.FormatCSV:
	default:
		return StorageView{}, fmt.Errorf("format %q: use json or csv", in.Format)
	}
	details := map[string]any{}
	for k, v := range in.Details {
		if k == "naming" {
			if v != "request_id" {
				return StorageView{}, fmt.Errorf(`details.naming %v: only "request_id" is supported`, v)
			}
			continue
		}
		details[k] = v
	}
	data, err := json.Marshal(StorageObject{Name: in.Name, Type: in.Type, Format: in.Format, Details: details})
	if err != nil {
		return StorageView{}, err
	}
	c.mu.Lock()
	changes := []change{{kind: KindStorage, key: key, value: data}}
	var changed []string
	if raw, ok := c.objs[KindStorage][key]; ok && c.objs[KindStorageSecret][key] != nil {
		var old StorageObject
		if strictJSON(raw, &old) != nil {
			old = StorageObject{}
		}
		if changed = c.redirects(ctx, schema.KindStorage, old.Type, old.Details, in.Type, details); len(changed) > 0 {
			changes = append(changes, change{kind: KindStorageSecret, key: key})
		}
	}
	err = c.commit(ctx, changes)
	c.mu.Unlock()
	if err != nil {
		return StorageView{}, err
	}
	v, err := c.Storage(ctx, key)
	if err == nil && len(changed) > 0 {
		v.SecretDropped, v.Notice = true, fmt.Sprintf(secretDropped, quoteList(changed), "/storage/config/"+key)
	}
	return v, err
}

// DeleteStorage deletes a storage destination created through the API
// and its secret. A policy still using it refuses the deletion.
func (c *Catalog) DeleteStorage(ctx context.Context, key string) error {
	return c.deleteWithSecret(ctx, KindStorage, KindStorageSecret, key, nil)
}

// PutStorageSecret sets the secret of a storage destination created
// through the API. With verify, the destination is tested with it first,
// and a failed test stores nothing.
func (c *Catalog) PutStorageSecret(ctx context.Context, key string, secret json.RawMessage, verify bool) (TestResult, error) {
	return c.putSecret(ctx, KindStorage, KindStorageSecret, schema.KindStorage, key, secret, verify)
}

// Connections lists the connections in force.
func (c *Catalog) Connections(ctx context.Context) []ConnectionView {
	cfg := c.Config()
	out := make([]ConnectionView, 0, len(cfg.Connections))
	for _, x := range cfg.Connections {
		out = append(out, c.connectionView(ctx, x))
	}
	return out
}

// Connection returns one connection.
func (c *Catalog) Connection(ctx context.Context, key string) (ConnectionView, error) {
	x := c.Config().Connection(key)
	if x == nil {
		return ConnectionView{}, fmt.Errorf("connection %q: %w", key, ErrNotFound)
	}
	return c.connectionView(ctx, x), nil
}

func (c *Catalog) connectionView(ctx context.Context, x *config.Connection) ConnectionView {
	v := ConnectionView{Key: x.Name, Name: x.Name, ConnectionType: x.Plugin, Access: x.Access, MaxParallel: x.MaxParallel,
		Config: c.redacted(ctx, "connector", x.Plugin, x.Config)}
	if v.MaxParallel == 0 {
		v.MaxParallel = config.DefaultMaxParallel
	}
	c.mu.Lock()
	raw, api := c.objs[KindConnection][x.Name]
	_, v.HasSecret = c.objs[KindConnectionSecret][x.Name]
	c.mu.Unlock()
	var obj ConnectionObject
	if api && strictJSON(raw, &obj) == nil {
		v.Name = obj.Name
	} else {
		v.DeclaredIn = fileOf(x.Range)
	}
	return v
}

// PutConnection creates or replaces a connection (its secret stays).
func (c *Catalog) PutConnection(ctx context.Context, in ConnectionInput) (ConnectionView, error) {
	key, err := KeyOf(in.Key, in.Name)
	if err != nil {
		return ConnectionView{}, err
	}
	if in.Name == "" {
		in.Name = key
	}
	if err := c.refuseDeclared(KindConnection, key); err != nil {
		return ConnectionView{}, err
	}
	if in.ConnectionType == "" {
		return ConnectionView{}, errors.New(`connection_type is empty; name the connector plugin, like "postgres"`)
	}
	switch in.Access {
	case config.AccessRead, config.AccessWrite:
	default:
		return ConnectionView{}, fmt.Errorf("access %q: use %q or %q", in.Access, config.AccessRead, config.AccessWrite)
	}
	if in.MaxParallel < 0 || in.MaxParallel > 256 {
		return ConnectionView{}, fmt.Errorf("max_parallel %d: use 1 to 256 (0 for the default)", in.MaxParallel)
	}
	data, err := json.Marshal(ConnectionObject{Name: in.Name, ConnectionType: in.ConnectionType, Access: in.Access, MaxParallel: in.MaxParallel, Config: in.Config})
	if err != nil {
		return ConnectionView{}, err
	}
	c.mu.Lock()
	changes := []change{{kind: KindConnection, key: key, value: data}}
	var changed []string
	if raw, ok := c.objs[KindConnection][key]; ok && c.objs[KindConnectionSecret][key] != nil {
		var old ConnectionObject
		if strictJSON(raw, &old) != nil {
			old = ConnectionObject{}
		}
		if changed = c.redirects(ctx, schema.KindConnector, old.ConnectionType, old.Config, in.ConnectionType, in.Config); len(changed) > 0 {
			changes = append(changes, change{kind: KindConnectionSecret, key: key})
		}
	}
	err = c.commit(ctx, changes)
	c.mu.Unlock()
	if err != nil {
		return ConnectionView{}, err
	}
	v, err := c.Connection(ctx, key)
	if err == nil && len(changed) > 0 {
		v.SecretDropped, v.Notice = true, fmt.Sprintf(secretDropped, quoteList(changed), "/connection/"+key)
	}
	return v, err
}

// DeleteConnection deletes a connection created through the API with its
// secret and its datasets.
func (c *Catalog) DeleteConnection(ctx context.Context, key string) error {
	return c.deleteWithSecret(ctx, KindConnection, KindConnectionSecret, key, func(objs map[string]map[string]json.RawMessage) []change {
		var out []change
		for dk, raw := range objs[KindDataset] {
			var d DatasetObject
			if json.Unmarshal(raw, &d) == nil && d.Connection == key {
				out = append(out, change{kind: KindDataset, key: dk})
			}
		}
		return out
	})
}

// PutConnectionSecret sets the secret of a connection created through the
// API, tested first with verify.
func (c *Catalog) PutConnectionSecret(ctx context.Context, key string, secret json.RawMessage, verify bool) (TestResult, error) {
	return c.putSecret(ctx, KindConnection, KindConnectionSecret, schema.KindConnector, key, secret, verify)
}

// TestConnection tests a connection in force.
func (c *Catalog) TestConnection(ctx context.Context, key string) (TestResult, error) {
	x := c.Config().Connection(key)
	if x == nil {
		return TestResult{}, fmt.Errorf("connection %q: %w", key, ErrNotFound)
	}
	return c.testIn(ctx, c.Config(), schema.KindConnector, x.Plugin, x.Config), nil
}

// testIn tests a plugin config of in (which knows its secrets, to keep
// them out of the log). A failure answers Unreachable whatever the cause;
// the cause goes to the log.
func (c *Catalog) testIn(ctx context.Context, in *config.Config, kind, plugin string, cfg map[string]any) TestResult {
	if c.o.Test == nil {
		return TestResult{Msg: "testing is not available", TestStatus: "skipped"}
	}
	if err := c.o.Test(ctx, kind, plugin, cfg); err != nil {
		c.o.Logger.Warn("plugin test failed", "kind", kind, "plugin", plugin, "error", in.Sanitize([]string{err.Error()})[0])
		return TestResult{Msg: "the test failed", TestStatus: "failed", FailureReason: Unreachable}
	}
	return TestResult{Msg: "the test succeeded", TestStatus: "succeeded"}
}

func (c *Catalog) putSecret(ctx context.Context, kind, secretKind, pluginKind, key string, secret json.RawMessage, verify bool) (TestResult, error) {
	if err := c.refuseDeclared(kind, key); err != nil {
		return TestResult{}, err
	}
	m, err := decodeMap(secret)
	if err != nil {
		return TestResult{}, fmt.Errorf("the secret must be a JSON object of strings: %v", err)
	}
	if len(m) == 0 {
		return TestResult{}, errors.New("the secret is empty")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c.mu.Lock()
	defer c.mu.Unlock()
	raw, ok := c.objs[kind][key]
	if !ok {
		return TestResult{}, fmt.Errorf("%s %q: %w", kind, key, ErrNotFound)
	}
	var plugin string
	var base map[string]any
	if kind == KindStorage {
		var o StorageObject
		if err := strictJSON(raw, &o); err != nil {
			return TestResult{}, err
		}
		plugin, base = o.Type, o.Details
	} else {
		var o ConnectionObject
		if err := strictJSON(raw, &o); err != nil {
			return TestResult{}, err
		}
		plugin, base = o.ConnectionType, o.Config
	}
	sch, err := c.schema(ctx, pluginKind, plugin)
	if err != nil {
		return TestResult{}, err
	}
	merged, err := mergeSecret(base, secret, plugin)
	if err != nil {
		return TestResult{}, err
	}
	for k := range merged {
		if _, ok := sch.Attribute(k); !ok {
			return TestResult{}, fmt.Errorf("the %s plugin has no attribute %q; its attributes: %s", plugin, k, attrNames(sch))
		}
	}
	res := TestResult{Msg: "secret stored; not tested (add ?verify=true to test it)", TestStatus: "skipped"}
	if verify {
		cfg, _, err := c.build(ctx, c.withChange(secretKind, key, secret))
		if err == nil && cfg != nil {
			var conf map[string]any
			if kind == KindStorage {
				if s := cfg.Storage(key); s != nil {
					conf = s.Config
				}
			} else if x := cfg.Connection(key); x != nil {
				conf = x.Config
			}
			res = c.testIn(ctx, cfg, pluginKind, plugin, conf)
			if res.TestStatus == "failed" {
				res.Msg = "the test failed; the secret was not stored"
				return res, nil
			}
			res.Msg = "secret stored; the test succeeded"
		}
	}
	if err := c.commit(ctx, []change{{kind: secretKind, key: key, value: secret}}); err != nil {
		return TestResult{}, err
	}
	return res, nil
}

func (c *Catalog) withChange(kind, key string, value json.RawMessage) map[string]map[string]json.RawMessage {
	next := cloneObjects(c.objs)
	next[kind][key] = value
	return next
}

func attrNames(s schema.Schema) string {
	var out []string
	for _, a := range s.Attributes {
		out = append(out, a.Name)
	}
	return fmt.Sprint(out)
}

func (c *Catalog) deleteWithSecret(ctx context.Context, kind, secretKind, key string, more func(map[string]map[string]json.RawMessage) []change) error {
	if err := c.refuseDeclared(kind, key); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.objs[kind][key]; !ok {
		return fmt.Errorf("%s %q: %w", kind, key, ErrNotFound)
	}
	changes := []change{{kind: kind, key: key}}
	if _, ok := c.objs[secretKind][key]; ok {
		changes = append(changes, change{kind: secretKind, key: key})
	}
	if more != nil {
		changes = append(changes, more(c.objs)...)
	}
	return c.commit(ctx, changes)
}

// ----- datasets -----

// DatasetView is a dataset of a connection, as the reference system's
// JSON (for datasets created through the API) with where it is declared.
type DatasetView struct {
	FidesKey   string          `json:"fides_key"`
	Connection string          `json:"connection"`
	Dataset    json.RawMessage `json:"dataset,omitempty"`
	DeclaredIn string          `json:"declared_in,omitempty"`
	// Collections lists the collections of a declared dataset.
	Collections []string `json:"collections,omitempty"`
}

// Datasets lists the datasets bound to a connection.
func (c *Catalog) Datasets(connection string) ([]DatasetView, error) {
	cfg := c.Config()
	if cfg.Connection(connection) == nil {
		return nil, fmt.Errorf("connection %q: %w", connection, ErrNotFound)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []DatasetView{}
	for _, ds := range cfg.Datasets {
		if ds.Connection != connection {
			continue
		}
		v := DatasetView{FidesKey: ds.Name, Connection: connection}
		if raw, ok := c.objs[KindDataset][ds.Name]; ok {
			var d DatasetObject
			if json.Unmarshal(raw, &d) == nil {
				v.Dataset = d.Dataset
			}
		} else {
			v.DeclaredIn = fileOf(ds.Range)
			for _, col := range ds.Collections {
				v.Collections = append(v.Collections, col.Name)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// PutDataset creates or replaces a dataset of a connection from the
// reference system's dataset JSON. The whole graph is validated with it
// first; a dataset that breaks it is refused with every problem listed.
func (c *Catalog) PutDataset(ctx context.Context, connection string, raw json.RawMessage) (DatasetView, error) {
	if c.Config().Connection(connection) == nil {
		return DatasetView{}, fmt.Errorf("connection %q: %w", connection, ErrNotFound)
	}
	dss, _, err := importer.ParseFidesops(raw)
	if err != nil {
		return DatasetView{}, err
	}
	if len(dss) != 1 {
		return DatasetView{}, fmt.Errorf("give one dataset per item, not %d", len(dss))
	}
	key := dss[0].Name
	if err := c.refuseDeclared(KindDataset, key); err != nil {
		return DatasetView{}, err
	}
	data, err := json.Marshal(DatasetObject{Connection: connection, Dataset: raw})
	if err != nil {
		return DatasetView{}, err
	}
	c.mu.Lock()
	if prev, ok := c.objs[KindDataset][key]; ok {
		var d DatasetObject
		if json.Unmarshal(prev, &d) == nil && d.Connection != connection {
			c.mu.Unlock()
			return DatasetView{}, fmt.Errorf("dataset %q belongs to connection %q; delete it there first", key, d.Connection)
		}
	}
	err = c.commit(ctx, []change{{kind: KindDataset, key: key, value: data}})
	c.mu.Unlock()
	if err != nil {
		return DatasetView{}, err
	}
	return DatasetView{FidesKey: key, Connection: connection, Dataset: raw}, nil
}

// DeleteDataset deletes a dataset created through the API.
func (c *Catalog) DeleteDataset(ctx context.Context, connection, key string) error {
	if err := c.refuseDeclared(KindDataset, key); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	raw, ok := c.objs[KindDataset][key]
	var d DatasetObject
	if !ok || json.Unmarshal(raw, &d) != nil || d.Connection != connection {
		return fmt.Errorf("dataset %q of connection %q: %w", key, connection, ErrNotFound)
	}
	return c.commit(ctx, []change{{kind: KindDataset, key: key}})
}

// Declared returns a *DeclaredError when the object that key (or, when
// key is empty, name) designates is declared in a file.
func (c *Catalog) Declared(kind, key, name string) error {
	k, err := KeyOf(key, name)
	if err != nil {
		return nil // reported by the write itself
	}
	return c.refuseDeclared(kind, k)
}
