package sdktest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/sdktest"
	"github.com/lethehq/lethe/sdk/storage"
)

// The memory connector and store below are reference implementations that
// keep every value exactly. Running the conformance suites against them in
// process checks the suites and the SDK's adapters together.

// memTable is a table in memory, shared by a test's fixture and the
// instances configured with its name.
type memTable struct {
	mu      sync.Mutex
	columns []string
	rows    map[int64]connector.Row // rows are replaced, never changed in place
}

var memTables sync.Map // name -> *memTable

func memConnector() connector.Definition {
	return connector.Definition{
		Name: "memory", Version: "1.0.0", DryRun: true,
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "table", Type: schema.String, Required: true, Description: "name of a table made by the test"},
		}},
		New: func(_ context.Context, cfg schema.Config) (connector.Instance, error) {
			t, ok := memTables.Load(cfg.String("table"))
			if !ok {
				return nil, fmt.Errorf("no table %q", cfg.String("table"))
			}
			return &memConn{table: t.(*memTable)}, nil
		},
	}
}

type memConn struct{ table *memTable }

func (c *memConn) Test(context.Context) error { return nil }

func (c *memConn) Close(context.Context) error { return nil }

func (c *memConn) column(p connector.Path) (string, error) {
	if !slices.Contains(c.table.columns, p[0]) {
		return "", fault.AsPermanent(fmt.Errorf("no column %q", p[0]))
	}
	return p[0], nil
}

func (c *memConn) DryRun(_ context.Context, req connector.AccessRequest) (string, error) {
	return fmt.Sprintf("scan %s for %d filters", req.Collection.Name, len(req.Filters)), nil
}

func (c *memConn) Access(ctx context.Context, req connector.AccessRequest, out connector.RowWriter) error {
	var fields []string
	for _, f := range req.Fields {
		col, err := c.column(f)
		if err != nil {
			return err
		}
		fields = append(fields, col)
	}
	// Snapshot the matching rows, then write without holding the lock:
	// Write blocks while the host is slow.
	c.table.mu.Lock()
	var match []connector.Row
	for _, r := range c.table.rows {
		for _, f := range req.Filters {
			if slices.ContainsFunc(f.Values, func(v any) bool { return reflect.DeepEqual(r[f.Field[0]], v) }) {
				match = append(match, r)
				break
			}
		}
	}
	c.table.mu.Unlock()
	sort.Slice(match, func(i, j int) bool { return match[i]["id"].(int64) < match[j]["id"].(int64) })
	for _, r := range match {
		row := connector.Row{}
		for _, f := range fields {
			row[f] = r[f]
		}
		if err := out.Write(row); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (c *memConn) Erase(_ context.Context, req connector.EraseRequest) (connector.EraseResult, error) {
	c.table.mu.Lock()
	defer c.table.mu.Unlock()
	// Apply the batch to a copy, kept only when every key matched at most
	// one row.
	rows := make(map[int64]connector.Row, len(c.table.rows))
	for k, r := range c.table.rows {
		rows[k] = r
	}
	var n int64
	for i, u := range req.Updates {
		matched := 0
		for k, r := range rows {
			if !matches(r, u.Key) {
				continue
			}
			if matched++; matched > 1 {
				return connector.EraseResult{}, fault.AsPermanent(fmt.Errorf("update %d: its key matches more than one row; declare a unique key", i+1))
			}
			next := connector.Row{}
			for col, v := range r {
				next[col] = v
			}
			for col, v := range u.Set {
				if _, err := c.column(connector.Path{col}); err != nil {
					return connector.EraseResult{}, err
				}
				next[col] = v
			}
			rows[k] = next
			n++
		}
	}
	c.table.rows = rows
	return connector.EraseResult{Rows: n}, nil
}

func matches(r, key connector.Row) bool {
	for k, v := range key {
		if !reflect.DeepEqual(r[k], v) {
			return false
		}
	}
	return true
}

func memFixture(t *testing.T) sdktest.ConnectorFixture {
	name := t.Name()
	table := &memTable{
		columns: []string{"id", "email", "name", "n", "f", "d", "b", "flag", "ts", "doc", "tags"},
		rows:    map[int64]connector.Row{},
	}
	memTables.Store(name, table)
	t.Cleanup(func() { memTables.Delete(name) })
	return sdktest.ConnectorFixture{
		Config:     map[string]any{"table": name},
		BadConfigs: []map[string]any{{}, {"table": 7}, {"table": "no such table"}, {"table": name, "extra": true}},
		Collection: connector.Collection{Dataset: "conformance", Name: "lethe_conformance"},
		Supports: []sdktest.Kind{sdktest.KindFloat, sdktest.KindDecimal, sdktest.KindBytes, sdktest.KindBool,
			sdktest.KindTimeOffset, sdktest.KindMap, sdktest.KindList},
		TimePrecision: 1, // nanoseconds survive the wire
		Reset: func(_ testing.TB, rows []connector.Row) {
			table.mu.Lock()
			defer table.mu.Unlock()
			table.rows = map[int64]connector.Row{}
			for _, r := range rows {
				table.rows[r["id"].(int64)] = r
			}
		},
	}
}

func TestConnectorConformanceInProcess(t *testing.T) {
	c := sdktest.NewConnectorHarness(t, memConnector())
	sdktest.RunConnectorConformance(t, c, memFixture(t))
}

// memStore keeps objects in a map; an object appears only when complete.
type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (s *memStore) Test(context.Context) error  { return nil }
func (s *memStore) Close(context.Context) error { return nil }

func (s *memStore) Upload(ctx context.Context, obj storage.Object, r io.Reader) (storage.Result, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, r)
	if err != nil {
		return storage.Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return storage.Result{}, err
	}
	s.mu.Lock()
	s.objects[obj.Key] = buf.Bytes()
	s.mu.Unlock()
	return storage.Result{Location: "memory://" + obj.Key, Size: n}, nil
}

func TestStorageConformanceInProcess(t *testing.T) {
	store := &memStore{objects: map[string][]byte{}}
	def := storage.Definition{
		Name: "memory", Version: "1.0.0",
		Config: schema.Schema{Attributes: []schema.Attribute{{Name: "name", Type: schema.String, Required: true}}},
		New: func(context.Context, schema.Config) (storage.Store, error) {
			return store, nil
		},
	}
	c := sdktest.NewStorageHarness(t, def)
	sdktest.RunStorageConformance(t, c, sdktest.StorageFixture{
		Config:     map[string]any{"name": "m"},
		BadConfigs: []map[string]any{{}, {"name": true}},
		Fetch: func(_ testing.TB, key string) ([]byte, error) {
			store.mu.Lock()
			defer store.mu.Unlock()
			b, ok := store.objects[key]
			if !ok {
				return nil, fmt.Errorf("object %s: %w", key, fs.ErrNotExist)
			}
			return b, nil
		},
	})
	for key := range store.objects {
		if strings.Contains(key, "..") {
			t.Errorf("an escaping key reached the store: %q", key)
		}
	}
}

// fakeTB records a failure instead of failing the test, so the harness's
// own refusals can be checked.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	failure  string
	cleanups []func()
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.failure = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	panic(errFatal)
}

func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func (f *fakeTB) Log(args ...any) {}

var errFatal = errors.New("fatal")

// run calls fn with f and returns the failure it reported, if any, after
// running its cleanups.
func (f *fakeTB) run(fn func(testing.TB)) string {
	func() {
		defer func() {
			if r := recover(); r != nil && r != errFatal {
				panic(r)
			}
		}()
		fn(f)
	}()
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	return f.failure
}
