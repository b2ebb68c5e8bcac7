package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/graph"
	"github.com/lethehq/lethe/sdk/schema"
)

func init() {
	register(command{
		name:    "validate",
		summary: "check a configuration directory and report problems with file:line (lethe validate DIR)",
		run:     runValidate,
	})
}

const validateUsage = `Usage: lethe validate [--plugins] [--plugin-dir DIR] CONFIG_DIR

Loads every *.hcl file of CONFIG_DIR and checks it: syntax, blocks and
attributes, types, duplicates, data categories, references between
datasets, policies and masking, and the collection graph (cycles, and
collections no identity reaches). Problems are printed on standard error
with the file, line and a snippet (secret values masked); a one-line
summary goes to standard output.

Each connection's and storage's config is also checked against the schema
its plugin describes (every plugin used is started once to ask) when the
plugin directory exists; --plugins makes a missing plugin directory an
error, --plugins=false skips the check.

Exit status: 0 when there is no error (warnings are printed), 1 when there
are errors, 2 on a usage error.

Flags:
`

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lethe validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	checkPlugins := &autoBool{value: "auto"}
	fs.Var(checkPlugins, "plugins", "check plugin configs against the plugins' schemas, starting each plugin once: true, false, or auto (when the plugin directory exists)")
	pluginDir := fs.String("plugin-dir", "", "the plugin `directory` for --plugins (default: server.plugin_dir, else bin/plugins)")
	startTimeout := fs.Duration("start-timeout", 30*time.Second, "how long each plugin may take to start, for --plugins")
	fs.Usage = func() {
		fmt.Fprint(stderr, validateUsage)
		fs.PrintDefaults()
	}
	// Flags may come before or after the directory.
	var dirs []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(dirs) != 1 {
		fmt.Fprintln(stderr, "lethe validate: give exactly one configuration directory")
		fs.Usage()
		return 2
	}
	dir := dirs[0]

	cfg, diags := config.Load(dir)
	if !diags.HasErrors() {
		diags = append(diags, cfg.Validate()...)
	}
	// The graph checks assume declarations that are valid on their own:
	// they run once the rest is fixed.
	if !diags.HasErrors() {
		_, gdiags := graph.Build(cfg.Datasets)
		diags = append(diags, gdiags...)
	}
	doPlugins := checkPlugins.value == "true" ||
		(checkPlugins.value == "auto" && pluginDirExists(pluginDirFor(cfg, *pluginDir)))
	if doPlugins && !diags.HasErrors() {
		diags = append(diags, checkPluginConfigs(cfg, *pluginDir, *startTimeout)...)
	}
	if err := cfg.WriteDiagnostics(stderr, diags, 0, false); err != nil {
		fmt.Fprintf(stderr, "lethe validate: write diagnostics: %v\n", err)
	}

	s := cfg.Summary()
	errs, warns := 0, 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			warns++
		}
	}
	verdict := "valid"
	if errs > 0 {
		verdict = "invalid, " + plural(errs, "error")
	}
	if warns > 0 {
		verdict += ", " + plural(warns, "warning")
	}
	fmt.Fprintf(stdout, "%s: %s, %s, %s: %s\n", dir,
		plural(s.Datasets, "dataset"), plural(s.Collections, "collection"), plural(s.Policies, "policy"), verdict)
	if errs > 0 {
		return 1
	}
	return 0
}

// checkPluginConfigs starts the plugins the configuration uses, once each,
// and checks configs against their schemas.
func checkPluginConfigs(cfg *config.Config, dir string, startTimeout time.Duration) hcl.Diagnostics {
	host, err := newHost(cfg, dir, startTimeout, nil)
	if err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the plugin directory",
			Detail:   fmt.Sprintf("%v. Pass --plugin-dir or set server.plugin_dir.", err),
			Subject:  &hcl.Range{Filename: cfg.Dir, Start: hcl.InitialPos, End: hcl.InitialPos},
		}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout+time.Minute)
	defer cancel()
	defer host.Close(ctx)
	return cfg.CheckPluginConfigs(func(kind, name string) (schema.Schema, error) {
		info, err := host.Info(ctx, kind, name)
		if err != nil {
			return schema.Schema{}, err
		}
		return info.Config, nil
	})
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if word == "policy" {
		return fmt.Sprintf("%d policies", n)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// autoBool is a flag that is true, false or auto; a bare --plugins is true.
type autoBool struct{ value string }

func (a *autoBool) String() string   { return a.value }
func (a *autoBool) IsBoolFlag() bool { return true }
func (a *autoBool) Set(s string) error {
	switch s {
	case "true", "false", "auto":
		a.value = s
		return nil
	case "1", "yes":
		a.value = "true"
		return nil
	case "0", "no":
		a.value = "false"
		return nil
	}
	return fmt.Errorf("want true, false or auto")
}
