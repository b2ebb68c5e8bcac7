package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// conn implements connector.Instance; the compiler checks it here.
var _ connector.Instance = (*conn)(nil)

// conn is one configured connection. The SDK calls its methods from many
// goroutines at once (several nodes of a request, several requests), so it
// must be safe for concurrent use.
type conn struct {
	path     string
	readOnly bool
}

// fileLock orders readers and writers of the JSON files in this process:
// Erase rewrites a whole file. One lock for every file keeps the example
// short; a database connector relies on the database's transactions
// instead.
var fileLock sync.RWMutex

// newConn is the Definition's New. cfg has been validated against the
// schema. An error here becomes a diagnostic the operator sees, so it says
// what to fix.
func newConn(_ context.Context, cfg schema.Config) (connector.Instance, error) {
	path := cfg.String("path")
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("path %s: %w; set path to an existing JSON file", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("path %s is not a regular file; set path to a JSON file", path)
	}
	return &conn{path: path, readOnly: cfg.Bool("read_only")}, nil
}

// Test checks that the file can be read and has the expected shape.
func (c *conn) Test(context.Context) error {
	fileLock.RLock()
	defer fileLock.RUnlock()
	_, err := c.load()
	return err
}

// Close releases nothing: the file is opened per call.
func (c *conn) Close(context.Context) error { return nil }

// Access writes every row of the collection that matches any filter, with
// only the requested fields. The SDK guarantees at least one filter with at
// least one value, and applies req.Limit: out.Write fails once it is
// reached, and that error is returned like any other.
func (c *conn) Access(ctx context.Context, req connector.AccessRequest, out connector.RowWriter) error {
	fileLock.RLock()
	data, err := c.load()
	fileLock.RUnlock()
	if err != nil {
		return err
	}
	rows, err := collection(data, req.Collection)
	if err != nil {
		return err
	}
	for _, row := range rows {
		if !matchesAny(row, req.Filters) {
			continue
		}
		// A nested path asks for its top-level field. A field the row
		// lacks comes back as null, as a NULL column would.
		projected := make(connector.Row, len(req.Fields))
		for _, f := range req.Fields {
			projected[f[0]] = row[f[0]]
		}
		// Write blocks while the host is slow and fails once ctx is
		// cancelled: return its error as it is.
		if err := out.Write(projected); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Erase applies a batch of updates, all or nothing: it changes rows in
// memory and writes the file once at the end, so an error leaves the file
// as it was. It reports the rows whose values changed, so a repeated Erase
// reports 0.
func (c *conn) Erase(ctx context.Context, req connector.EraseRequest) (connector.EraseResult, error) {
	if c.readOnly {
		return connector.EraseResult{}, fault.AsPermanent(errors.New("the connection is read_only, so erasure is refused; set read_only = false to allow it"))
	}
	fileLock.Lock()
	defer fileLock.Unlock()
	data, err := c.load()
	if err != nil {
		return connector.EraseResult{}, err
	}
	rows, err := collection(data, req.Collection)
	if err != nil {
		return connector.EraseResult{}, err
	}
	var changed int64
	for i, u := range req.Updates {
		// Find the one row the key names. The example scans; a database
		// finds it through the key's index.
		target := -1
		for j, row := range rows {
			if !matchesKey(row, u.Key) {
				continue
			}
			if target >= 0 {
				// Updating every row the key matches could erase someone
				// else's data. Fail the whole batch, and never quote the
				// key's values: they are personal data.
				return connector.EraseResult{}, fault.AsPermanent(fmt.Errorf(
					"update %d of %q: its key (%s) matches more than one row, so it is not unique; nothing in the batch was changed. "+
						"Declare a key that identifies one row for this collection in the dataset", i+1, req.Collection.Name, keyFields(u.Key)))
			}
			target = j
		}
		if target < 0 {
			continue // no such row (any more): erasure is idempotent
		}
		ok, err := setFields(rows[target], u.Set)
		if err != nil {
			return connector.EraseResult{}, fault.AsPermanent(fmt.Errorf("update %d of %q: %w", i+1, req.Collection.Name, err))
		}
		if ok {
			changed++
		}
	}
	if err := ctx.Err(); err != nil {
		return connector.EraseResult{}, err
	}
	if changed > 0 {
		if err := c.store(data); err != nil {
			return connector.EraseResult{}, err
		}
	}
	return connector.EraseResult{Rows: changed}, nil
}

// sameValue reports whether a stored value equals a filter or key value.
// Identity values compare exactly: strings byte for byte (no case folding,
// no Unicode normalisation, no trimming), numbers only with numbers of the
// same type. The conformance suite's ExactMatch checks require it; a SQL
// connector gets the same by binding parameters and avoiding loose
// collations. Documents and lists are not identity values and match
// nothing.
func sameValue(stored, want any) bool {
	switch want.(type) {
	case map[string]any, []any, []byte:
		return false
	}
	// want is comparable, so == compares dynamic types and then values,
	// and cannot panic.
	return stored == want
}

// matchesAny reports whether any filter matches row: filters are ORed, a
// filter's values are an IN list.
func matchesAny(row map[string]any, filters []connector.Filter) bool {
	for _, f := range filters {
		got, ok := lookup(row, f.Field)
		if ok && slices.ContainsFunc(f.Values, func(v any) bool { return sameValue(got, v) }) {
			return true
		}
	}
	return false
}

// matchesKey reports whether every field of key matches row.
func matchesKey(row, key map[string]any) bool {
	for field, want := range key {
		got, ok := lookup(row, connector.Path{field})
		if !ok || !sameValue(got, want) {
			return false
		}
	}
	return len(key) > 0
}

// lookup follows path through nested objects.
func lookup(row map[string]any, path connector.Path) (any, bool) {
	var cur any = row
	for _, part := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// setFields sets the masked values of one update on row and reports
// whether anything changed. A key of set is a field, or a nested path
// joined with "." ("address.city"). A field is set only where it exists:
// a row without it holds nothing to erase.
func setFields(row map[string]any, set map[string]any) (bool, error) {
	changed := false
	for field, v := range set {
		if !storable(v) {
			return false, fmt.Errorf("set %s: a JSON file cannot store a %T; mask this field with a strategy that gives a string, number, boolean or null", field, v)
		}
		path := []string{field}
		if _, top := row[field]; !top && strings.Contains(field, ".") {
			path = strings.Split(field, ".")
		}
		parent := row
		for _, part := range path[:len(path)-1] {
			next, ok := parent[part].(map[string]any)
			if !ok {
				parent = nil
				break
			}
			parent = next
		}
		if parent == nil {
			continue
		}
		last := path[len(path)-1]
		old, ok := parent[last]
		if !ok || reflect.DeepEqual(old, v) {
			continue
		}
		parent[last] = v
		changed = true
	}
	return changed, nil
}

// storable reports whether v survives a round trip through the file. The
// SDK's other kinds (bytes, times, decimals, ObjectIDs) would come back as
// strings; a database connector maps each kind to its column type instead.
func storable(v any) bool {
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return true
	case []any:
		for _, e := range x {
			if !storable(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !storable(e) {
				return false
			}
		}
		return true
	}
	return false
}

func keyFields(key map[string]any) string {
	fields := make([]string, 0, len(key))
	for k := range key {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	return strings.Join(fields, ", ")
}

// file is the decoded JSON file: collection name to rows.
type file map[string][]map[string]any

// collection returns the rows of coll. The file is the whole dataset, so
// coll.Dataset is not used.
func collection(data file, coll connector.Collection) ([]map[string]any, error) {
	rows, ok := data[coll.Name]
	if !ok {
		// A permanent fault: retrying cannot help, the dataset must change.
		return nil, fault.AsPermanent(fmt.Errorf("the file has no collection %q; its top-level keys are the collections", coll.Name))
	}
	return rows, nil
}

// load reads and decodes the file. Integers come back as int64 (exactly,
// up to the int64 limits) and other numbers as float64, the types of
// package value. Callers hold fileLock.
func (c *conn) load() (file, error) {
	raw, err := os.ReadFile(c.path)
	if err != nil {
		// Transient: the file may be back on the next attempt.
		return nil, fault.AsTransient(fmt.Errorf("read %s: %w", c.path, err))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var data file
	if err := dec.Decode(&data); err != nil {
		return nil, fault.AsPermanent(fmt.Errorf("%s is not an object of collections, each an array of row objects: %w", c.path, err))
	}
	for _, rows := range data {
		for _, row := range rows {
			for k, v := range row {
				if row[k], err = fromJSON(v); err != nil {
					return nil, fault.AsPermanent(fmt.Errorf("%s: %w", c.path, err))
				}
			}
		}
	}
	return data, nil
}

// fromJSON turns the decoder's json.Number into int64 or float64.
func fromJSON(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, fmt.Errorf("number %s does not fit a float64", x)
		}
		return f, nil
	case []any:
		for i, e := range x {
			var err error
			if x[i], err = fromJSON(e); err != nil {
				return nil, err
			}
		}
	case map[string]any:
		for k, e := range x {
			var err error
			if x[k], err = fromJSON(e); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// store replaces the file atomically: a reader sees the old file or the
// new one, never half of it, and a crash leaves the old one in place.
func (c *conn) store(data file) error {
	raw, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return fault.AsPermanent(fmt.Errorf("encode %s: %w", c.path, err))
	}
	st, err := os.Stat(c.path)
	if err != nil {
		return fault.AsTransient(fmt.Errorf("write %s: %w", c.path, err))
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), "."+filepath.Base(c.path)+".tmp-*")
	if err != nil {
		return fault.AsTransient(fmt.Errorf("write %s: %w", c.path, err))
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	_, err = tmp.Write(append(raw, '\n'))
	if err == nil {
		err = tmp.Chmod(st.Mode().Perm())
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path)
	}
	if err != nil {
		return fault.AsTransient(fmt.Errorf("write %s: %w", c.path, err))
	}
	return nil
}
