package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/graph"
)

func init() {
	register(command{
		name:    "graph",
		summary: "draw the collection graph of a configuration (lethe graph DIR --format dot|mermaid)",
		run:     runGraph,
	})
}

const graphUsage = `Usage: lethe graph DIR [--format dot|mermaid]

Prints the graph of every collection the configuration in DIR declares, for
Graphviz (dot -Tsvg) or Mermaid: collections grouped by dataset, identities
pointing at the collections they seed, references labelled with their
fields (an arrow when a direction is declared, an undirected dashed line
when the traversal orients it), and after constraints as dotted edges.

When the graph has errors (cycles, unreachable collections), they are
reported on standard error, the graph is still printed, and the exit
status is 1.

Flags:
`

func graphFlags(format *string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lethe graph", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(format, "format", "dot", "output `FORMAT`: dot or mermaid")
	return fs
}

func runGraph(args []string, stdout, stderr io.Writer) int {
	var format string
	fs := graphFlags(&format, stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, graphUsage)
		fs.PrintDefaults()
	}
	dirs, code := graphPlanArgs(fs, args)
	if code >= 0 {
		return code
	}
	if len(dirs) != 1 {
		fmt.Fprintln(stderr, "lethe graph: give exactly one configuration directory")
		return 2
	}
	write := (*graph.Graph).WriteDOT
	switch format {
	case "dot":
	case "mermaid":
		write = (*graph.Graph).WriteMermaid
	default:
		fmt.Fprintf(stderr, "lethe graph: unknown --format %q; use dot or mermaid\n", format)
		return 2
	}
	cfg, g, diags, ok := loadCollectionGraph(dirs[0], stderr)
	if !ok {
		return 1
	}
	if err := write(g, stdout); err != nil {
		fmt.Fprintf(stderr, "lethe graph: write output: %v\n", err)
		return 1
	}
	if diags.HasErrors() {
		writeConfigDiagnostics(cfg, stderr, diags)
		return 1
	}
	return 0
}

// graphPlanArgs parses flags that may come before or after the
// positional arguments, which it returns. code is -1 to go on, or the exit
// status to return (0 after -h, 2 on a bad flag).
func graphPlanArgs(fs *flag.FlagSet, args []string) (positional []string, code int) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0
			}
			return nil, 2
		}
		if fs.NArg() == 0 {
			return positional, -1
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// loadCollectionGraph loads the structure of the configuration in dir (env()
// variables need not be set: see config.LoadStructure), validates it and
// builds its collection graph. Load or Validate errors are written to
// stderr and ok is false. The graph's own diagnostics (graph.Build) are
// returned for the caller to decide on; the graph is usable for drawing
// even when they hold errors, not for planning.
func loadCollectionGraph(dir string, stderr io.Writer) (cfg *config.Config, g *graph.Graph, graphDiags hcl.Diagnostics, ok bool) {
	cfg, diags := config.LoadStructure(dir)
	if !diags.HasErrors() {
		diags = append(diags, cfg.Validate()...)
	}
	if diags.HasErrors() {
		writeConfigDiagnostics(cfg, stderr, diags)
		return cfg, nil, nil, false
	}
	g, graphDiags = graph.Build(cfg.Datasets)
	return cfg, g, graphDiags, true
}

// writeConfigDiagnostics renders errors and warnings with source snippets
// (secrets masked).
func writeConfigDiagnostics(cfg *config.Config, w io.Writer, diags hcl.Diagnostics) {
	if cfg == nil {
		for _, d := range diags {
			fmt.Fprintln(w, d.Error())
		}
		return
	}
	if err := cfg.WriteDiagnostics(w, diags, 100, false); err != nil {
		fmt.Fprintf(w, "lethe: write diagnostics: %v\n", err)
	}
}
