package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/importer"
	"github.com/lethehq/lethe/core/policy"
)

// PolicyObject is a policy created through the API, with its rules.
type PolicyObject struct {
	Name               string       `json:"name"`
	DRPAction          string       `json:"drp_action,omitempty"`
	ExecutionTimeframe string       `json:"execution_timeframe,omitempty"`
	Rules              []RuleObject `json:"rules,omitempty"`
}

// RuleObject is a rule of a policy created through the API.
type RuleObject struct {
	Key     string          `json:"key"`
	Name    string          `json:"name"`
	Action  string          `json:"action_type"`
	Storage string          `json:"storage_destination_key,omitempty"`
	Masking []MaskingObject `json:"masking,omitempty"`
	Targets []TargetObject  `json:"targets,omitempty"`
}

// MaskingObject is one masking step: the reference system's
// {strategy, configuration}.
type MaskingObject struct {
	Strategy      string         `json:"strategy"`
	Configuration map[string]any `json:"configuration,omitempty"`
}

// TargetObject is a rule's target: a data category.
type TargetObject struct {
	Key          string `json:"key"`
	Name         string `json:"name,omitempty"`
	DataCategory string `json:"data_category"`
}

// StorageObject is a storage destination created through the API, in the
// reference system's shape: type is the storage plugin, details its
// config (secrets are kept apart and merged in when it is used).
type StorageObject struct {
	Name    string         `json:"name"`
	Type    string         `json:"type"`
	Format  string         `json:"format,omitempty"`
	Details map[string]any `json:"details,omitempty"`
}

// ConnectionObject is a connection created through the API.
type ConnectionObject struct {
	Name           string         `json:"name"`
	ConnectionType string         `json:"connection_type"`
	Access         string         `json:"access"`
	MaxParallel    int            `json:"max_parallel,omitempty"`
	Config         map[string]any `json:"config,omitempty"`
}

// DatasetObject is a dataset created through the API: the reference
// system's dataset JSON (fides_key, collections, fields with fidesops_meta)
// bound to a connection.
type DatasetObject struct {
	Connection string          `json:"connection"`
	Dataset    json.RawMessage `json:"dataset"`
}

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// KeyOf returns key, or one made from name the way the reference system
// makes it (lower case, runs of other characters as '_') when key is empty.
func KeyOf(key, name string) (string, error) {
	if key == "" {
		key = strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(name), "_"), "_")
		if key == "" {
			return "", errors.New("give a key or a name made of letters and digits")
		}
	}
	if !keyPattern.MatchString(key) {
		return "", fmt.Errorf("key %q: use 1-128 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'", key)
	}
	return key, nil
}

func (p PolicyObject) policy(key string) (*policy.Policy, error) {
	pol := &policy.Policy{Name: key, DRPAction: p.DRPAction}
	if p.ExecutionTimeframe != "" {
		d, err := policy.ParseDuration(p.ExecutionTimeframe)
		if err != nil {
			return nil, fmt.Errorf("execution_timeframe: %w", err)
		}
		pol.ExecutionTimeframe = d
	}
	for _, r := range p.Rules {
		rule := &policy.Rule{Name: r.Key, Action: r.Action, Storage: r.Storage}
		for _, t := range r.Targets {
			rule.Targets = append(rule.Targets, t.DataCategory)
		}
		for i, m := range r.Masking {
			mk, err := m.masking()
			if err != nil {
				return nil, fmt.Errorf("rule %q: masking step %d: %w", r.Key, i+1, err)
			}
			rule.Masking = append(rule.Masking, mk)
		}
		pol.Rules = append(pol.Rules, rule)
	}
	return pol, nil
}

// masking reads a step's configuration: the parameters of the HCL masking
// block, with the reference system's format_preservation {suffix}.
func (m MaskingObject) masking() (policy.Masking, error) {
	out := policy.Masking{Strategy: m.Strategy}
	for k, v := range m.Configuration {
		var ok bool
		switch k {
		case "rewrite_value":
			out.RewriteValue, ok = v.(string)
		case "length":
			var n float64
			n, ok = number(v)
			out.Length = int(n)
			ok = ok && n == float64(int(n))
		case "algorithm":
			out.Algorithm, ok = v.(string)
		case "mode":
			out.Mode, ok = v.(string)
		case "format_preservation":
			fp, isMap := v.(map[string]any)
			if !isMap {
				return out, errors.New(`format_preservation must be an object like {"suffix": "@masked.example"}`)
			}
			for fk := range fp {
				if fk != "suffix" {
					return out, fmt.Errorf("format_preservation has no parameter %q; it has suffix", fk)
				}
			}
			out.Suffix, ok = fp["suffix"].(string)
		default:
			return out, fmt.Errorf("strategy %q has no parameter %q", m.Strategy, k)
		}
		if !ok {
			return out, fmt.Errorf("parameter %q has the wrong type", k)
		}
	}
	return out, nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// decodeDataset reads a DatasetObject into the dataset model.
func decodeDataset(raw json.RawMessage) (*dataset.Dataset, error) {
	var obj DatasetObject
	if err := strictJSON(raw, &obj); err != nil {
		return nil, fmt.Errorf("stored record: %w", err)
	}
	dss, _, err := importer.ParseFidesops(obj.Dataset)
	if err != nil {
		return nil, err
	}
	if len(dss) != 1 {
		return nil, fmt.Errorf("holds %d datasets, want 1", len(dss))
	}
	ds := dss[0]
	ds.Connection = obj.Connection
	return ds, nil
}

// mergeSecret returns details with the secret's keys added (a secret key
// replaces a details key). For S3 the reference system's key names
// (aws_access_key_id, aws_secret_access_key) are accepted as well.
func mergeSecret(details map[string]any, secret json.RawMessage, plugin string) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range details {
		out[k] = v
	}
	if secret == nil {
		return out, nil
	}
	m, err := decodeMap(secret)
	if err != nil {
		return nil, fmt.Errorf("stored secret: %w", err)
	}
	for k, v := range m {
		if plugin == "s3" {
			switch k {
			case "aws_access_key_id":
				k = "access_key_id"
			case "aws_secret_access_key":
				k = "secret_access_key"
			}
		}
		out[k] = v
	}
	return out, nil
}

// decodeMap decodes a JSON object into loosely typed Go values: whole
// numbers as int64, others as float64.
func decodeMap(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("expected a JSON object")
	}
	return normalize(m).(map[string]any), nil
}

func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

// Views, as the API returns them.

// PolicyView is a policy of the configuration in force.
type PolicyView struct {
	Key                string     `json:"key"`
	Name               string     `json:"name"`
	DRPAction          string     `json:"drp_action"`
	ExecutionTimeframe string     `json:"execution_timeframe,omitempty"`
	Rules              []RuleView `json:"rules"`
	// DeclaredIn names the HCL file of a declared policy; empty for one
	// created through the API.
	DeclaredIn string `json:"declared_in,omitempty"`
}

// RuleView is a rule of a policy; masking parameters are not shown.
type RuleView struct {
	Key     string       `json:"key"`
	Name    string       `json:"name"`
	Action  string       `json:"action_type"`
	Storage string       `json:"storage_destination,omitempty"`
	Masking []string     `json:"masking_strategies,omitempty"`
	Targets []TargetView `json:"targets"`
}

// TargetView is a rule's target.
type TargetView struct {
	Key          string `json:"key"`
	Name         string `json:"name,omitempty"`
	DataCategory string `json:"data_category"`
}

func formatDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
