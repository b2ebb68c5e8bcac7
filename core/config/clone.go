package config

import (
	"maps"
	"slices"
	"strings"
)

// Clone returns a copy of c whose lists of connections, storages,
// datasets and policies, and whose remembered secrets, can be changed
// without touching c. The elements themselves are shared: replace an
// element rather than changing it.
func (c *Config) Clone() *Config {
	n := *c
	n.Plugins = slices.Clone(c.Plugins)
	n.Connections = slices.Clone(c.Connections)
	n.Storages = slices.Clone(c.Storages)
	n.Datasets = slices.Clone(c.Datasets)
	n.Policies = slices.Clone(c.Policies)
	n.Categories = slices.Clone(c.Categories)
	n.Identities = slices.Clone(c.Identities)
	n.secrets = maps.Clone(c.secrets)
	n.sensitive = maps.Clone(c.sensitive)
	if n.secrets == nil {
		n.secrets = map[string]bool{}
	}
	if n.sensitive == nil {
		n.sensitive = map[string]bool{}
	}
	return &n
}

// RememberSecret adds a value that diagnostics must never show (a secret
// given through the API rather than a file).
func (c *Config) RememberSecret(v string) {
	if c.secrets == nil {
		c.secrets = map[string]bool{}
	}
	if len(v) >= minSecretLen {
		c.secrets[v] = true
	}
}

// Sanitize removes remembered secrets from diagnostics made outside this
// package.
func (c *Config) Sanitize(diags []string) []string {
	out := make([]string, len(diags))
	secrets := c.secretList()
	for i, d := range diags {
		for _, s := range secrets {
			d = strings.ReplaceAll(d, s, redacted)
		}
		out[i] = d
	}
	return out
}
