package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/lethehq/lethe/core/graph"
	"github.com/lethehq/lethe/core/plan"
	"github.com/lethehq/lethe/core/policy"
)

func init() {
	register(command{
		name:    "plan",
		summary: "show what a request would query, in which order (lethe plan DIR --policy P --identity email=...)",
		run:     runPlan,
	})
}

const planUsage = `Usage: lethe plan DIR --policy NAME --identity NAME=VALUE [--identity NAME=VALUE ...] [--json]

Plans a privacy request against the configuration in DIR without running
it: the collections it would query, in order, with what each waits for and
which field values feed it; the erasure order when the policy has erasure
rules; and the collections it would skip, with the identities that would
reach them. Identity values are only checked for presence and are never
printed; the plan depends on which identities are given, not on their values.

Flags:
`

// QueryPreviewer returns the query text a node's connector would run (the
// connector's DryRun), shown under each collection by lethe plan. It is nil
// until plugins are wired into the CLI; set planQueryPreviewer then.
type QueryPreviewer func(ctx context.Context, node *plan.Node) (string, error)

// planQueryPreviewer is called for each planned collection when set.
var planQueryPreviewer QueryPreviewer

// identityNames is the --identity flag: it keeps identity names and
// discards values as soon as they are parsed. Set never fails, so that the
// flag package never echoes an argument (which holds a value); problems are
// reported by name after parsing.
type identityNames struct {
	names     []string
	malformed int      // arguments without NAME=VALUE
	empty     []string // names given with an empty value
	twice     []string // names given more than once
}

func (f *identityNames) String() string { return strings.Join(f.names, ",") }

func (f *identityNames) Set(arg string) error {
	name, value, ok := strings.Cut(arg, "=")
	name = strings.TrimSpace(name)
	switch {
	case !ok || name == "":
		f.malformed++
	case value == "":
		f.empty = append(f.empty, name)
	case containsString(f.names, name):
		f.twice = append(f.twice, name)
	default:
		f.names = append(f.names, name)
	}
	return nil
}

func (f *identityNames) problem() string {
	switch {
	case f.malformed > 0:
		return fmt.Sprintf("%d --identity argument(s) are not NAME=VALUE (for example --identity email=jane@example.com)", f.malformed)
	case len(f.empty) > 0:
		return fmt.Sprintf("--identity %s has an empty value; give a value or leave the identity out", f.empty[0])
	case len(f.twice) > 0:
		return fmt.Sprintf("--identity %s is given more than once; a request has one value per identity", f.twice[0])
	case len(f.names) == 0:
		return "give at least one --identity NAME=VALUE"
	}
	return ""
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type planArgs struct {
	policy     string
	identities identityNames
	json       bool
	queries    bool
	pluginDir  string
}

func planFlags(a *planArgs, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lethe plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&a.policy, "policy", "", "`NAME` of the policy the request runs")
	fs.Var(&a.identities, "identity", "identity the request supplies, as `NAME=VALUE` (repeat for several)")
	fs.BoolVar(&a.json, "json", false, "print the plan as JSON")
	fs.BoolVar(&a.queries, "queries", true, "show each collection's query from its connector's DryRun, when the plugins are built")
	fs.StringVar(&a.pluginDir, "plugin-dir", "", "the plugin `directory` (default: server.plugin_dir, else bin/plugins)")
	return fs
}

func runPlan(args []string, stdout, stderr io.Writer) int {
	var a planArgs
	fs := planFlags(&a, stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, planUsage)
		fs.PrintDefaults()
	}
	dirs, code := graphPlanArgs(fs, args)
	if code >= 0 {
		return code
	}
	if len(dirs) != 1 {
		fmt.Fprintln(stderr, "lethe plan: give exactly one configuration directory")
		return 2
	}
	if msg := a.identities.problem(); msg != "" {
		fmt.Fprintln(stderr, "lethe plan:", msg)
		return 2
	}
	if a.policy == "" {
		fmt.Fprintln(stderr, "lethe plan: give the request's policy with --policy NAME")
		return 2
	}
	cfg, g, diags, ok := loadCollectionGraph(dirs[0], stderr)
	if !ok {
		return 1
	}
	if diags.HasErrors() {
		writeConfigDiagnostics(cfg, stderr, diags)
		return 1
	}
	pol, err := findPolicy(cfg.Policies, a.policy)
	if err != nil {
		fmt.Fprintln(stderr, "lethe plan:", err)
		return 1
	}
	preview := planQueryPreviewer
	if preview == nil && a.queries && !a.json && pluginDirExists(pluginDirFor(cfg, a.pluginDir)) {
		host, err := newHost(cfg, a.pluginDir, 30*time.Second, nil)
		if err == nil {
			defer host.Close(context.Background())
			preview = dryRunPreviewer(cfg, host)
		}
	}
	return writePlan(stdout, stderr, g, pol, planRequest{identities: a.identities.names, normalize: cfg.Normalizations()}, a.json, preview)
}

// findPolicy returns the named policy, or an error listing the declared ones.
func findPolicy(policies []*policy.Policy, name string) (*policy.Policy, error) {
	var names []string
	for _, p := range policies {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no policy %q: the configuration declares no policy", name)
	}
	return nil, fmt.Errorf("no policy %q; declared policies: %s", name, strings.Join(names, ", "))
}

// hasErasure reports whether the policy has an erasure rule.
func hasErasure(p *policy.Policy) bool {
	for _, r := range p.Rules {
		if r.Action == policy.ActionErasure {
			return true
		}
	}
	return false
}

// planRequest is what a planned request supplies: identity names, and the
// normalizations the configuration declares for identities.
type planRequest struct {
	identities []string
	normalize  map[string][]string
}

// writePlan plans a request for pol supplying the named identities and
// prints it. It is the command's core, apart from loading.
func writePlan(stdout, stderr io.Writer, g *graph.Graph, pol *policy.Policy, req planRequest, asJSON bool, preview QueryPreviewer) int {
	p, err := plan.New(g, plan.Options{Identities: req.identities, Erasure: hasErasure(pol), Normalize: req.normalize})
	if err != nil {
		fmt.Fprintf(stderr, "lethe plan: policy %q: %v\n", pol.Name, err)
		return 1
	}
	if asJSON {
		out, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "lethe plan: encode plan: %v\n", err)
			return 1
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", out); err != nil {
			fmt.Fprintf(stderr, "lethe plan: write output: %v\n", err)
			return 1
		}
		return 0
	}
	var actions []string
	for _, r := range pol.Rules {
		if !containsString(actions, r.Action) {
			actions = append(actions, r.Action)
		}
	}
	sort.Strings(actions)
	fmt.Fprintf(stdout, "Policy: %s (%s)\n", pol.Name, strings.Join(actions, ", "))
	var note func(*plan.Node) []string
	if preview != nil {
		note = func(n *plan.Node) []string {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			q, err := preview(ctx, n)
			if err != nil {
				return []string{"query   (not available: " + err.Error() + ")"}
			}
			lines := strings.Split(strings.TrimRight(q, "\n"), "\n")
			for i, l := range lines {
				if i == 0 {
					lines[i] = "query   " + l
				} else {
					lines[i] = "        " + l
				}
			}
			return lines
		}
	}
	if err := p.RenderAnnotated(stdout, note); err != nil {
		fmt.Fprintf(stderr, "lethe plan: write output: %v\n", err)
		return 1
	}
	return 0
}
