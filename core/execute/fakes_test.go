package execute

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/storage"
	"github.com/lethehq/lethe/sdk/value"
)

// These fakes stand in for plugin processes in the engine's unit tests:
// they implement the same small interfaces the plugin host does. The
// integration tests in tests/e2e run the same engine against the real
// plugins and databases.

// memDB is an in-memory connector: tables of rows, OR-of-IN filters,
// updates by key with dotted paths into nested documents.
type memDB struct {
	mu      sync.Mutex
	tables  map[string][]connector.Row // by collection name
	calls   atomic.Int64               // Access calls
	erases  atomic.Int64               // Erase calls
	inIn    atomic.Int64               // Access calls in flight
	maxIn   atomic.Int64               // most Access calls in flight at once
	delay   time.Duration              // each Access call sleeps this long
	failN   map[string]int             // collection -> transient failures left
	failErr error                      // the error failN returns
	onErase func(connector.EraseRequest) error
	// onAccess, when set, is called as each Access call starts.
	onAccess func(connector.AccessRequest)
}

func newMemDB() *memDB {
	return &memDB{tables: map[string][]connector.Row{}, failN: map[string]int{}}
}

func (m *memDB) Configure(ctx context.Context, id string, cfg map[string]any) (schema.Diagnostics, error) {
	return nil, nil
}

func (m *memDB) Access(ctx context.Context, id string, req connector.AccessRequest, fn func([]connector.Row) error) (int64, error) {
	m.calls.Add(1)
	if m.onAccess != nil {
		m.onAccess(req)
	}
	n := m.inIn.Add(1)
	defer m.inIn.Add(-1)
	for {
		cur := m.maxIn.Load()
		if n <= cur || m.maxIn.CompareAndSwap(cur, n) {
			break
		}
	}
	if m.delay > 0 {
		select {
		case <-time.After(m.delay):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	m.mu.Lock()
	if m.failN[req.Collection.Name] > 0 {
		m.failN[req.Collection.Name]--
		m.mu.Unlock()
		return 0, m.failErr
	}
	var out []connector.Row
	for _, row := range m.tables[req.Collection.Name] {
		if matchesFilters(row, req.Filters) {
			cp := connector.Row{}
			for _, f := range req.Fields {
				if v, ok := row[f[0]]; ok {
					cp[f[0]] = deepCopy(v)
				}
			}
			out = append(out, cp)
		}
	}
	m.mu.Unlock()
	for len(out) > 0 {
		k := min(len(out), 100)
		if err := fn(out[:k]); err != nil {
			return 0, err
		}
		out = out[k:]
	}
	return 0, nil
}

func matchesFilters(row connector.Row, filters []connector.Filter) bool {
	for _, f := range filters {
		hit := false
		collect(map[string]any(row), f.Field, func(v any) {
			for _, want := range f.Values {
				if reflect.DeepEqual(v, want) {
					hit = true
				}
			}
		})
		if hit {
			return true
		}
	}
	return false
}

func (m *memDB) Erase(ctx context.Context, id string, req connector.EraseRequest) (connector.EraseResult, error) {
	m.erases.Add(1)
	if m.onErase != nil {
		if err := m.onErase(req); err != nil {
			return connector.EraseResult{}, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, u := range req.Updates {
		for _, row := range m.tables[req.Collection.Name] {
			match := true
			for k, v := range u.Key {
				if !reflect.DeepEqual(row[k], v) {
					match = false
				}
			}
			if !match {
				continue
			}
			for path, v := range u.Set {
				setPath(row, strings.Split(path, "."), v)
			}
			n++
		}
	}
	return connector.EraseResult{Rows: n}, nil
}

func setPath(v any, path []string, val any) {
	switch x := v.(type) {
	case map[string]any:
		if len(path) == 1 {
			x[path[0]] = val
			return
		}
		setPath(x[path[0]], path[1:], val)
	case []any:
		i, err := strconv.Atoi(path[0])
		if err != nil || i >= len(x) {
			return
		}
		if len(path) == 1 {
			x[i] = val
			return
		}
		setPath(x[i], path[1:], val)
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

func (m *memDB) snapshot() map[string][]connector.Row {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]connector.Row{}
	for k, rows := range m.tables {
		for _, r := range rows {
			out[k] = append(out[k], deepCopy(map[string]any(r)).(map[string]any))
		}
	}
	return out
}

// memStorage keeps uploaded objects in memory.
type memStorage struct {
	mu      sync.Mutex
	objects map[string][]byte
	failN   int
}

func (s *memStorage) Configure(ctx context.Context, id string, cfg map[string]any) (schema.Diagnostics, error) {
	return nil, nil
}

func (s *memStorage) Upload(ctx context.Context, id string, obj storage.Object, r io.Reader) (storage.Result, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return storage.Result{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN > 0 {
		s.failN--
		return storage.Result{}, errors.New("destination unavailable")
	}
	if s.objects == nil {
		s.objects = map[string][]byte{}
	}
	s.objects[obj.Key] = data
	return storage.Result{Location: "mem://" + obj.Key, Size: int64(len(data))}, nil
}

func (s *memStorage) get(key string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.objects[key]
}

type memPlugins struct {
	db *memDB
	st *memStorage
}

func (p memPlugins) Connector(name string) (Connector, error) {
	if name != "mem" {
		return nil, fmt.Errorf("no connector plugin %q", name)
	}
	return p.db, nil
}

func (p memPlugins) Storage(name string) (Storage, error) {
	if name != "mem" {
		return nil, fmt.Errorf("no storage plugin %q", name)
	}
	return p.st, nil
}

// testConfig loads a configuration from HCL sources written to a temp dir.
func testConfig(t testing.TB, files map[string]string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, diags := config.Load(dir)
	if !diags.HasErrors() {
		diags = append(diags, cfg.Validate()...)
	}
	if diags.HasErrors() {
		t.Fatalf("test configuration: %s", diags.Error())
	}
	return cfg
}

const mainHCL = `
server {
  max_parallel_nodes = 8
}
connection "db" {
  plugin       = "mem"
  access       = "write"
  max_parallel = 4
}
storage "mem" {
  plugin = "mem"
  format = "json"
}
`

const shopHCL = `
dataset "app" {
  connection = "db"
  collection "users" {
    field "id" {
      type        = "integer"
      primary_key = true
      categories  = ["user.unique_id"]
    }
    field "email" {
      type       = "string"
      identity   = "email"
      categories = ["user.contact.email"]
    }
    field "name" {
      type       = "string"
      categories = ["user.name"]
      length     = 8
    }
    field "tags" {
      type       = "string[]"
      categories = ["user.behavior"]
    }
    field "age" {
      type       = "integer"
      categories = ["user.demographic"]
    }
  }
  collection "orders" {
    field "id" {
      type        = "integer"
      primary_key = true
      categories  = ["system.operations"]
    }
    field "user_id" {
      type       = "integer"
      categories = ["user.unique_id"]
      reference "app.users.id" {
        direction = "from"
      }
    }
    field "note" {
      type       = "string"
      categories = ["user.content.private"]
    }
  }
  collection "items" {
    field "id" {
      type        = "integer"
      primary_key = true
      categories  = ["system.operations"]
    }
    field "order_id" {
      type       = "integer"
      categories = ["system.operations"]
      reference "app.orders.id" {
        direction = "from"
      }
    }
    field "sku" {
      type       = "string"
      categories = ["system.operations"]
    }
  }
}
`

const policiesHCL = `
policy "access" {
  rule "all" {
    action  = "access"
    targets = ["user"]
    storage = "mem"
  }
}
policy "erase" {
  rule "all" {
    action  = "access"
    targets = ["user"]
    storage = "mem"
  }
  rule "contact" {
    action  = "erasure"
    targets = ["user.contact.email", "user.name"]
    masking {
      strategy = "hmac"
    }
  }
  rule "private" {
    action  = "erasure"
    targets = ["user.content.private"]
    masking {
      strategy = "null_rewrite"
    }
  }
}
policy "bad_mask" {
  rule "age" {
    action  = "erasure"
    targets = ["user.demographic"]
    masking {
      strategy = "hash"
    }
  }
}
`

func shopDB() *memDB {
	db := newMemDB()
	db.tables["users"] = []connector.Row{
		{"id": int64(1), "email": "jane@example.com", "name": "Jane Doe", "tags": []any{"a", "b"}, "age": int64(40)},
		{"id": int64(2), "email": "bob@example.com", "name": "Bob Smith", "tags": nil, "age": int64(30)},
	}
	db.tables["orders"] = []connector.Row{
		{"id": int64(10), "user_id": int64(1), "note": "leave at door"},
		{"id": int64(11), "user_id": int64(1), "note": nil},
		{"id": int64(12), "user_id": int64(2), "note": "bob's"},
	}
	db.tables["items"] = []connector.Row{
		{"id": int64(100), "order_id": int64(10), "sku": "T1"},
		{"id": int64(101), "order_id": int64(11), "sku": "T2"},
		{"id": int64(102), "order_id": int64(12), "sku": "T3"},
	}
	return db
}

type env struct {
	cfg *config.Config
	st  *store.Bolt
	db  *memDB
	mem *memStorage
	dir string
	key []byte
}

func newEnv(t testing.TB, db *memDB, files map[string]string) *env {
	t.Helper()
	if files == nil {
		files = map[string]string{"main.hcl": mainHCL, "shop.hcl": shopHCL, "policies.hcl": policiesHCL}
	}
	e := &env{cfg: testConfig(t, files), db: db, mem: &memStorage{}, dir: t.TempDir(), key: bytes.Repeat([]byte{7}, 32)}
	e.open(t)
	return e
}

func (e *env) open(t testing.TB) {
	t.Helper()
	st, err := store.Open(e.dir, store.Options{Key: e.key})
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	t.Cleanup(func() { st.Close() })
}

// reopen closes and opens the store, as a restarted process would.
func (e *env) reopen(t testing.TB) {
	t.Helper()
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	e.open(t)
}

func (e *env) engine(t testing.TB, mod func(*Options)) *Engine {
	t.Helper()
	opts := Options{Config: e.cfg, Store: e.st, Plugins: memPlugins{e.db, e.mem}, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond}
	if mod != nil {
		mod(&opts)
	}
	eng, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func (e *env) submit(t testing.TB, eng *Engine, pol string, ids map[string]string) string {
	t.Helper()
	req, err := eng.Submit(context.Background(), Submission{Policy: pol, Identities: ids})
	if err != nil {
		t.Fatal(err)
	}
	return req.ID
}

var _ = value.Decimal("")
