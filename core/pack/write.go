package pack

import (
	"archive/zip"
	"bufio"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/sdk/value"
)

// Writer serialises one package, collection by collection, streaming: it
// holds no more than one row.
type Writer interface {
	// Begin starts the collection "dataset:collection", whose rows sel
	// filtered.
	Begin(name string, sel *Selector) error
	// Row writes one filtered row of the current collection.
	Row(row map[string]any) error
	// Close ends the package; it does not close the underlying writer.
	Close() error
}

// ContentType is the MIME type of a package in format ("json" or "csv").
func ContentType(format string) string {
	if format == "csv" {
		return "application/zip"
	}
	return "application/json"
}

// Extension is the file extension of a package in format.
func Extension(format string) string {
	if format == "csv" {
		return ".zip"
	}
	return ".json"
}

// NewJSON returns a writer of the JSON format.
func NewJSON(w io.Writer) Writer { return &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)} }

type jsonWriter struct {
	w       *bufio.Writer
	name    string
	started bool // the top-level object is open
	open    bool // the current collection's array is open
	rowsIn  int
	err     error
}

func (j *jsonWriter) Begin(name string, _ *Selector) error {
	if j.err != nil {
		return j.err
	}
	j.closeCollection()
	j.name, j.open, j.rowsIn = name, false, 0
	return j.err
}

func (j *jsonWriter) closeCollection() {
	if j.open {
		j.w.WriteByte(']')
		j.open = false
	}
}

func (j *jsonWriter) Row(row map[string]any) error {
	if j.err != nil {
		return j.err
	}
	if j.name == "" {
		return errors.New("pack: Row before Begin")
	}
	if !j.open {
		if !j.started {
			j.w.WriteByte('{')
			j.started = true
		} else {
			j.w.WriteByte(',')
		}
		writeJSONString(j.w, j.name)
		j.w.WriteString(":[")
		j.open = true
	} else {
		j.w.WriteByte(',')
	}
	if err := writeJSON(j.w, row, 0); err != nil {
		j.err = err
		return err
	}
	j.rowsIn++
	return nil
}

func (j *jsonWriter) Close() error {
	if j.err != nil {
		return j.err
	}
	j.closeCollection()
	if !j.started {
		j.w.WriteByte('{')
	}
	j.w.WriteByte('}')
	j.err = j.w.Flush()
	if j.err == nil {
		j.err = errors.New("pack: writer closed")
		return nil
	}
	return j.err
}

const maxDepth = 100

// writeJSON writes v with the package's typed encoding.
func writeJSON(w *bufio.Writer, v any, depth int) error {
	if depth > maxDepth {
		return errors.New("pack: value nested deeper than 100 levels")
	}
	switch x := v.(type) {
	case nil:
		w.WriteString("null")
	case bool:
		w.WriteString(strconv.FormatBool(x))
	case int64:
		w.WriteString(strconv.FormatInt(x, 10))
	case float64:
		switch {
		case math.IsNaN(x):
			w.WriteString(`"NaN"`)
		case math.IsInf(x, 1):
			w.WriteString(`"+Inf"`)
		case math.IsInf(x, -1):
			w.WriteString(`"-Inf"`)
		default:
			w.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case string:
		writeJSONString(w, x)
	case []byte:
		writeJSONString(w, base64.StdEncoding.EncodeToString(x))
	case time.Time:
		writeJSONString(w, x.Format(time.RFC3339Nano))
	case value.LocalTime:
		// No zone in, none out: "2021-01-01T01:00:00", as the reference
		// system wrote it, not a "Z" that claims UTC.
		writeJSONString(w, x.String())
	case value.Decimal:
		if !x.Valid() {
			return fmt.Errorf("pack: invalid decimal %q", string(x))
		}
		w.WriteString(string(x))
	case value.ObjectID:
		writeJSONString(w, x.String())
	case []any:
		w.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeJSON(w, e, depth+1); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.WriteByte(',')
			}
			writeJSONString(w, k)
			w.WriteByte(':')
			if err := writeJSON(w, x[k], depth+1); err != nil {
				return err
			}
		}
		w.WriteByte('}')
	default:
		return fmt.Errorf("pack: unsupported value type %T", v)
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// writeJSONString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func writeJSONString(w *bufio.Writer, s string) {
	w.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < 0x80 {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			w.WriteString(s[start:i])
			switch b {
			case '"', '\\':
				w.WriteByte('\\')
				w.WriteByte(b)
			case '\n':
				w.WriteString(`\n`)
			case '\r':
				w.WriteString(`\r`)
			case '\t':
				w.WriteString(`\t`)
			default:
				w.WriteString(`\u00`)
				w.WriteByte(hexDigits[b>>4])
				w.WriteByte(hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\uFFFD' && size == 1 {
			w.WriteString(s[start:i])
			w.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			w.WriteString(s[start:i])
			w.WriteString(`\u202`)
			w.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	w.WriteString(s[start:])
	w.WriteByte('"')
}

// NewCSV returns a writer of the CSV format: a zip with one file per
// collection.
func NewCSV(w io.Writer) Writer { return &csvWriter{zw: zip.NewWriter(w)} }

type csvWriter struct {
	zw      *zip.Writer
	name    string
	paths   []dataset.Path
	cw      *csv.Writer
	started bool
	err     error
	buf     *bufio.Writer
	record  []string
}

func (c *csvWriter) Begin(name string, sel *Selector) error {
	if c.err != nil {
		return c.err
	}
	if err := c.flush(); err != nil {
		return err
	}
	c.name, c.started, c.cw = name, false, nil
	c.paths = nil
	if sel != nil {
		c.paths = sel.Paths()
	}
	return nil
}

func (c *csvWriter) flush() error {
	if c.cw == nil {
		return nil
	}
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		c.err = err
		return err
	}
	if err := c.buf.Flush(); err != nil {
		c.err = err
		return err
	}
	return nil
}

// FileName is the CSV file of a collection "dataset:collection".
func FileName(name string) string { return strings.ReplaceAll(name, ":", ".") + ".csv" }

func (c *csvWriter) Row(row map[string]any) error {
	if c.err != nil {
		return c.err
	}
	if c.name == "" {
		return errors.New("pack: Row before Begin")
	}
	if !c.started {
		f, err := c.zw.CreateHeader(&zip.FileHeader{Name: FileName(c.name), Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()})
		if err != nil {
			c.err = err
			return err
		}
		c.buf = bufio.NewWriterSize(f, 64<<10)
		c.cw = csv.NewWriter(c.buf)
		header := make([]string, len(c.paths))
		for i, p := range c.paths {
			header[i] = p.String()
		}
		if err := c.cw.Write(header); err != nil {
			c.err = err
			return err
		}
		c.started = true
	}
	c.record = c.record[:0]
	for _, p := range c.paths {
		cell, err := c.cellAt(row, p)
		if err != nil {
			c.err = err
			return err
		}
		c.record = append(c.record, cell)
	}
	if err := c.cw.Write(c.record); err != nil {
		c.err = err
		return err
	}
	return nil
}

// cellAt is the text of the value at path p in row: scalars as text,
// anything under a list, and lists and maps themselves, as JSON.
func (c *csvWriter) cellAt(row map[string]any, p dataset.Path) (string, error) {
	var v any = row
	for _, seg := range p {
		switch x := v.(type) {
		case map[string]any:
			cv, ok := x[seg]
			if !ok {
				return "", nil
			}
			v = cv
		case []any:
			// A list of objects: the column shows each element's value.
			vals := make([]any, 0, len(x))
			for _, e := range x {
				if m, ok := e.(map[string]any); ok {
					if ev, ok := m[seg]; ok {
						vals = append(vals, ev)
					}
				}
			}
			v = vals
		default:
			return "", nil
		}
	}
	s, err := scalarText(v)
	if err != nil {
		return "", err
	}
	return escapeFormula(s), nil
}

func scalarText(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case value.Decimal:
		return string(x), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case value.LocalTime:
		return x.String(), nil
	case []byte:
		return base64.StdEncoding.EncodeToString(x), nil
	case value.ObjectID:
		return x.String(), nil
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN", nil
		case math.IsInf(x, 1):
			return "+Inf", nil
		case math.IsInf(x, -1):
			return "-Inf", nil
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	var sb strings.Builder
	bw := bufio.NewWriter(&sb)
	if err := writeJSON(bw, v, 0); err != nil {
		return "", err
	}
	if err := bw.Flush(); err != nil {
		return "", err
	}
	return sb.String(), nil
}

// escapeFormula defuses cells a spreadsheet would evaluate.
func escapeFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		// Plain numbers such as -12 stay numbers.
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return s
		}
		return "'" + s
	}
	return s
}

func (c *csvWriter) Close() error {
	if c.err != nil {
		return c.err
	}
	if err := c.flush(); err != nil {
		return err
	}
	if err := c.zw.Close(); err != nil {
		c.err = err
		return err
	}
	c.err = errors.New("pack: writer closed")
	return nil
}
