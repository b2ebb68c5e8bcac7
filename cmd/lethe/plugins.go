package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/core/pluginhost"
)

func init() {
	register(command{
		name:    "plugins",
		summary: "list the plugins in the plugin directory and check that each starts",
		run:     runPlugins,
	})
}

func runPlugins(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugins", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: lethe plugins [--plugin-dir DIR] [--json] [--start-timeout 30s] [--verbose]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Lists the lethe-connector-* and lethe-storage-* binaries of the plugin directory. Each")
		fmt.Fprintln(stderr, "is started once, asked to describe itself, and stopped. A plugin that cannot start is")
		fmt.Fprintln(stderr, "listed as failed, with the reason.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	dir := fs.String("plugin-dir", "bin/plugins", "the plugin `directory`")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	timeout := fs.Duration("start-timeout", 30*time.Second, "how long each plugin may take to start")
	verbose := fs.Bool("verbose", false, "log plugin start-up, and the plugins' own log lines, to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lethe plugins: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}

	logger := hclog.NewNullLogger()
	if *verbose {
		logger = hclog.New(&hclog.LoggerOptions{Name: "lethe", Output: stderr, Level: hclog.Debug})
	}
	h, err := pluginhost.New(pluginhost.Options{Dir: *dir, Logger: logger, StartTimeout: *timeout})
	if err != nil {
		fmt.Fprintf(stderr, "lethe plugins: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout+30*time.Second)
	defer cancel()
	statuses := h.Fingerprint(ctx)
	if err := h.Close(ctx); err != nil {
		fmt.Fprintf(stderr, "lethe plugins: %v\n", err)
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(statuses); err != nil {
			fmt.Fprintf(stderr, "lethe plugins: %v\n", err)
			return 1
		}
		return 0
	}
	if len(statuses) == 0 {
		fmt.Fprintf(stderr, "lethe plugins: no plugins in %s (looking for executables named lethe-connector-<name> or lethe-storage-<name>)\n", *dir)
		return 0
	}
	printPlugins(stdout, statuses)
	return 0
}

// printPlugins writes one line per plugin binary.
func printPlugins(w io.Writer, statuses []pluginhost.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tVERSION\tPROTOCOL\tCAPABILITIES\tSHA256\tSTATUS")
	for _, st := range statuses {
		sum := st.SHA256
		if len(sum) > 12 {
			sum = sum[:12]
		}
		if st.Pinned {
			sum += " (pinned)"
		}
		status := string(st.State)
		if st.Reason != "" {
			status += ": " + st.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.Kind, st.Name, dash(st.Version), dash(st.Protocol),
			dash(strings.Join(st.Capabilities, ",")), dash(sum), status)
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
