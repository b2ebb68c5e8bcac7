package importer

import (
	"fmt"
	"strconv"

	"github.com/lethehq/lethe/core/dataset"
)

// Options tunes a conversion.
type Options struct {
	// Connection is the connection every imported dataset is bound to.
	// Empty: each dataset names a connection after its own fides_key, and a
	// warning reminds the operator to declare it.
	Connection string
}

// Error is a problem in the input that stops the conversion. Line and
// Column are 1-based; 0 when unknown.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	return position(e.File, e.Line, e.Column) + ": " + e.Msg
}

func position(file string, line, col int) string {
	if file == "" {
		file = "<input>"
	}
	switch {
	case line <= 0:
		return file
	case col <= 0:
		return file + ":" + strconv.Itoa(line)
	default:
		return file + ":" + strconv.Itoa(line) + ":" + strconv.Itoa(col)
	}
}

// ParseFidesops reads a Fidesops dataset document (YAML or JSON: a
// top-level `dataset:` list, a bare list of datasets, or a single dataset;
// several YAML documents may follow each other) and returns the datasets it
// declares, in file order, with collections and fields in declaration order.
// Connection is left empty: the YAML does not say. Ranges point into the
// YAML (no file name). Warnings name the line they are about.
func ParseFidesops(src []byte) ([]*dataset.Dataset, []string, error) {
	dss, _, warnings, err := parse(src, "")
	return dss, warnings, err
}

// Fidesops converts a Fidesops dataset document into Lethe HCL. filename is
// used in warnings, errors and the header comment of the output.
func Fidesops(src []byte, filename string, opts Options) ([]byte, []string, error) {
	dss, nt, warnings, err := parse(src, filename)
	if err != nil {
		return nil, warnings, err
	}
	for _, ds := range dss {
		if opts.Connection != "" {
			ds.Connection = opts.Connection
			continue
		}
		ds.Connection = ds.Name
		warnings = append(warnings, fmt.Sprintf(
			"%s: dataset %q now uses connection %q, named after it; declare a connection block with that name, or run the import again with --connection NAME",
			position(filename, ds.Range.Start.Line, ds.Range.Start.Column), ds.Name, ds.Name))
	}
	return render(filename, dss, nt), warnings, nil
}
