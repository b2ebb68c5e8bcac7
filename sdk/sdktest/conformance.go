package sdktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

// Kind is a value kind a database may or may not store.
type Kind string

// Value kinds beyond int64 and string, which every database must store.
const (
	KindFloat   Kind = "float"   // float64
	KindDecimal Kind = "decimal" // value.Decimal, compared as a number
	KindBytes   Kind = "bytes"   // []byte
	KindBool    Kind = "bool"
	KindTime    Kind = "time" // time.Time with its zone offset, microsecond precision
	KindMap     Kind = "map"  // map[string]any, a nested document
	KindList    Kind = "list" // []any
)

// Column names of the conformance collection, one per kind. The collection
// has the columns of the kinds the fixture supports, plus:
//
//	id     int64, the primary key
//	email  string
//	name   string, nullable
//	n      int64
var kindColumn = map[Kind]string{
	KindFloat: "f", KindDecimal: "d", KindBytes: "b", KindBool: "flag",
	KindTime: "ts", KindMap: "doc", KindList: "tags",
}

// ConnectorFixture points the conformance suite at a database.
type ConnectorFixture struct {
	// Config is a valid config for the plugin.
	Config map[string]any
	// BadConfigs are configs that must give error diagnostics.
	BadConfigs []map[string]any
	// Collection is the conformance collection (table).
	Collection connector.Collection
	// Reset empties the conformance collection (creating it when needed)
	// and inserts rows, with the author's own driver code. Rows carry the
	// columns id, email, name, n and one per supported kind.
	Reset func(t testing.TB, rows []connector.Row)
	// Supports lists the kinds the database stores exactly.
	Supports []Kind
}

func (fx ConnectorFixture) supports(k Kind) bool {
	for _, s := range fx.Supports {
		if s == k {
			return true
		}
	}
	return false
}

func (fx ConnectorFixture) columns() []string {
	cols := []string{"id", "email", "name", "n"}
	for _, k := range []Kind{KindFloat, KindDecimal, KindBytes, KindBool, KindTime, KindMap, KindList} {
		if fx.supports(k) {
			cols = append(cols, kindColumn[k])
		}
	}
	return cols
}

var semver = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// conformanceRow builds row i with values of every supported kind.
func (fx ConnectorFixture) row(i int64, name any) connector.Row {
	r := connector.Row{
		"id": i, "email": fmt.Sprintf("user%d@example.com", i), "name": name, "n": i * 1000,
	}
	if fx.supports(KindFloat) {
		r["f"] = float64(i) + 0.25
	}
	if fx.supports(KindDecimal) {
		r["d"] = value.Decimal(fmt.Sprintf("%d.0625", i))
	}
	if fx.supports(KindBytes) {
		r["b"] = []byte{byte(i), 0, 0xff}
	}
	if fx.supports(KindBool) {
		r["flag"] = i%2 == 0
	}
	if fx.supports(KindTime) {
		r["ts"] = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	}
	if fx.supports(KindMap) {
		r["doc"] = map[string]any{"i": i, "s": "x"}
	}
	if fx.supports(KindList) {
		r["tags"] = []any{"a", i}
	}
	return r
}

// edgeRows hold the extreme values each kind must carry exactly.
func (fx ConnectorFixture) edgeRows() []connector.Row {
	a := fx.row(1, nil) // NULL name
	a["n"] = int64(math.MaxInt64)
	b := fx.row(2, "Zoë ☃ \"quoted\" 'single' \\ back")
	b["n"] = int64(math.MinInt64)
	if fx.supports(KindFloat) {
		a["f"], b["f"] = math.MaxFloat64, -1.5e-300
	}
	if fx.supports(KindDecimal) {
		a["d"], b["d"] = value.Decimal("12345678901234567890.123456789"), value.Decimal("-0.000001")
	}
	if fx.supports(KindBytes) {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		a["b"], b["b"] = all, []byte{}
	}
	if fx.supports(KindTime) {
		a["ts"] = time.Date(1999, 12, 31, 23, 59, 59, 123456000, time.FixedZone("", 5*3600+1800))
		b["ts"] = time.Date(2038, 1, 19, 3, 14, 8, 0, time.FixedZone("", -8*3600))
	}
	if fx.supports(KindMap) {
		a["doc"] = map[string]any{"n": int64(math.MaxInt64), "inner": map[string]any{"list": []any{int64(1), "two", nil}}}
	}
	if fx.supports(KindList) {
		b["tags"] = []any{map[string]any{"k": "v"}, []any{int64(3)}}
	}
	return []connector.Row{a, b}
}

// RunConnectorConformance checks a connector plugin through c, a client of
// a real or in-process plugin, against the database fx describes.
func RunConnectorConformance(t *testing.T, c *connector.Client, fx ConnectorFixture) {
	ctx := context.Background()
	const id = "conformance"
	var info schema.Info

	t.Run("Describe", func(t *testing.T) {
		var err error
		info, err = c.Describe(ctx)
		if err != nil {
			t.Fatalf("Describe: %v", err)
		}
		if info.Kind != schema.KindConnector || info.Name == "" {
			t.Errorf("Describe: kind %q name %q, want kind connector and a name", info.Kind, info.Name)
		}
		if !semver.MatchString(info.Version) {
			t.Errorf("Describe: version %q is not a semantic version", info.Version)
		}
		if len(info.Config.Attributes) == 0 {
			t.Errorf("Describe: the config schema has no attributes")
		}
	})

	t.Run("BadConfig", func(t *testing.T) {
		for i, bad := range fx.BadConfigs {
			diags, err := c.Configure(ctx, fmt.Sprintf("bad-%d", i), bad)
			if err != nil {
				t.Errorf("bad config %d: want diagnostics, got an error: %v", i, err)
				continue
			}
			if !diags.HasErrors() {
				t.Errorf("bad config %d: accepted; want error diagnostics", i)
			}
		}
	})

	diags, err := c.Configure(ctx, id, fx.Config)
	if err != nil || diags.HasErrors() {
		t.Fatalf("Configure: %v %v", err, diags.Err())
	}
	t.Cleanup(func() { _ = c.CloseInstance(context.Background(), id) })

	t.Run("Test", func(t *testing.T) {
		if err := c.Test(ctx, id); err != nil {
			t.Fatalf("Test: %v", err)
		}
	})

	cols := fx.columns()
	fields := make([]connector.Path, len(cols))
	for i, col := range cols {
		fields[i] = connector.Path{col}
	}
	byID := func(ids ...int64) []connector.Filter {
		vals := make([]any, len(ids))
		for i, v := range ids {
			vals[i] = v
		}
		return []connector.Filter{{Field: connector.Path{"id"}, Values: vals}}
	}
	access := func(t *testing.T, fs []connector.Path, filters []connector.Filter) []connector.Row {
		t.Helper()
		var rows []connector.Row
		_, err := c.Access(ctx, id, connector.AccessRequest{
			RequestID: "conformance", Collection: fx.Collection, Fields: fs, Filters: filters,
		}, func(b []connector.Row) error { rows = append(rows, b...); return nil })
		if err != nil {
			t.Fatalf("Access: %v", err)
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i]["id"].(int64) < rows[j]["id"].(int64) })
		return rows
	}

	t.Run("RoundTrip", func(t *testing.T) {
		want := fx.edgeRows()
		fx.Reset(t, want)
		got := access(t, fields, byID(1, 2))
		if len(got) != len(want) {
			t.Fatalf("got %d rows, want %d", len(got), len(want))
		}
		for i := range want {
			for _, col := range cols {
				if err := sameValue(want[i][col], got[i][col]); err != nil {
					t.Errorf("row %d column %s: %v", i+1, col, err)
				}
			}
		}
	})

	t.Run("Filters", func(t *testing.T) {
		var seed []connector.Row
		for i := int64(1); i <= 20; i++ {
			seed = append(seed, fx.row(i, fmt.Sprintf("name %d", i)))
		}
		fx.Reset(t, seed)
		got := access(t, []connector.Path{{"id"}, {"email"}}, []connector.Filter{
			{Field: connector.Path{"email"}, Values: []any{"user3@example.com", "user7@example.com", "nobody@example.com"}},
			{Field: connector.Path{"id"}, Values: []any{int64(11), int64(7)}},
		})
		ids := []int64{}
		for _, r := range got {
			ids = append(ids, r["id"].(int64))
			if len(r) != 2 {
				t.Errorf("row %d has fields %v; want only id and email", r["id"], keys(r))
			}
		}
		if !reflect.DeepEqual(ids, []int64{3, 7, 11}) {
			t.Errorf("ids %v, want [3 7 11] (filters are ORed, values INed)", ids)
		}
	})

	t.Run("NoFilterRefused", func(t *testing.T) {
		_, err := c.Access(ctx, id, connector.AccessRequest{Collection: fx.Collection, Fields: fields},
			func([]connector.Row) error { return nil })
		if err == nil || fault.KindOf(err) != fault.Permanent {
			t.Fatalf("Access without filter: got %v, want a permanent fault", err)
		}
	})

	const many = 1200
	var seedMany []connector.Row
	for i := int64(1); i <= many; i++ {
		seedMany = append(seedMany, fx.row(i, strings.Repeat("n", 1000)))
	}
	allIDs := make([]int64, many)
	for i := range allIDs {
		allIDs[i] = int64(i + 1)
	}

	t.Run("ManyBatches", func(t *testing.T) {
		fx.Reset(t, seedMany)
		var batches int
		seen := map[int64]bool{}
		n, err := c.Access(ctx, id, connector.AccessRequest{Collection: fx.Collection, Fields: fields, Filters: byID(allIDs...)},
			func(rows []connector.Row) error {
				batches++
				for _, r := range rows {
					k := r["id"].(int64)
					if seen[k] {
						t.Errorf("row %d arrived twice", k)
					}
					seen[k] = true
				}
				return nil
			})
		if err != nil {
			t.Fatalf("Access: %v", err)
		}
		if n != many || len(seen) != many {
			t.Fatalf("got %d rows (%d distinct), want %d", n, len(seen), many)
		}
		if batches < 2 {
			t.Errorf("%d rows of 1 KiB came in %d batch; want bounded batches", many, batches)
		}
	})

	t.Run("CancelMidStream", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		start := time.Now()
		_, err := c.Access(cctx, id, connector.AccessRequest{Collection: fx.Collection, Fields: fields, Filters: byID(allIDs...)},
			func([]connector.Row) error { cancel(); return nil })
		if err == nil {
			// The whole result may have been in flight already; acceptable
			// only if it was fast.
			t.Log("Access completed before the cancellation took effect")
		} else if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Access: got %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("cancelled Access took %s; want under 2s", d)
		}
		// The instance still works.
		if got := access(t, []connector.Path{{"id"}}, byID(1)); len(got) != 1 {
			t.Errorf("after cancel: got %d rows, want 1", len(got))
		}
	})

	t.Run("Erase", func(t *testing.T) {
		var seed []connector.Row
		for i := int64(1); i <= 5; i++ {
			seed = append(seed, fx.row(i, fmt.Sprintf("name %d", i)))
		}
		fx.Reset(t, seed)
		req := connector.EraseRequest{RequestID: "conformance", Collection: fx.Collection, Updates: []connector.RowUpdate{
			{Key: connector.Row{"id": int64(2)}, Set: connector.Row{"name": "masked", "email": nil}},
			{Key: connector.Row{"id": int64(4)}, Set: connector.Row{"name": "masked", "email": nil}},
		}}
		n, err := c.Erase(ctx, id, req)
		if err != nil {
			t.Fatalf("Erase: %v", err)
		}
		if n != 2 {
			t.Errorf("Erase affected %d rows, want 2", n)
		}
		after := access(t, fields, byID(1, 2, 3, 4, 5))
		check := func(after []connector.Row) {
			t.Helper()
			for i, r := range after {
				k := r["id"].(int64)
				if k == 2 || k == 4 {
					if r["name"] != "masked" || r["email"] != nil {
						t.Errorf("row %d after erase: name %v email %v, want masked and NULL", k, r["name"], r["email"])
					}
					continue
				}
				for _, col := range cols {
					if err := sameValue(seed[i][col], r[col]); err != nil {
						t.Errorf("row %d column %s changed by an erase of other rows: %v", k, col, err)
					}
				}
			}
		}
		check(after)
		if _, err := c.Erase(ctx, id, req); err != nil {
			t.Fatalf("second Erase: %v", err)
		}
		again := access(t, fields, byID(1, 2, 3, 4, 5))
		check(again)
	})

	t.Run("Concurrent", func(t *testing.T) {
		var seed []connector.Row
		for i := int64(1); i <= 40; i++ {
			seed = append(seed, fx.row(i, "c"))
		}
		fx.Reset(t, seed)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				k := int64(g*5 + 1)
				if _, err := c.Erase(ctx, id, connector.EraseRequest{Collection: fx.Collection, Updates: []connector.RowUpdate{
					{Key: connector.Row{"id": k}, Set: connector.Row{"name": fmt.Sprintf("g%d", g)}},
				}}); err != nil {
					errs <- err
					return
				}
				var rows int
				if _, err := c.Access(ctx, id, connector.AccessRequest{Collection: fx.Collection, Fields: fields, Filters: byID(allIDs[:40]...)},
					func(b []connector.Row) error { rows += len(b); return nil }); err != nil {
					errs <- err
					return
				}
				if rows != 40 {
					errs <- fmt.Errorf("goroutine %d saw %d rows, want 40", g, rows)
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("DryRun", func(t *testing.T) {
		q, err := c.DryRun(ctx, id, connector.AccessRequest{Collection: fx.Collection, Fields: fields, Filters: byID(1)})
		if info.Has(schema.CapabilityDryRun) {
			if err != nil || q == "" {
				t.Errorf("dry_run advertised, DryRun gave %q, %v", q, err)
			}
		} else if !errors.Is(err, fault.ErrUnimplemented) {
			t.Errorf("dry_run not advertised, DryRun gave %q, %v; want ErrUnimplemented", q, err)
		}
	})

	t.Run("CloseTwice", func(t *testing.T) {
		if diags, err := c.Configure(ctx, "closing", fx.Config); err != nil || diags.HasErrors() {
			t.Fatalf("Configure: %v %v", err, diags.Err())
		}
		for i := 0; i < 2; i++ {
			if err := c.CloseInstance(ctx, "closing"); err != nil {
				t.Errorf("CloseInstance #%d: %v", i+1, err)
			}
		}
		_, err := c.Access(ctx, "closing", connector.AccessRequest{Collection: fx.Collection, Fields: fields, Filters: byID(1)},
			func([]connector.Row) error { return nil })
		if !errors.Is(err, fault.ErrInstanceNotFound) {
			t.Errorf("Access on a closed instance: %v, want ErrInstanceNotFound", err)
		}
	})
}

func keys(r connector.Row) []string {
	out := make([]string, 0, len(r))
	for k := range r {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sameValue compares a seeded value with what came back: exactly, except
// decimals (as numbers) and times (same instant and same offset).
func sameValue(want, got any) error {
	switch w := want.(type) {
	case value.Decimal:
		g, ok := got.(value.Decimal)
		if !ok {
			return fmt.Errorf("got %T %v, want decimal %s", got, got, w)
		}
		wr, _ := new(big.Rat).SetString(string(w))
		gr, ok := new(big.Rat).SetString(string(g))
		if !ok || wr.Cmp(gr) != 0 {
			return fmt.Errorf("got decimal %s, want %s", g, w)
		}
		return nil
	case time.Time:
		g, ok := got.(time.Time)
		if !ok {
			return fmt.Errorf("got %T %v, want time %s", got, got, w)
		}
		_, wo := w.Zone()
		_, gotOff := g.Zone()
		if !g.Equal(w) || wo != gotOff {
			return fmt.Errorf("got time %s, want %s (same instant and offset)", g.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano))
		}
		return nil
	case []byte:
		g, ok := got.([]byte)
		if !ok || !bytes.Equal(g, w) {
			return fmt.Errorf("got %T %v, want bytes %v", got, got, w)
		}
		return nil
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("got %T %v, want %T %v", got, got, want, want)
	}
	return nil
}
