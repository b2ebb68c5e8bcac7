package egress

import (
	"encoding/json"
	"fmt"
	"maps"
)

// ConfigKey is the key under which the host carries a configuration's
// policy inside its config map, from the catalog to the plugin client.
// The SDK's clients take it out and send it as the Configure request's
// egress field, so a plugin never sees it among its attributes. No schema
// attribute can be named so.
const ConfigKey = "lethe:egress"

// Attach returns a copy of cfg carrying p under ConfigKey.
func Attach(cfg map[string]any, p *Policy) (map[string]any, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("egress policy: %w", err)
	}
	out := maps.Clone(cfg)
	if out == nil {
		out = map[string]any{}
	}
	out[ConfigKey] = string(data)
	return out, nil
}

// Detach returns cfg without ConfigKey, and the policy it carried (nil
// when none).
func Detach(cfg map[string]any) (map[string]any, *Policy, error) {
	raw, ok := cfg[ConfigKey]
	if !ok {
		return cfg, nil, nil
	}
	out := maps.Clone(cfg)
	delete(out, ConfigKey)
	s, ok := raw.(string)
	if !ok {
		return out, nil, fmt.Errorf("egress policy: %s holds a %T, not a string", ConfigKey, raw)
	}
	var p Policy
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return out, nil, fmt.Errorf("egress policy: %w", err)
	}
	return out, &p, nil
}
