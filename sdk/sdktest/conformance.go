package sdktest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
	"github.com/lethehq/lethe/sdk/version"
)

// Kind is a kind of value that a database may or may not store exactly.
// int64 and string are not kinds: every database must store them.
type Kind string

// The kinds a fixture may support, and the conformance column of each.
const (
	KindFloat   Kind = "float"   // column f: float64, bit for bit
	KindDecimal Kind = "decimal" // column d: value.Decimal, compared as a number
	KindBytes   Kind = "bytes"   // column b: []byte
	KindBool    Kind = "bool"    // column flag: bool
	// KindTime: column ts keeps the instant of a time.Time (at the
	// fixture's TimePrecision); the zone offset may come back different.
	KindTime Kind = "time"
	// KindTimeOffset: column ts keeps the instant and the zone offset.
	KindTimeOffset Kind = "time_offset"
	// KindLocalTime: column ts holds a date and time of day in no zone
	// (timestamp without time zone, DATETIME), a value.LocalTime that comes
	// back exactly, at the fixture's TimePrecision, and never as a
	// time.Time. A fixture declares one kind for ts: a time or a local time.
	KindLocalTime Kind = "local_time"
	KindMap       Kind = "map"  // column doc: map[string]any
	KindList      Kind = "list" // column tags: []any
)

// ConnectorFixture points RunConnectorConformance at a database.
type ConnectorFixture struct {
	// Config is a valid configuration of the plugin for this database.
	Config map[string]any
	// BadConfigs are configurations that must give error diagnostics:
	// missing required attributes, wrong types, unknown attributes.
	BadConfigs []map[string]any
	// Collection names the conformance collection (see the package doc).
	Collection connector.Collection
	// Reset makes the conformance collection hold exactly rows: it creates
	// it when needed, deletes every row, and inserts rows, with the
	// author's own driver code (not through the plugin). A row has the
	// columns id, email, name, n and one per supported kind; nil is NULL.
	Reset func(t testing.TB, rows []connector.Row)
	// Loose, when set, makes collections whose email column compares as
	// loosely as the database allows, for the exact-matching checks (see
	// ExactMatch in the package documentation), keyed by a short name for
	// the test output ("citext", "utf8mb4_uca1400_ai_ci"). Each function
	// makes its collection hold exactly rows, like Reset, and returns it.
	// Its layout is id (the int64 key), email (the loose string column)
	// and name (a string). A database without such columns leaves it
	// empty; the checks still run on the conformance collection.
	Loose map[string]func(t testing.TB, rows []connector.Row) connector.Collection
	// Supports lists the kinds the database stores exactly.
	Supports []Kind
	// TimePrecision is the finest unit of time the database keeps, e.g.
	// time.Millisecond for MongoDB. Zero means time.Microsecond.
	TimePrecision time.Duration
	// Timeout bounds each check. Zero means one minute.
	Timeout time.Duration
}

func (fx ConnectorFixture) supports(k Kind) bool {
	if k == KindTime && slices.Contains(fx.Supports, KindTimeOffset) {
		return true
	}
	return slices.Contains(fx.Supports, k)
}

func (fx ConnectorFixture) precision() time.Duration {
	if fx.TimePrecision > 0 {
		return fx.TimePrecision
	}
	return time.Microsecond
}

func (fx ConnectorFixture) timeout() time.Duration {
	if fx.Timeout > 0 {
		return fx.Timeout
	}
	return time.Minute
}

// columns returns the conformance columns the fixture supports.
func (fx ConnectorFixture) columns() []string {
	cols := []string{"id", "email", "name", "n"}
	for _, k := range []struct {
		kind Kind
		col  string
	}{{KindFloat, "f"}, {KindDecimal, "d"}, {KindBytes, "b"}, {KindBool, "flag"}, {KindTime, "ts"}, {KindLocalTime, "ts"}, {KindMap, "doc"}, {KindList, "tags"}} {
		if fx.supports(k.kind) {
			cols = append(cols, k.col)
		}
	}
	return cols
}

// row builds conformance row i with a value in every supported column.
func (fx ConnectorFixture) row(i int64, name any) connector.Row {
	r := connector.Row{"id": i, "email": fmt.Sprintf("user%d@example.com", i), "name": name, "n": i * 1000}
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
	if fx.supports(KindLocalTime) {
		r["ts"] = value.Local(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute))
	}
	if fx.supports(KindMap) {
		r["doc"] = map[string]any{"i": i, "s": "x"}
	}
	if fx.supports(KindList) {
		r["tags"] = []any{"a", i}
	}
	return r
}

// edgeRows carry the values every supported kind must keep exactly.
func (fx ConnectorFixture) edgeRows() []connector.Row {
	a := fx.row(1, nil)
	a["n"] = int64(math.MaxInt64)
	b := fx.row(2, edgeName)
	b["n"] = int64(math.MinInt64)
	c := connector.Row{"id": int64(3)} // every other column NULL
	for _, col := range fx.columns()[1:] {
		c[col] = nil
	}
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
		p := fx.precision()
		a["ts"] = time.Date(1999, 12, 31, 23, 59, 59, 123456789, time.FixedZone("", 5*3600+1800)).Truncate(p)
		b["ts"] = time.Date(2038, 1, 19, 3, 14, 8, 987654321, time.FixedZone("", -8*3600)).Truncate(p)
	}
	if fx.supports(KindLocalTime) {
		p := fx.precision()
		a["ts"] = value.Local(time.Date(1999, 12, 31, 23, 59, 59, 123456789, time.UTC).Truncate(p))
		b["ts"] = value.Local(time.Date(2038, 1, 19, 3, 14, 8, 987654321, time.UTC).Truncate(p))
	}
	if fx.supports(KindMap) {
		a["doc"] = map[string]any{
			"n": int64(math.MaxInt64), "neg": int64(math.MinInt64), "ok": true, "none": nil,
			"inner": map[string]any{"list": []any{int64(1), "two", nil, false}, "s": "ü \"q\""},
		}
		b["doc"] = map[string]any{}
	}
	if fx.supports(KindList) {
		a["tags"] = []any{map[string]any{"k": "v"}, []any{int64(3), []any{}}, 1.5, "x", nil}
		b["tags"] = []any{}
	}
	return []connector.Row{a, b, c}
}

const edgeName = "Zoë ☃ \"double\" 'single' \\ back; DROP TABLE x; --"

var semver = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// checkInfo reports what is wrong with a plugin's Describe answer.
func checkInfo(t *testing.T, info schema.Info, kind string) {
	t.Helper()
	if info.Kind != kind {
		t.Errorf("kind %q, want %q", info.Kind, kind)
	}
	if info.Name == "" {
		t.Error("the plugin has no name")
	}
	if !semver.MatchString(info.Version) {
		t.Errorf("version %q is not a semantic version such as 1.2.3", info.Version)
	}
	if info.ProtocolMajor != version.ProtocolMajor || info.SDKVersion == "" {
		t.Errorf("protocol %d, SDK %q; want protocol %d and an SDK version", info.ProtocolMajor, info.SDKVersion, version.ProtocolMajor)
	}
	if len(info.Config.Attributes) == 0 {
		t.Error("the config schema has no attributes")
	}
	seen := map[string]bool{}
	for _, a := range info.Config.Attributes {
		switch {
		case a.Name == "":
			t.Error("a config attribute has no name")
		case seen[a.Name]:
			t.Errorf("config attribute %q is declared twice", a.Name)
		case a.Type < schema.String || a.Type > schema.StringMap:
			t.Errorf("config attribute %q has an unknown type %d", a.Name, int(a.Type))
		}
		seen[a.Name] = true
	}
}

// RunConnectorConformance checks the connector plugin behind c (in process
// or a real process) against the database fx describes, as subtests. See
// the package documentation for what it requires.
func RunConnectorConformance(t *testing.T, c *connector.Client, fx ConnectorFixture) {
	if fx.Reset == nil || fx.Collection.Name == "" {
		t.Fatal("ConnectorFixture needs Reset and Collection")
	}
	const id = "conformance"
	ctxFor := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), fx.timeout())
		t.Cleanup(cancel)
		return ctx
	}
	var info schema.Info

	t.Run("Describe", func(t *testing.T) {
		var err error
		if info, err = c.Describe(ctxFor(t)); err != nil {
			t.Fatalf("Describe: %v", err)
		}
		checkInfo(t, info, schema.KindConnector)
	})

	t.Run("BadConfig", func(t *testing.T) {
		if len(fx.BadConfigs) == 0 {
			t.Error("the fixture lists no bad configuration")
		}
		ctx := ctxFor(t)
		for i, bad := range fx.BadConfigs {
			bid := fmt.Sprintf("bad-%d", i)
			diags, err := c.Configure(ctx, bid, bad)
			if err != nil {
				t.Errorf("bad config %d: want diagnostics, got an error: %v", i, err)
				continue
			}
			if !diags.HasErrors() {
				t.Errorf("bad config %d was accepted; want error diagnostics", i)
			}
			for _, d := range diags {
				if d.Summary == "" {
					t.Errorf("bad config %d: a diagnostic has no summary", i)
				}
			}
			if err := c.Test(ctx, bid); !errors.Is(err, fault.ErrInstanceNotFound) {
				t.Errorf("bad config %d left an instance behind: Test gave %v, want ErrInstanceNotFound", i, err)
			}
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), fx.timeout())
	diags, err := c.Configure(ctx, id, fx.Config)
	cancel()
	if err != nil || diags.HasErrors() {
		t.Fatalf("Configure the fixture's config: %v %v", err, diags.Err())
	}
	t.Cleanup(func() { _ = c.CloseInstance(context.Background(), id) })

	t.Run("Test", func(t *testing.T) {
		ctx := ctxFor(t)
		if err := c.Test(ctx, id); err != nil {
			t.Fatalf("Test: %v", err)
		}
		// Configuring the same instance again replaces it.
		if diags, err := c.Configure(ctx, id, fx.Config); err != nil || diags.HasErrors() {
			t.Fatalf("Configure again: %v %v", err, diags.Err())
		}
		if err := c.Test(ctx, id); err != nil {
			t.Fatalf("Test after reconfiguring: %v", err)
		}
	})

	// erase returns the rows an Erase reports changed.
	erase := func(ctx context.Context, req connector.EraseRequest) (int64, error) {
		res, err := c.Erase(ctx, id, req)
		return res.Rows, err
	}
	cols := fx.columns()
	allFields := paths(cols...)
	cmp := comparer{offset: slices.Contains(fx.Supports, KindTimeOffset)}
	run := func(ctx context.Context, t *testing.T, req connector.AccessRequest) []connector.Row {
		t.Helper()
		req.Collection, req.RequestID = fx.Collection, "conformance"
		var rows []connector.Row
		n, err := c.Access(ctx, id, req, func(b []connector.Row) error { rows = append(rows, b...); return nil })
		if err != nil {
			t.Fatalf("Access %s: %v", describeFilters(req.Filters), err)
		}
		if n != int64(len(rows)) {
			t.Errorf("Access reported %d rows, delivered %d", n, len(rows))
		}
		sortByID(t, rows)
		return rows
	}
	// expectRows compares rows (sorted by id) with want, column by column.
	expectRows := func(t *testing.T, got, want []connector.Row, fields []string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %d rows (ids %v), want %d (ids %v)", len(got), ids(got), len(want), ids(want))
		}
		for i := range want {
			if extra := extraKeys(got[i], fields); len(extra) > 0 {
				t.Errorf("row %v has fields %v that were not requested", got[i]["id"], extra)
			}
			for _, col := range fields {
				v, ok := got[i][col]
				if !ok {
					t.Errorf("row %v lacks requested field %s", want[i]["id"], col)
					continue
				}
				if err := cmp.same(want[i][col], v); err != nil {
					t.Errorf("row %v field %s: %v", want[i]["id"], col, err)
				}
			}
		}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		ctx := ctxFor(t)
		want := fx.edgeRows()
		fx.Reset(t, want)
		got := run(ctx, t, connector.AccessRequest{Fields: allFields, Filters: byID(1, 2, 3)})
		expectRows(t, got, want, cols)
		// A value full of quotes and SQL is data: it matches itself only.
		got = run(ctx, t, connector.AccessRequest{Fields: paths("id"), Filters: []connector.Filter{
			{Field: connector.Path{"name"}, Values: []any{edgeName, "x' OR '1'='1"}},
		}})
		if !slices.Equal(ids(got), []int64{2}) {
			t.Errorf("filter on a name with quotes: ids %v, want [2]", ids(got))
		}
	})

	t.Run("Filters", func(t *testing.T) {
		ctx := ctxFor(t)
		var seed []connector.Row
		for i := int64(1); i <= 20; i++ {
			seed = append(seed, fx.row(i, fmt.Sprintf("name %d", i)))
		}
		fx.Reset(t, seed)
		tests := []struct {
			name    string
			fields  []string
			filters []connector.Filter
			want    []int64
		}{
			{"one value", []string{"id", "email"}, []connector.Filter{
				{Field: connector.Path{"email"}, Values: []any{"user4@example.com"}},
			}, []int64{4}},
			{"IN list with a value matching nothing", []string{"id"}, []connector.Filter{
				{Field: connector.Path{"email"}, Values: []any{"user3@example.com", "user7@example.com", "nobody@example.com"}},
			}, []int64{3, 7}},
			{"two filters are ORed, overlap counted once", []string{"id", "name"}, []connector.Filter{
				{Field: connector.Path{"email"}, Values: []any{"user3@example.com", "user7@example.com"}},
				{Field: connector.Path{"id"}, Values: []any{int64(11), int64(7)}},
			}, []int64{3, 7, 11}},
			{"int64 column", []string{"id", "n"}, []connector.Filter{
				{Field: connector.Path{"n"}, Values: []any{int64(5000), int64(20000)}},
			}, []int64{5, 20}},
			{"nothing matches", []string{"id"}, []connector.Filter{
				{Field: connector.Path{"email"}, Values: []any{"nobody@example.com"}},
			}, nil},
			{"every column requested", cols, byID(9), []int64{9}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := run(ctx, t, connector.AccessRequest{Fields: paths(tc.fields...), Filters: tc.filters})
				if !slices.Equal(ids(got), tc.want) {
					t.Fatalf("ids %v, want %v", ids(got), tc.want)
				}
				want := make([]connector.Row, len(tc.want))
				for i, k := range tc.want {
					want[i] = seed[k-1]
				}
				expectRows(t, got, want, tc.fields)
			})
		}
		t.Run("limit", func(t *testing.T) {
			all := make([]any, 20)
			for i := range all {
				all[i] = fmt.Sprintf("user%d@example.com", i+1)
			}
			got := run(ctx, t, connector.AccessRequest{Fields: paths("id"), Limit: 3, Filters: []connector.Filter{
				{Field: connector.Path{"email"}, Values: all},
			}})
			if len(got) != 3 {
				t.Errorf("Limit 3 gave %d rows", len(got))
			}
		})
	})

	t.Run("NoFilterRefused", func(t *testing.T) {
		ctx := ctxFor(t)
		for name, req := range map[string]connector.AccessRequest{
			"no filter":          {Fields: allFields},
			"filter of no value": {Fields: allFields, Filters: []connector.Filter{{Field: connector.Path{"id"}}}},
			"no field":           {Filters: byID(1)},
		} {
			req.Collection = fx.Collection
			called := false
			_, err := c.Access(ctx, id, req, func([]connector.Row) error { called = true; return nil })
			if err == nil || fault.KindOf(err) != fault.Permanent {
				t.Errorf("Access with %s: got %v, want a permanent fault", name, err)
			}
			if called {
				t.Errorf("Access with %s returned rows", name)
			}
		}
	})

	// bulk is 1,200 rows of about 1 KiB that share one email, as the
	// orders of one customer do.
	const bulkRows = 1200
	const bulkEmail = "bulk@example.com"
	bulk := func() []connector.Row {
		rows := make([]connector.Row, bulkRows)
		for i := range rows {
			k := int64(i + 1)
			r := fx.row(k, fmt.Sprintf("%06d:", k)+strings.Repeat("abcdefghijklmnopqrstuvwxyz012345", 31))
			r["email"] = bulkEmail
			rows[i] = r
		}
		return rows
	}
	bulkReq := connector.AccessRequest{Fields: allFields, Filters: []connector.Filter{
		{Field: connector.Path{"email"}, Values: []any{bulkEmail}},
	}}

	t.Run("ManyBatches", func(t *testing.T) {
		ctx := ctxFor(t)
		seed := bulk()
		fx.Reset(t, seed)
		req := bulkReq
		req.Collection, req.RequestID = fx.Collection, "conformance"
		batches := 0
		var got []connector.Row
		n, err := c.Access(ctx, id, req, func(rows []connector.Row) error {
			batches++
			got = append(got, rows...)
			return nil
		})
		if err != nil {
			t.Fatalf("Access: %v", err)
		}
		if n != bulkRows || len(got) != bulkRows {
			t.Fatalf("got %d rows (reported %d), want %d", len(got), n, bulkRows)
		}
		sortByID(t, got)
		for i := 1; i < len(got); i++ {
			if got[i]["id"] == got[i-1]["id"] {
				t.Fatalf("row %v arrived twice", got[i]["id"])
			}
		}
		expectRows(t, got, seed, cols)
		if batches < 2 {
			t.Errorf("%d rows of 1 KiB came in %d batch; want bounded batches", bulkRows, batches)
		}
	})

	t.Run("CancelMidStream", func(t *testing.T) {
		ctx := ctxFor(t)
		fx.Reset(t, bulk())
		req := bulkReq
		req.Collection = fx.Collection
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var cancelled time.Time
		rows := 0
		_, err := c.Access(cctx, id, req, func(b []connector.Row) error {
			rows += len(b)
			if cancelled.IsZero() {
				cancelled = time.Now()
				cancel()
			}
			return nil
		})
		if cancelled.IsZero() {
			t.Fatalf("no row arrived: %v", err)
		}
		if d := time.Since(cancelled); d > 2*time.Second {
			t.Errorf("Access returned %s after its context was cancelled; want under 2s", d)
		}
		switch {
		case err == nil:
			// Only possible when the whole answer was already on its way.
			t.Logf("Access completed (%d rows) before the cancellation reached it", rows)
		case !errors.Is(err, context.Canceled):
			t.Errorf("cancelled Access: got %v, want context.Canceled", err)
		case rows >= bulkRows:
			t.Errorf("cancelled Access delivered all %d rows and still failed", rows)
		}
		// The instance still answers.
		if got := run(ctx, t, connector.AccessRequest{Fields: paths("id"), Filters: byID(1)}); len(got) != 1 {
			t.Errorf("after a cancel: %d rows, want 1", len(got))
		}
	})

	t.Run("Erase", func(t *testing.T) {
		ctx := ctxFor(t)
		var seed []connector.Row
		for i := int64(1); i <= 5; i++ {
			seed = append(seed, fx.row(i, fmt.Sprintf("name %d", i)))
		}
		fx.Reset(t, seed)
		set := connector.Row{"name": "masked", "email": nil, "n": int64(-1)}
		if fx.supports(KindDecimal) {
			set["d"] = value.Decimal("0.00")
		}
		if fx.supports(KindBool) {
			set["flag"] = false
		}
		if fx.supports(KindTime) {
			set["ts"] = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		if fx.supports(KindLocalTime) {
			set["ts"] = value.Local(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
		}
		if fx.supports(KindBytes) {
			set["b"] = nil
		}
		want := make([]connector.Row, len(seed))
		for i, r := range seed {
			want[i] = r
			if k := r["id"].(int64); k == 2 || k == 4 {
				masked := connector.Row{}
				for c, v := range r {
					masked[c] = v
				}
				for c, v := range set {
					masked[c] = v
				}
				want[i] = masked
			}
		}
		req := connector.EraseRequest{RequestID: "conformance", Collection: fx.Collection, Updates: []connector.RowUpdate{
			{Key: connector.Row{"id": int64(2)}, Set: set},
			{Key: connector.Row{"id": int64(4)}, Set: set},
		}}
		n, err := erase(ctx, req)
		if err != nil {
			t.Fatalf("Erase: %v", err)
		}
		if n != 2 {
			t.Errorf("Erase of 2 rows reported %d rows affected", n)
		}
		expectRows(t, run(ctx, t, connector.AccessRequest{Fields: allFields, Filters: byID(1, 2, 3, 4, 5)}), want, cols)

		n, err = erase(ctx, req)
		if err != nil {
			t.Fatalf("second identical Erase: %v", err)
		}
		if n != 0 && n != 2 {
			t.Errorf("second identical Erase reported %d rows affected; want 0 (changed) or 2 (matched)", n)
		}
		expectRows(t, run(ctx, t, connector.AccessRequest{Fields: allFields, Filters: byID(1, 2, 3, 4, 5)}), want, cols)

		// Every key field must match; a key matching nothing is no error.
		n, err = erase(ctx, connector.EraseRequest{Collection: fx.Collection, Updates: []connector.RowUpdate{
			{Key: connector.Row{"id": int64(3), "email": "someone-else@example.com"}, Set: connector.Row{"name": "wrong"}},
			{Key: connector.Row{"id": int64(999)}, Set: connector.Row{"name": "wrong"}},
		}})
		if err != nil || n != 0 {
			t.Errorf("Erase of keys matching no row: %d rows affected, %v; want 0 and no error", n, err)
		}
		n, err = erase(ctx, connector.EraseRequest{Collection: fx.Collection, Updates: []connector.RowUpdate{
			{Key: connector.Row{"id": int64(3), "email": "user3@example.com"}, Set: connector.Row{"name": "by composite key"}},
		}})
		if err != nil || n != 1 {
			t.Errorf("Erase by a two-field key: %d rows affected, %v; want 1", n, err)
		}
		want[2] = cloneRow(want[2])
		want[2]["name"] = "by composite key"
		expectRows(t, run(ctx, t, connector.AccessRequest{Fields: allFields, Filters: byID(1, 2, 3, 4, 5)}), want, cols)
	})

	t.Run("ExactMatch", func(t *testing.T) {
		fx.runExactMatch(t, ctxFor, func(ctx context.Context, t *testing.T, req connector.AccessRequest) []connector.Row {
			t.Helper()
			req.RequestID = "conformance"
			var rows []connector.Row
			if _, err := c.Access(ctx, id, req, func(b []connector.Row) error { rows = append(rows, b...); return nil }); err != nil {
				t.Fatalf("Access %s: %v", describeFilters(req.Filters), err)
			}
			sortByID(t, rows)
			return rows
		}, erase)
	})

	t.Run("EraseKeyNotUnique", func(t *testing.T) {
		ctx := ctxFor(t)
		seed := []connector.Row{fx.row(1, "one"), fx.row(2, "two"), fx.row(3, "three"), fx.row(4, "four")}
		const shared = "shared.key@example.com"
		seed[1]["email"], seed[2]["email"] = shared, shared
		fx.Reset(t, seed)
		// The first update is fine on its own; the second names a key
		// that two rows share. The whole batch must fail, and change
		// nothing.
		_, err := erase(ctx, connector.EraseRequest{RequestID: "conformance", Collection: fx.Collection, Updates: []connector.RowUpdate{
			{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"name": "masked"}},
			{Key: connector.Row{"email": shared}, Set: connector.Row{"name": "masked"}},
		}})
		switch {
		case err == nil:
			t.Error("Erase by a key that two rows share succeeded; want a permanent fault saying the key is not unique")
		case fault.KindOf(err) != fault.Permanent:
			t.Errorf("Erase by a key that two rows share: %v; want a permanent fault", err)
		case !strings.Contains(strings.ToLower(err.Error()), "unique"):
			t.Errorf("Erase by a key that two rows share: %q; want a message saying the key is not unique (what to fix)", err)
		case strings.Contains(err.Error(), shared):
			t.Errorf("the error of an Erase by a shared key quotes the key value: %q", err)
		}
		expectRows(t, run(ctx, t, connector.AccessRequest{Fields: allFields, Filters: byID(1, 2, 3, 4)}), seed, cols)
	})

	t.Run("Concurrent", func(t *testing.T) {
		ctx := ctxFor(t)
		const rows, workers, rounds = 40, 8, 4
		var seed []connector.Row
		for i := int64(1); i <= rows; i++ {
			seed = append(seed, fx.row(i, "c"))
		}
		fx.Reset(t, seed)
		all := make([]int64, rows)
		for i := range all {
			all[i] = int64(i + 1)
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds)
		for g := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := int64(g*5 + 1)
				for r := range rounds {
					if _, err := erase(ctx, connector.EraseRequest{Collection: fx.Collection, Updates: []connector.RowUpdate{
						{Key: connector.Row{"id": k}, Set: connector.Row{"name": fmt.Sprintf("g%d-%d", g, r)}},
					}}); err != nil {
						errs <- fmt.Errorf("worker %d: Erase: %w", g, err)
						return
					}
					seen := 0
					if _, err := c.Access(ctx, id, connector.AccessRequest{Collection: fx.Collection, Fields: allFields, Filters: byID(all...)},
						func(b []connector.Row) error { seen += len(b); return nil }); err != nil {
						errs <- fmt.Errorf("worker %d: Access: %w", g, err)
						return
					}
					if seen != rows {
						errs <- fmt.Errorf("worker %d saw %d rows, want %d", g, seen, rows)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got := run(ctx, t, connector.AccessRequest{Fields: paths("id", "name"), Filters: byID(all...)})
		for _, r := range got {
			k := r["id"].(int64)
			want := "c"
			if (k-1)%5 == 0 && (k-1)/5 < workers {
				want = fmt.Sprintf("g%d-%d", (k-1)/5, rounds-1)
			}
			if r["name"] != want {
				t.Errorf("row %d: name %v, want %q", k, r["name"], want)
			}
		}
	})

	t.Run("TenMiB", func(t *testing.T) {
		ctx := ctxFor(t)
		big := func(seed byte) string {
			b := make([]byte, 10<<20)
			for i := range b {
				b[i] = 'a' + byte((i*7+int(seed))%26)
			}
			return string(b)
		}
		first, second := big(1), big(2)
		r := fx.row(1, first)
		fx.Reset(t, []connector.Row{r, fx.row(2, "small")})
		got := run(ctx, t, connector.AccessRequest{Fields: paths("id", "name"), Filters: byID(1, 2)})
		if len(got) != 2 || got[0]["name"] != first {
			t.Fatalf("a row with a 10 MiB value did not come back intact (%d rows)", len(got))
		}
		n, err := erase(ctx, connector.EraseRequest{Collection: fx.Collection, Updates: []connector.RowUpdate{
			{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"name": second}},
		}})
		if err != nil || n != 1 {
			t.Fatalf("Erase batch of 10 MiB: %d rows affected, %v", n, err)
		}
		got = run(ctx, t, connector.AccessRequest{Fields: paths("id", "name"), Filters: byID(1)})
		if len(got) != 1 || got[0]["name"] != second {
			t.Fatal("the 10 MiB value written by Erase did not come back intact")
		}
	})

	t.Run("DryRun", func(t *testing.T) {
		ctx := ctxFor(t)
		q, err := c.DryRun(ctx, id, connector.AccessRequest{Collection: fx.Collection, Fields: allFields, Filters: byID(1)})
		if info.Has(schema.CapabilityDryRun) {
			if err != nil || strings.TrimSpace(q) == "" {
				t.Errorf("dry_run is advertised but DryRun gave %q, %v", q, err)
			}
		} else if !errors.Is(err, fault.ErrUnimplemented) {
			t.Errorf("dry_run is not advertised but DryRun gave %q, %v; want ErrUnimplemented", q, err)
		}
	})

	t.Run("CloseTwice", func(t *testing.T) {
		ctx := ctxFor(t)
		const cid = "closing"
		if diags, err := c.Configure(ctx, cid, fx.Config); err != nil || diags.HasErrors() {
			t.Fatalf("Configure: %v %v", err, diags.Err())
		}
		for i := 1; i <= 2; i++ {
			if err := c.CloseInstance(ctx, cid); err != nil {
				t.Errorf("CloseInstance #%d: %v", i, err)
			}
		}
		_, err := c.Access(ctx, cid, connector.AccessRequest{Collection: fx.Collection, Fields: allFields, Filters: byID(1)},
			func([]connector.Row) error { return nil })
		if !errors.Is(err, fault.ErrInstanceNotFound) {
			t.Errorf("Access on a closed instance: %v, want ErrInstanceNotFound", err)
		}
		// The other instance is unaffected.
		if err := c.Test(ctx, id); err != nil {
			t.Errorf("Test of another instance after a close: %v", err)
		}
	})
}

func paths(cols ...string) []connector.Path {
	out := make([]connector.Path, len(cols))
	for i, c := range cols {
		out[i] = connector.Path{c}
	}
	return out
}

func byID(keys ...int64) []connector.Filter {
	vals := make([]any, len(keys))
	for i, k := range keys {
		vals[i] = k
	}
	return []connector.Filter{{Field: connector.Path{"id"}, Values: vals}}
}

func ids(rows []connector.Row) []int64 {
	var out []int64
	for _, r := range rows {
		k, _ := r["id"].(int64)
		out = append(out, k)
	}
	return out
}

func sortByID(t *testing.T, rows []connector.Row) {
	t.Helper()
	for _, r := range rows {
		if _, ok := r["id"].(int64); !ok {
			t.Fatalf("a row's id is %T %v, want int64", r["id"], r["id"])
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i]["id"].(int64) < rows[j]["id"].(int64) })
}

func extraKeys(r connector.Row, fields []string) []string {
	var extra []string
	for k := range r {
		if !slices.Contains(fields, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return extra
}

func cloneRow(r connector.Row) connector.Row {
	out := make(connector.Row, len(r))
	for k, v := range r {
		out[k] = v
	}
	return out
}

func describeFilters(fs []connector.Filter) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%s IN %d values", f.Field, len(f.Values))
	}
	return "where " + strings.Join(parts, " OR ")
}
