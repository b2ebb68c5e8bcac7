package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lethehq/lethe/core/importer"
)

func init() {
	register(command{
		name:    "import",
		summary: "convert a Fidesops dataset YAML into Lethe HCL (lethe import fidesops FILE.yml)",
		run:     runImport,
	})
}

const importUsage = `Usage: lethe import fidesops FILE.yml [--connection NAME]

Converts a Fidesops dataset file (YAML or JSON) into Lethe HCL on standard
output. Warnings (unknown keys, data categories missing from the default
taxonomy, attributes Fidesops ignored) go to standard error; everything the
file says is kept in the output, as attributes or as comments.

Flags:
`

func runImport(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, importUsage)
		importFlags(new(string), stderr).PrintDefaults()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] != "fidesops" {
		fmt.Fprintf(stderr, "lethe import: unknown format %q; the only format is fidesops\n", args[0])
		return 2
	}
	var connection string
	fs := importFlags(&connection, stderr)
	// Flags may come before or after the file name.
	var files []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintln(stderr, "lethe import fidesops: give exactly one FILE.yml")
		return 2
	}
	src, err := os.ReadFile(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "lethe import: %v\n", err)
		return 1
	}
	out, warnings, err := importer.Fidesops(src, files[0], importer.Options{Connection: connection})
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "lethe import: write output: %v\n", err)
		return 1
	}
	return 0
}

func importFlags(connection *string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lethe import fidesops", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(connection, "connection", "", "connection `NAME` the imported datasets use (default: each dataset's fides_key)")
	return fs
}
