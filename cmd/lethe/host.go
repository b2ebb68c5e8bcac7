package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/plan"
	"github.com/lethehq/lethe/core/pluginhost"
	"github.com/lethehq/lethe/sdk/connector"
)

// pluginDirFor returns the plugin directory: the flag when given, else the
// configuration's server.plugin_dir, else bin/plugins.
func pluginDirFor(cfg *config.Config, override string) string {
	switch {
	case override != "":
		return override
	case cfg != nil && cfg.Server.PluginDir != "":
		return cfg.Server.PluginDir
	}
	return "bin/plugins"
}

// newHost opens the plugin host a configuration asks for: its plugin
// directory, its pins, and the configuration directory as the plugins'
// working directory (so relative paths in config objects resolve there).
func newHost(cfg *config.Config, dirOverride string, startTimeout time.Duration, logger hclog.Logger) (*pluginhost.Host, error) {
	pins := map[string]pluginhost.Pin{}
	for _, p := range cfg.Plugins {
		pins[p.Name] = pluginhost.Pin{Path: p.Path, SHA256: p.SHA256, StartTimeout: p.StartTimeout, Env: p.Env}
	}
	opts := pluginhost.Options{
		Dir: pluginDirFor(cfg, dirOverride), Pins: pins, StartTimeout: startTimeout,
		Logger: logger, WorkDir: cfg.Dir,
	}
	if cfg.Server.StateDir != "" {
		// Digests of unchanged binaries are not computed again by later
		// commands; pins are still checked against the bytes at every exec.
		opts.SumCache = filepath.Join(cfg.Server.StateDir, "plugin-sums.json")
	}
	return pluginhost.New(opts)
}

// dryRunPreviewer shows, for each planned collection, the query its
// connector would run, from the connector's DryRun. Each connection is
// configured once, as an instance named after it.
func dryRunPreviewer(cfg *config.Config, host *pluginhost.Host) QueryPreviewer {
	var mu sync.Mutex
	configured := map[string]error{}
	return func(ctx context.Context, n *plan.Node) (string, error) {
		conn := cfg.Connection(n.Dataset.Connection)
		if conn == nil {
			return "", fmt.Errorf("dataset %s names no declared connection", n.Dataset.Name)
		}
		c, err := host.Connector(conn.Plugin)
		if err != nil {
			return "", err
		}
		// An instance of its own: configuring the engine's (named after the
		// connection) would replace it under a running request's feet. A
		// changed config (through the API) gets a new one.
		fp, err := json.Marshal(conn.Config)
		if err != nil {
			return "", fmt.Errorf("connection %s: %w", conn.Name, err)
		}
		sum := sha256.Sum256(fp)
		id := "preview-" + conn.Name + "-" + hex.EncodeToString(sum[:6])
		mu.Lock()
		cerr, done := configured[id]
		if !done {
			diags, err := c.Configure(ctx, id, conn.Config)
			if err == nil {
				err = diags.Err()
			}
			configured[id] = err
			cerr = err
		}
		mu.Unlock()
		if cerr != nil {
			return "", fmt.Errorf("connection %s: %w", conn.Name, cerr)
		}
		return c.DryRun(ctx, id, previewRequest(n))
	}
}

// previewRequest is the access request a node sends, with one placeholder
// value per filter: the planner knows which fields filter, not the values.
func previewRequest(n *plan.Node) connector.AccessRequest {
	req := connector.AccessRequest{
		RequestID:  "preview",
		Collection: connector.Collection{Dataset: n.Address.Dataset, Name: n.Address.Collection},
	}
	for _, f := range n.Collection.Fields {
		req.Fields = append(req.Fields, connector.Path{f.Name})
	}
	seen := map[string]bool{}
	var filters []string
	for _, s := range n.Seeds {
		filters = append(filters, s.Field.String())
	}
	for _, in := range n.Inputs {
		filters = append(filters, in.To.String())
	}
	sort.Strings(filters)
	for _, f := range filters {
		if seen[f] {
			continue
		}
		seen[f] = true
		field := n.Collection.Field(dataset.Path(splitPath(f)))
		var placeholder any = "?"
		if field != nil && field.Type == "integer" {
			placeholder = int64(0)
		}
		req.Filters = append(req.Filters, connector.Filter{Field: splitPath(f), Values: []any{placeholder}})
	}
	return req
}

func splitPath(s string) connector.Path {
	var out connector.Path
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// pluginDirExists reports whether dir is a readable directory.
func pluginDirExists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}
