package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/execute"
	"github.com/lethehq/lethe/core/graph"
	"github.com/lethehq/lethe/core/store"
)

func init() {
	register(command{
		name:    "run",
		summary: "run one privacy request now, in this process (lethe run DIR --policy P --identity email=...)",
		run:     runRun,
	})
}

const runUsage = `Usage: lethe run DIR --policy NAME --identity NAME=VALUE [--identity NAME=VALUE ...]
       lethe run DIR --resume [REQUEST_ID]

Runs one privacy request with the configuration in DIR, in this process:
the configured plugins query the databases, the access package goes to the
policy's storage destinations, erasure rules mask what they target. State is
kept in server.state_dir (bbolt), so a run that was interrupted (Ctrl-C, a
crash, a killed process) continues where it stopped with --resume: finished
collections are not queried or masked again. --resume REQUEST_ID also
retries a request that ended in error, from its failed step.

Prints a line per collection as it finishes, then a summary. Identity values
are never printed.

Exit status: 0 when the request completes, 1 when it ends in error or cannot
start, 2 on a usage error, 3 when it was interrupted (resume it).

Flags:
`

// identityValues is the --identity flag of lethe run. Like identityNames it
// never fails in Set, so the flag package never echoes a value.
type identityValues struct {
	identityNames
	values map[string]string
}

func (f *identityValues) Set(arg string) error {
	before := len(f.names)
	_ = f.identityNames.Set(arg)
	if len(f.names) > before {
		name, value, _ := strings.Cut(arg, "=")
		if f.values == nil {
			f.values = map[string]string{}
		}
		f.values[strings.TrimSpace(name)] = value
	}
	return nil
}

type runArgs struct {
	policy       string
	identities   identityValues
	resume       bool
	pluginDir    string
	keyEnv       string
	startTimeout time.Duration
	logLevel     string
}

func runRun(args []string, stdout, stderr io.Writer) int {
	var a runArgs
	fs := flag.NewFlagSet("lethe run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&a.policy, "policy", "", "`NAME` of the policy the request runs")
	fs.Var(&a.identities, "identity", "identity the request supplies, as `NAME=VALUE` (repeat for several)")
	fs.BoolVar(&a.resume, "resume", false, "resume the interrupted request REQUEST_ID, or every unfinished one")
	fs.StringVar(&a.pluginDir, "plugin-dir", "", "the plugin `directory` (default: server.plugin_dir, else bin/plugins)")
	fs.StringVar(&a.keyEnv, "encryption-key-env", "", "name of an environment `VARIABLE` holding a base64 key (16, 24 or 32 bytes) that encrypts the access package")
	fs.DurationVar(&a.startTimeout, "start-timeout", 30*time.Second, "how long each plugin may take to start")
	fs.StringVar(&a.logLevel, "log-level", "warn", "log `level` on stderr: trace, debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprint(stderr, runUsage)
		fs.PrintDefaults()
	}
	pos, code := graphPlanArgs(fs, args)
	if code >= 0 {
		return code
	}
	var resumeID string
	switch {
	case a.resume && len(pos) == 2:
		resumeID = pos[1]
	case len(pos) != 1:
		fmt.Fprintln(stderr, "lethe run: give exactly one configuration directory")
		return 2
	}
	if !a.resume {
		if msg := a.identities.problem(); msg != "" {
			fmt.Fprintln(stderr, "lethe run:", msg)
			return 2
		}
		if a.policy == "" {
			fmt.Fprintln(stderr, "lethe run: give the request's policy with --policy NAME")
			return 2
		}
	}
	var resultKey []byte
	if a.keyEnv != "" {
		k, err := base64.StdEncoding.DecodeString(os.Getenv(a.keyEnv))
		if err != nil || len(k) == 0 {
			fmt.Fprintf(stderr, "lethe run: environment variable %s does not hold a base64 key\n", a.keyEnv)
			return 2
		}
		resultKey = k
	}

	cfg, diags := config.Load(pos[0])
	if !diags.HasErrors() {
		diags = append(diags, cfg.Validate()...)
	}
	if !diags.HasErrors() {
		_, gdiags := graph.Build(cfg.Datasets)
		diags = append(diags, gdiags...)
	}
	if !diags.HasErrors() {
		diags = append(diags, checkPluginConfigs(cfg, a.pluginDir, a.startTimeout)...)
	}
	if diags.HasErrors() {
		writeConfigDiagnostics(cfg, stderr, errorsOnly(diags))
		fmt.Fprintln(stderr, "lethe run: the configuration has errors; nothing was run")
		return 1
	}

	logger := hclog.New(&hclog.LoggerOptions{Name: "lethe", Level: hclog.LevelFromString(a.logLevel), Output: stderr})
	warn := func(msg string) { fmt.Fprintln(stderr, "lethe run: warning:", msg) }
	key, err := stateKey(cfg, warn)
	if err != nil {
		fmt.Fprintln(stderr, "lethe run:", err)
		return 1
	}
	st, err := store.Open(cfg.Server.StateDir, store.Options{Key: key, LockTimeout: time.Second})
	if err != nil {
		fmt.Fprintln(stderr, "lethe run:", err)
		return 1
	}
	defer st.Close()
	host, err := newHost(cfg, a.pluginDir, a.startTimeout, logger.Named("plugins"))
	if err != nil {
		fmt.Fprintln(stderr, "lethe run:", err)
		return 1
	}
	defer host.Close(context.Background())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	prog := newProgress(stdout)
	eng, err := execute.New(execute.Options{
		Config: cfg, Store: st, Plugins: execute.HostPlugins(host), Logger: logger,
		Observe: prog.observe, Failpoint: envFailpoint(),
	})
	if err != nil {
		fmt.Fprintln(stderr, "lethe run:", err)
		return 1
	}
	// The objects created through a daemon's API are part of the
	// configuration here too.
	if _, err := openCatalog(ctx, cfg, st, host, eng, logger.Named("catalog")); err != nil {
		fmt.Fprintln(stderr, "lethe run:", err)
		return 1
	}

	var ids []string
	if a.resume {
		if resumeID != "" {
			ids = []string{resumeID}
			// A request that ended in error is retried from its failed step,
			// as POST /privacy-request/{id}/retry does.
			if cur, err := st.Get(ctx, resumeID); err == nil && cur.Status == store.StatusError {
				if _, err := st.Transition(ctx, resumeID, []store.Status{store.StatusError}, store.StatusApproved,
					store.Event{Type: store.EventStatus, Status: store.StatusApproved}, func(r *store.Request) error {
						r.Reason = ""
						return nil
					}); err != nil {
					fmt.Fprintln(stderr, "lethe run: retry:", err)
					return 1
				}
				fmt.Fprintf(stdout, "Retrying request %s from its failed step.\n", resumeID)
			}
		} else {
			reqs, err := st.Unfinished(ctx, store.StatusApproved, store.StatusInProcessing)
			if err != nil {
				fmt.Fprintln(stderr, "lethe run:", err)
				return 1
			}
			for _, r := range reqs {
				ids = append(ids, r.ID)
			}
			if len(ids) == 0 {
				fmt.Fprintln(stdout, "No unfinished request to resume.")
				return 0
			}
		}
	} else {
		req, err := eng.Submit(ctx, execute.Submission{
			Policy: a.policy, Identities: a.identities.values, ResultKey: resultKey, Source: store.SourceCLI,
		})
		if err != nil {
			fmt.Fprintln(stderr, "lethe run:", err)
			return 1
		}
		ids = []string{req.ID}
		for _, name := range slices.Sorted(maps.Keys(req.Normalized)) {
			fmt.Fprintf(stdout, "Identity %s normalized at intake: %s\n", name, strings.Join(req.Normalized[name], ", "))
		}
	}

	exit := 0
	for _, id := range ids {
		fmt.Fprintf(stdout, "Request %s\n", id)
		prog.reset()
		started := time.Now()
		req, err := eng.Run(ctx, id)
		prog.done()
		switch {
		case req != nil && req.Status == store.StatusComplete:
			writeSummary(stdout, req, prog, time.Since(started))
		case err != nil && errors.Is(err, execute.ErrRequestFailed):
			if req != nil {
				writeSummary(stdout, req, prog, time.Since(started))
			}
			fmt.Fprintln(stderr, "lethe run: request failed:", strings.TrimPrefix(err.Error(), execute.ErrRequestFailed.Error()+": "))
			fmt.Fprintf(stderr, "lethe run: fix the cause, then retry it with: lethe run %s --resume %s\n", pos[0], id)
			exit = max(exit, 1)
		case err != nil && ctx.Err() != nil:
			fmt.Fprintf(stderr, "lethe run: interrupted; resume with: lethe run %s --resume %s\n", pos[0], id)
			return 3
		case err != nil:
			fmt.Fprintln(stderr, "lethe run:", err)
			exit = max(exit, 1)
		default:
			fmt.Fprintf(stdout, "Request %s is %s.\n", id, req.Status)
			if req.Status != store.StatusComplete {
				exit = max(exit, 1)
			}
		}
	}
	return exit
}

func errorsOnly(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

// envFailpoint reads LETHE_FAILPOINT ("POINT=ACTION", for crash tests):
// at the named execute point (e.g. access.finish:shop.orders) the action
// "exit" ends the process at once with status 137, as SIGKILL would, and
// "sleep" blocks until the process is killed.
func envFailpoint() func(string) error {
	spec := os.Getenv("LETHE_FAILPOINT")
	if spec == "" {
		return nil
	}
	point, action, _ := strings.Cut(spec, "=")
	return func(p string) error {
		if p != point {
			return nil
		}
		switch action {
		case "sleep":
			fmt.Fprintf(os.Stderr, "lethe: failpoint %s reached; sleeping\n", p)
			select {}
		default:
			os.Exit(137)
		}
		return nil
	}
}

// progress prints a line per finished step, and a live status line when
// stdout is a terminal.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	running  map[string]time.Time
	finished int
	steps    map[string]*stepResult
	order    []string
}

type stepResult struct {
	found, masked       int64
	shared              int64
	accessDur, eraseDur time.Duration
	status              string
	location            string
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	p.reset()
	return p
}

func (p *progress) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running = map[string]time.Time{}
	p.steps = map[string]*stepResult{}
	p.order = nil
	p.finished = 0
}

func (p *progress) step(name string) *stepResult {
	s := p.steps[name]
	if s == nil {
		s = &stepResult{status: "pending"}
		p.steps[name] = s
		p.order = append(p.order, name)
	}
	return s
}

func (p *progress) observe(ev execute.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Node == "" {
		return
	}
	key := string(ev.Phase) + " " + ev.Node
	var line string
	switch ev.Event {
	case store.EventNodeStarted:
		p.running[key] = time.Now()
	case store.EventNodeDone, store.EventUploadDone:
		delete(p.running, key)
		p.finished++
		switch ev.Phase {
		case store.PhaseAccess:
			s := p.step(ev.Node)
			s.found, s.shared, s.accessDur, s.status = ev.Rows, ev.Shared, ev.Duration, "found"
			line = fmt.Sprintf("access   %-32s %8s  %s", ev.Node, plural(int(ev.Rows), "row"), ev.Duration.Round(time.Millisecond))
			if ev.Shared > 0 {
				line += fmt.Sprintf("  (%d shared, not erased)", ev.Shared)
			}
		case store.PhaseErasure:
			s := p.step(ev.Node)
			s.masked, s.eraseDur, s.status = ev.Masked, ev.Duration, "masked"
			line = fmt.Sprintf("erasure  %-32s %8s  %s", ev.Node, plural(int(ev.Masked), "row"), ev.Duration.Round(time.Millisecond))
		case store.PhaseUpload:
			s := p.step("package " + ev.Node)
			s.location, s.status = ev.Location, "uploaded"
			line = fmt.Sprintf("package  %-32s %8s  %s", ev.Node, plural(int(ev.Rows), "row"), ev.Duration.Round(time.Millisecond))
		}
	case store.EventNodeSkipped:
		p.finished++
		if ev.Phase == store.PhaseErasure {
			s := p.step(ev.Node)
			if s.status == "found" {
				s.status = "not erased"
			}
		}
	case store.EventNodeRetry:
		line = fmt.Sprintf("retry    %-32s attempt %d failed: %v", ev.Node, ev.Attempt, ev.Err)
	case store.EventNodeFailed:
		delete(p.running, key)
		p.step(ev.Node).status = "error"
		line = fmt.Sprintf("failed   %-32s %v", ev.Node, ev.Err)
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	if line != "" {
		fmt.Fprintln(p.w, line)
	}
	if p.tty && len(p.running) > 0 {
		names := make([]string, 0, len(p.running))
		for k := range p.running {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Fprintf(p.w, "[%d done] running: %s", p.finished, strings.Join(names, ", "))
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// writeSummary prints the table of collections and where packages went.
func writeSummary(w io.Writer, req *store.Request, p *progress, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLECTION\tFOUND\tMASKED\tSHARED\tDURATION\tSTATUS")
	names := make([]string, 0, len(req.Counts))
	for k := range req.Counts {
		names = append(names, k)
	}
	for _, k := range p.order {
		if _, ok := req.Counts[k]; !ok && !strings.HasPrefix(k, "package ") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var shared []string
	for _, k := range names {
		c, counted := req.Counts[k]
		s := p.steps[k]
		if !counted && s != nil {
			// The request ended before its counts were recorded (an
			// error): show what this run saw.
			c.Found, c.Masked, c.Shared = s.found, s.masked, s.shared
		}
		status, dur := "done (earlier run)", time.Duration(0)
		if s != nil {
			status, dur = s.status, s.accessDur+s.eraseDur
		}
		if c.Shared > 0 {
			shared = append(shared, fmt.Sprintf("%s (%s)", k, plural(int(c.Shared), "row")))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", k, c.Found, c.Masked, c.Shared, dur.Round(time.Millisecond), status)
	}
	tw.Flush()
	if len(shared) > 0 {
		fmt.Fprintf(w, "\nShared, not erased: %s: found only through references declared shared; they belong to someone else, so the package holds only their fields that point at the subject.\n", strings.Join(shared, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Status: %s in %s\n", req.Status, took.Round(time.Millisecond))
	if req.Reason != "" {
		fmt.Fprintf(w, "Reason: %s\n", req.Reason)
	}
	for _, loc := range req.Locations {
		fmt.Fprintf(w, "Package: %s\n", loc)
	}
}
