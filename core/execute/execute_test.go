package execute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethehq/lethe/core/mask"
	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

func jane() map[string]string { return map[string]string{"email": "jane@example.com"} }

// decodePackage parses a JSON package into generic values.
func decodePackage(t *testing.T, data []byte) map[string][]map[string]any {
	t.Helper()
	var out map[string][]map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("package is not JSON: %v\n%s", err, data)
	}
	return out
}

func TestAccessPackageHoldsExactlyTheSubjectsRows(t *testing.T) {
	e := newEnv(t, shopDB(), nil)
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "access", jane())
	req, err := eng.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if req.Status != store.StatusComplete {
		t.Fatalf("status %s (%s)", req.Status, req.Reason)
	}
	got := decodePackage(t, e.mem.get(id+"/all.json"))
	want := map[string][]map[string]any{
		"app:users":  {{"id": 1.0, "email": "jane@example.com", "name": "Jane Doe", "tags": []any{"a", "b"}, "age": 40.0}},
		"app:orders": {{"user_id": 1.0, "note": "leave at door"}, {"user_id": 1.0, "note": nil}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("package:\n got %v\nwant %v", got, want)
	}
	wantCounts := map[string]store.NodeCounts{"app.users": {Found: 1}, "app.orders": {Found: 2}, "app.items": {Found: 2}}
	if !reflect.DeepEqual(req.Counts, wantCounts) {
		t.Fatalf("counts %v, want %v", req.Counts, wantCounts)
	}
	if len(req.Locations) != 1 || req.Locations[0] != "mem://"+id+"/all.json" {
		t.Fatalf("locations %v", req.Locations)
	}
	// The checkpoint rows are gone once the request finished.
	n := 0
	if err := e.st.ReadRows(context.Background(), id, store.PhaseAccess, "app.users", func(int, []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d checkpoint pages left after completion", n)
	}
}

// expectedAfterErasure is the shop after erasing Jane with the "erase"
// policy and the request's secrets.
func expectedAfterErasure(t *testing.T, sec mask.Secrets) map[string][]connector.Row {
	t.Helper()
	hmac := mask.Chain{{Strategy: mask.HMAC, Algorithm: mask.SHA256}}
	m := func(v string, length int) any {
		out, err := hmac.Mask(v, sec, length)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := shopDB().snapshot()
	want["users"][0]["email"] = m("jane@example.com", 0)
	want["users"][0]["name"] = m("Jane Doe", 8)
	want["orders"][0]["note"] = nil
	return want
}

func secretsOf(t *testing.T, st store.Store, id string) mask.Secrets {
	t.Helper()
	raw, err := st.MaskingSecrets(context.Background(), id)
	if err != nil || raw == nil {
		t.Fatalf("masking secrets: %v (nil: %v)", err, raw == nil)
	}
	pol, secRaw, err := decodeSubmission(raw)
	if err != nil || pol == nil {
		t.Fatalf("the request holds no policy snapshot: %v", err)
	}
	var sec mask.Secrets
	if err := sec.UnmarshalBinary(secRaw); err != nil {
		t.Fatal(err)
	}
	return sec
}

func TestErasureMasksExactlyTheTargets(t *testing.T) {
	e := newEnv(t, shopDB(), nil)
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "erase", jane())
	sec := secretsOf(t, e.st, id)
	req, err := eng.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if req.Status != store.StatusComplete {
		t.Fatalf("status %s (%s)", req.Status, req.Reason)
	}
	if got, want := e.db.snapshot(), expectedAfterErasure(t, sec); !reflect.DeepEqual(got, want) {
		t.Fatalf("database after erasure:\n got %v\nwant %v", got, want)
	}
	if c := req.Counts["app.users"]; c.Masked != 1 {
		t.Fatalf("users masked %d, want 1", c.Masked)
	}
	// Orders: row 10 had a note to null; row 11's note was already NULL, so
	// nothing is sent for it (NULL stays NULL).
	if c := req.Counts["app.orders"]; c.Masked != 1 {
		t.Fatalf("orders masked %d, want 1", c.Masked)
	}
	// Secrets are deleted with the request's checkpoints.
	if raw, _ := e.st.MaskingSecrets(context.Background(), id); raw != nil {
		t.Fatal("masking secrets kept after completion")
	}
}

func TestNonStringUnderStringStrategyFailsTheNode(t *testing.T) {
	e := newEnv(t, shopDB(), nil)
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "bad_mask", jane())
	req, err := eng.Run(context.Background(), id)
	if !errors.Is(err, ErrRequestFailed) {
		t.Fatalf("err = %v, want ErrRequestFailed", err)
	}
	if req.Status != store.StatusError {
		t.Fatalf("status %s", req.Status)
	}
	for _, want := range []string{`"age"`, "int64", "hash", `rule "age"`} {
		if !strings.Contains(req.Reason, want) {
			t.Errorf("reason %q does not name %s", req.Reason, want)
		}
	}
	if strings.Contains(req.Reason, "40") {
		t.Errorf("reason %q holds the row's value", req.Reason)
	}
	if got := e.db.snapshot(); !reflect.DeepEqual(got, shopDB().snapshot()) {
		t.Fatal("the database changed although erasure failed before any update")
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	db := shopDB()
	db.failN["orders"] = 2
	db.failErr = fault.AsTransient(errors.New("connection reset by peer"))
	e := newEnv(t, db, nil)
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "access", jane())
	req, err := eng.Run(context.Background(), id)
	if err != nil || req.Status != store.StatusComplete {
		t.Fatalf("run: %v, status %v", err, req)
	}
	evs, err := e.st.Events(context.Background(), id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	retries := 0
	for _, ev := range evs {
		if ev.Type == store.EventNodeRetry && ev.Node == "app.orders" {
			retries++
		}
	}
	if retries != 2 {
		t.Fatalf("%d retry events for app.orders, want 2", retries)
	}
}

func TestPermanentFailuresAreNotRetried(t *testing.T) {
	db := shopDB()
	db.failN["orders"] = 1
	db.failErr = fault.AsPermanent(errors.New(`relation "orders" does not exist`))
	e := newEnv(t, db, nil)
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "access", jane())
	req, err := eng.Run(context.Background(), id)
	if !errors.Is(err, ErrRequestFailed) || req.Status != store.StatusError {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(req.Reason, "does not exist") {
		t.Fatalf("reason %q", req.Reason)
	}
	if n := db.calls.Load(); n != 2 { // users, then orders once
		t.Fatalf("%d Access calls, want 2", n)
	}
	// Retrying the request from error resumes it: users is not queried again.
	if _, err := e.st.Transition(context.Background(), id, []store.Status{store.StatusError}, store.StatusApproved,
		store.Event{Type: store.EventStatus, Status: store.StatusApproved}, nil); err != nil {
		t.Fatal(err)
	}
	req, err = eng.Run(context.Background(), id)
	if err != nil || req.Status != store.StatusComplete {
		t.Fatalf("retry: %v %v", err, req.Status)
	}
	if n := db.calls.Load(); n != 4 { // + orders, items
		t.Fatalf("%d Access calls after retry, want 4", n)
	}
}

func TestFailedUploadEndsInError(t *testing.T) {
	e := newEnv(t, shopDB(), nil)
	e.mem.failN = 10
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "access", jane())
	req, err := eng.Run(context.Background(), id)
	if !errors.Is(err, ErrRequestFailed) || req.Status != store.StatusError {
		t.Fatalf("run: %v, %v", err, req)
	}
	if len(req.Locations) != 0 {
		t.Fatalf("locations %v on a failed upload", req.Locations)
	}
}

// TestResumeAfterCrash aborts a run at every failpoint in turn, as a crash
// there would, restarts with a new engine on the reopened store, and checks
// that the result equals a crash-free run's and that no finished node is
// queried or masked again.
func TestResumeAfterCrash(t *testing.T) {
	points := []string{
		PointAccessPage + ":app.users",
		PointAccessFinish + ":app.users",
		PointAccessFinish + ":app.orders",
		PointAccessFinish + ":app.items",
		PointUploadFinish + ":all",
		PointErasureBatch + ":app.orders:1",
		PointErasureFinish + ":app.orders",
		PointErasureBatch + ":app.users:1",
		PointErasureFinish + ":app.users",
	}
	// The crash-free package, for comparison.
	clean := newEnv(t, shopDB(), nil)
	ceng := clean.engine(t, nil)
	cid := clean.submit(t, ceng, "erase", jane())
	if _, err := ceng.Run(context.Background(), cid); err != nil {
		t.Fatal(err)
	}
	wantPkg := clean.mem.get(cid + "/all.json")

	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			e := newEnv(t, shopDB(), nil)
			crash := errors.New("simulated crash")
			eng := e.engine(t, func(o *Options) {
				o.Failpoint = func(p string) error {
					if p == point {
						return crash
					}
					return nil
				}
			})
			id := e.submit(t, eng, "erase", jane())
			sec := secretsOf(t, e.st, id)
			_, err := eng.Run(context.Background(), id)
			if !errors.Is(err, crash) {
				t.Fatalf("run: %v, want the simulated crash", err)
			}
			cur, _ := e.st.Get(context.Background(), id)
			if cur.Status != store.StatusInProcessing {
				t.Fatalf("status after crash %s, want in_processing", cur.Status)
			}
			doneBefore, _ := e.st.DoneNodes(context.Background(), id, store.PhaseAccess)
			callsBefore := e.db.calls.Load()

			e.reopen(t)
			eng2 := e.engine(t, nil)
			done, err := eng2.Resume(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(done) != 1 || done[0].Status != store.StatusComplete {
				t.Fatalf("resume: %+v", done)
			}
			// Access calls after resume: one per node not done before.
			if got, want := e.db.calls.Load()-callsBefore, int64(3-len(doneBefore)); got != want {
				t.Fatalf("%d queries after resume, want %d (done before: %v)", got, want, doneBefore)
			}
			if got := e.mem.get(id + "/all.json"); string(got) != string(wantPkg) {
				t.Fatalf("package after resume differs:\n got %s\nwant %s", got, wantPkg)
			}
			if got, want := e.db.snapshot(), expectedAfterErasure(t, sec); !reflect.DeepEqual(got, want) {
				t.Fatalf("database after resume:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestInputsAreChunked(t *testing.T) {
	db := shopDB()
	// Jane has 2,500 orders: items are found with 3 queries of at most
	// 1,000 order ids.
	db.tables["orders"] = nil
	db.tables["items"] = nil
	for i := range 2500 {
		db.tables["orders"] = append(db.tables["orders"], connector.Row{"id": int64(1000 + i), "user_id": int64(1), "note": "n"})
		db.tables["items"] = append(db.tables["items"], connector.Row{"id": int64(50000 + i), "order_id": int64(1000 + i), "sku": "S"})
	}
	e := newEnv(t, db, nil)
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "access", jane())
	req, err := eng.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got := db.calls.Load(); got != 1+1+3 {
		t.Fatalf("%d queries, want 5 (users, orders, 3 chunks of items)", got)
	}
	if c := req.Counts["app.items"]; c.Found != 2500 {
		t.Fatalf("items found %d, want 2500", c.Found)
	}
}

func TestCastDropsAndCountsBadInputs(t *testing.T) {
	db := shopDB()
	db.tables["users"][0]["id"] = int64(1)
	e := newEnv(t, db, nil)
	eng := e.engine(t, nil)
	// An e-mail that is empty after trimming is refused at submission.
	if _, err := eng.Submit(context.Background(), Submission{Policy: "access", Identities: map[string]string{"email": ""}}); err == nil {
		t.Fatal("empty identity accepted")
	}
	if _, err := eng.Submit(context.Background(), Submission{Policy: "nope", Identities: jane()}); err == nil || !strings.Contains(err.Error(), "access, erase") {
		t.Fatalf("unknown policy: %v", err)
	}
	if _, err := eng.Submit(context.Background(), Submission{Policy: "access", Identities: map[string]string{"phone": "1"}}); err == nil {
		t.Fatal("an identity no field declares was accepted")
	}
	if _, err := eng.Submit(context.Background(), Submission{Policy: "access", Identities: jane(), ResultKey: make([]byte, 15)}); err == nil {
		t.Fatal("15-byte result key accepted")
	}
	list, total, err := e.st.List(context.Background(), store.Filter{})
	if err != nil || total != 0 || len(list) != 0 {
		t.Fatalf("refused submissions stored something: %d", total)
	}
}

func TestCastTable(t *testing.T) {
	tests := []struct {
		typ  string
		in   any
		want any
		ok   bool
	}{
		{"integer", "12", int64(12), true},
		{"integer", "a", nil, false},
		{"integer", 1.9, nil, false},
		{"integer", 2.0, int64(2), true},
		{"string", int64(0), "0", true},
		{"string", "", nil, false},
		{"string", false, "false", true},
		{"float", "1.5", 1.5, true},
		{"boolean", "true", true, true},
		{"boolean", int64(2), nil, false},
		{"object_id", "5f1b2c3d4e5f60718293a4b5", nil, true},
		{"object_id", "xyz", nil, false},
		{"", []any{1}, nil, false},
		{"", "x", "x", true},
	}
	for _, tt := range tests {
		got, ok := cast(tt.typ, tt.in)
		if ok != tt.ok || (tt.want != nil && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("cast(%q, %#v) = %#v, %v; want %#v, %v", tt.typ, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// wideConfig is a root collection with fan-out children, each taking
// `delay` per query.
func wideConfig(children int, maxParallel int) map[string]string {
	var b strings.Builder
	fmt.Fprintf(&b, `dataset "w" {
  connection = "db"
  collection "root" {
    field "id" {
      type = "integer"
      primary_key = true
    }
    field "email" {
      type = "string"
      identity = "email"
      categories = ["user.contact.email"]
    }
  }
`)
	for i := range children {
		fmt.Fprintf(&b, `  collection "c%02d" {
    field "id" {
      type = "integer"
      primary_key = true
    }
    field "root_id" {
      type = "integer"
      categories = ["user.unique_id"]
      reference "w.root.id" {
        direction = "from"
      }
    }
  }
`, i)
	}
	b.WriteString("}\n")
	main := strings.Replace(mainHCL, "max_parallel = 4", fmt.Sprintf("max_parallel = %d", maxParallel), 1)
	return map[string]string{"main.hcl": main, "w.hcl": b.String(), "p.hcl": `policy "access" {
  rule "all" {
    action = "access"
    targets = ["user"]
    storage = "mem"
  }
}`}
}

func TestParallelWithinLimits(t *testing.T) {
	db := newMemDB()
	db.delay = 40 * time.Millisecond
	db.tables["root"] = []connector.Row{{"id": int64(1), "email": "jane@example.com"}}
	for i := range 12 {
		db.tables[fmt.Sprintf("c%02d", i)] = []connector.Row{{"id": int64(i), "root_id": int64(1)}}
	}
	e := newEnv(t, db, wideConfig(12, 4))
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "access", jane())
	start := time.Now()
	req, err := eng.Run(context.Background(), id)
	if err != nil || req.Status != store.StatusComplete {
		t.Fatalf("run: %v", err)
	}
	took := time.Since(start)
	if got := db.maxIn.Load(); got != 4 {
		t.Fatalf("at most %d queries ran at once, want exactly the connection's max_parallel 4", got)
	}
	// 1 root + 12 children in waves of 4: 4 rounds of the delay. Sequential
	// would be 13. The bound is loose on purpose (shared CI machines).
	if took > 12*db.delay {
		t.Fatalf("took %v: the children did not run in parallel", took)
	}
}

func TestCancelStopsTheRun(t *testing.T) {
	db := newMemDB()
	db.delay = 200 * time.Millisecond
	db.tables["root"] = []connector.Row{{"id": int64(1), "email": "jane@example.com"}}
	for i := range 6 {
		db.tables[fmt.Sprintf("c%02d", i)] = []connector.Row{{"id": int64(i), "root_id": int64(1)}}
	}
	// Cancel once the children's queries are running (after the root's).
	childStarted := make(chan struct{})
	var once sync.Once
	db.onAccess = func(req connector.AccessRequest) {
		if req.Collection.Name != "root" {
			once.Do(func() { close(childStarted) })
		}
	}
	e := newEnv(t, db, wideConfig(6, 2))
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "access", jane())
	go func() {
		<-childStarted
		eng.Cancel(id)
	}()
	start := time.Now()
	_, err := eng.Run(context.Background(), id)
	if err == nil {
		t.Fatal("cancelled run returned no error")
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("cancel did not stop the run promptly")
	}
	cur, _ := e.st.Get(context.Background(), id)
	if cur.Status != store.StatusInProcessing {
		t.Fatalf("status %s: a cancelled run must stay resumable", cur.Status)
	}
}

const arraysHCL = `
dataset "docs" {
  connection = "db"
  collection "people" {
    field "id" {
      type        = "integer"
      primary_key = true
    }
    field "emails" {
      type       = "string[]"
      identity   = "email"
      categories = ["user.contact.email"]
    }
    field "all_emails" {
      type       = "string[]"
      categories = ["user.contact.email"]
    }
    field "children" {
      type = "object[]"
      field "name" {
        type       = "string"
        categories = ["user.name"]
      }
      field "email" {
        type       = "string"
        identity   = "email"
        categories = ["user.contact.email"]
      }
    }
  }
}
`

func TestEntryPointArrays(t *testing.T) {
	db := newMemDB()
	db.tables["people"] = []connector.Row{{
		"id":         int64(1),
		"emails":     []any{"other@example.com", "jane@example.com", "third@example.com"},
		"all_emails": []any{"x@example.com", "y@example.com"},
		"children": []any{
			map[string]any{"name": "Kid", "email": "kid@example.com"},
			map[string]any{"name": "Jane", "email": "jane@example.com"},
		},
	}}
	files := map[string]string{"main.hcl": mainHCL, "docs.hcl": arraysHCL, "p.hcl": policiesHCL}
	e := newEnv(t, db, files)
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "erase", jane())
	sec := secretsOf(t, e.st, id)
	req, err := eng.Run(context.Background(), id)
	if err != nil || req.Status != store.StatusComplete {
		t.Fatalf("run: %v", err)
	}
	// Access: only the matching elements of entry arrays; other arrays whole.
	got := decodePackage(t, e.mem.get(id+"/all.json"))
	want := map[string][]map[string]any{"docs:people": {{
		"emails":     []any{"jane@example.com"},
		"all_emails": []any{"x@example.com", "y@example.com"},
		"children":   []any{map[string]any{"name": "Jane", "email": "jane@example.com"}},
	}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("package:\n got %v\nwant %v", got, want)
	}
	// Erasure: only the matched elements are masked, in place; arrays that
	// are not entry points are masked whole.
	h := func(s string) any {
		v, err := mask.Chain{{Strategy: mask.HMAC, Algorithm: mask.SHA256}}.Mask(s, sec, 0)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	row := db.snapshot()["people"][0]
	wantRow := map[string]any{
		"id":         int64(1),
		"emails":     []any{"other@example.com", h("jane@example.com"), "third@example.com"},
		"all_emails": []any{h("x@example.com"), h("y@example.com")},
		"children": []any{
			map[string]any{"name": "Kid", "email": "kid@example.com"},
			map[string]any{"name": h("Jane"), "email": h("jane@example.com")},
		},
	}
	if !reflect.DeepEqual(map[string]any(row), wantRow) {
		t.Fatalf("row after erasure:\n got %v\nwant %v", row, wantRow)
	}
}

func TestReadOnlyConnectionRefusesErasure(t *testing.T) {
	files := map[string]string{
		"main.hcl":     strings.Replace(mainHCL, `access       = "write"`, `access       = "read"`, 1),
		"shop.hcl":     shopHCL,
		"policies.hcl": policiesHCL,
	}
	e := newEnv(t, shopDB(), files)
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "erase", jane())
	req, err := eng.Run(context.Background(), id)
	if !errors.Is(err, ErrRequestFailed) || req.Status != store.StatusError {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(req.Reason, `access = "write"`) {
		t.Fatalf("reason %q does not say what to fix", req.Reason)
	}
	if e.db.erases.Load() != 0 {
		t.Fatal("Erase called on a read-only connection")
	}
}

// TestConfigureOncePerInstance: nodes that start together on one
// connection configure its instance once; a second Configure would replace
// the instance under a running node (the PostgreSQL connector closed the
// first pool: "closed pool").
func TestConfigureOncePerInstance(t *testing.T) {
	e := &Engine{configured: map[string]error{}, configLock: map[string]*sync.Mutex{}, firstFP: map[string]string{}}
	var calls atomic.Int64
	fn := func(context.Context, string, map[string]any) (schema.Diagnostics, error) {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return nil, nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.configure(context.Background(), "connection db", "db", nil, fn); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("Configure ran %d times, want once", n)
	}
	failing := func(context.Context, string, map[string]any) (schema.Diagnostics, error) {
		calls.Add(1)
		return nil, errors.New("connection refused")
	}
	for range 2 {
		if err := e.configure(context.Background(), "connection other", "other", nil, failing); err == nil {
			t.Fatal("a failed Configure reported success")
		}
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("a failed Configure must be tried again by the next node: %d calls, want 3", n)
	}
}

// TestRequestRunsThePolicyItWasAcceptedUnder: a policy changed between
// submission and run (through the API, say) does not change what the
// request does: it masks what the policy said when it was accepted, with
// the secrets generated for that policy.
func TestRequestRunsThePolicyItWasAcceptedUnder(t *testing.T) {
	e := newEnv(t, shopDB(), nil)
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "erase", jane())
	sec := secretsOf(t, e.st, id)
	changed := strings.Replace(policiesHCL, `strategy = "hmac"`, `strategy = "hash"`, 1)
	changed = strings.Replace(changed, `targets = ["user.content.private"]`, `targets = ["user.demographic"]`, 1)
	if changed == policiesHCL {
		t.Fatal("the policy was not changed")
	}
	if err := eng.Reconfigure(testConfig(t, map[string]string{"main.hcl": mainHCL, "shop.hcl": shopHCL, "policies.hcl": changed})); err != nil {
		t.Fatal(err)
	}
	req, err := eng.Run(context.Background(), id)
	if err != nil || req.Status != store.StatusComplete {
		t.Fatalf("run: %v (%v)", err, req)
	}
	if got, want := e.db.snapshot(), expectedAfterErasure(t, sec); !reflect.DeepEqual(got, want) {
		t.Fatalf("database after erasure:\n got %v\nwant %v", got, want)
	}
	// A request submitted now runs the changed policy.
	if eng.Config().Policy("erase").Rules[1].Masking[0].Strategy != "hash" {
		t.Fatal("Reconfigure did not put the new policy in force")
	}
}

// TestTransientFailuresEndAtTheCap: a node whose query keeps failing before
// it stores anything is tried Attempts times, numbered 1, 2, 3, and then
// fails the request; an attempt that wrote nothing still counts.
func TestTransientFailuresEndAtTheCap(t *testing.T) {
	db := shopDB()
	db.failN["orders"] = 1000
	db.failErr = fault.AsTransient(errors.New("connection reset by peer"))
	e := newEnv(t, db, nil)
	eng := e.engine(t, func(o *Options) { o.Attempts = 3 })
	id := e.submit(t, eng, "access", jane())
	req, err := eng.Run(context.Background(), id)
	if !errors.Is(err, ErrRequestFailed) || req.Status != store.StatusError {
		t.Fatalf("run: %v", err)
	}
	evs, err := e.st.Events(context.Background(), id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		if ev.Node == "app.orders" && (ev.Type == store.EventNodeRetry || ev.Type == store.EventNodeFailed) {
			got = append(got, fmt.Sprintf("%s %d", ev.Type, ev.Attempt))
		}
	}
	want := []string{"node_retry 1", "node_retry 2", "node_failed 3"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// TestResumeMultiPageNode crashes a node of two pages after its first page
// is stored (it is committed on its own) and again when its last page is
// ready (it would be stored with the outcome): the resumed run re-runs the
// node from scratch and stores every row once.
func TestResumeMultiPageNode(t *testing.T) {
	const orders = pageRows + 500
	for _, hit := range []int{1, 2} {
		t.Run(fmt.Sprintf("page%d", hit), func(t *testing.T) {
			db := shopDB()
			db.tables["orders"], db.tables["items"] = nil, nil
			for i := range orders {
				db.tables["orders"] = append(db.tables["orders"], connector.Row{"id": int64(1000 + i), "user_id": int64(1), "note": "n"})
			}
			e := newEnv(t, db, nil)
			crash := errors.New("simulated crash")
			hits := 0
			eng := e.engine(t, func(o *Options) {
				o.Failpoint = func(p string) error {
					if p == PointAccessPage+":app.orders" {
						if hits++; hits == hit {
							return crash
						}
					}
					return nil
				}
			})
			id := e.submit(t, eng, "access", jane())
			if _, err := eng.Run(context.Background(), id); !errors.Is(err, crash) {
				t.Fatalf("run: %v, want the simulated crash", err)
			}
			if _, done, _ := e.st.NodeDone(context.Background(), id, store.PhaseAccess, "app.orders"); done {
				t.Fatal("app.orders done before its outcome was stored")
			}
			e.reopen(t)
			done, err := e.engine(t, nil).Resume(context.Background())
			if err != nil || len(done) != 1 || done[0].Status != store.StatusComplete {
				t.Fatalf("resume: %+v, %v", done, err)
			}
			if c := done[0].Counts["app.orders"]; c.Found != orders {
				t.Errorf("orders found %d, want %d", c.Found, orders)
			}
			// The package holds every order once (a duplicated page would
			// add rows).
			if n := len(decodePackage(t, e.mem.get(id+"/all.json"))["app:orders"]); n != orders {
				t.Errorf("%d orders in the package, want %d", n, orders)
			}
		})
	}
}

// TestCommitsPerNode pins the store's write cost of a node: beginning it
// commits nothing, and its outcome (last page, counts, done event) is one
// commit. Nodes run one at a time here, so no two share a commit and the
// count is exact: one per node, plus the request's own transitions.
func TestCommitsPerNode(t *testing.T) {
	db := newMemDB()
	db.tables["root"] = []connector.Row{{"id": int64(1), "email": "jane@example.com"}}
	for i := range 10 {
		db.tables[fmt.Sprintf("c%02d", i)] = []connector.Row{{"id": int64(i + 1), "parent_id": int64(1)}}
	}
	for i := range 39 {
		db.tables[fmt.Sprintf("g%02d", i)] = []connector.Row{{"id": int64(100 + i), "parent_id": int64(i%10 + 1)}}
	}
	files := treeConfig()
	files["main.hcl"] = strings.Replace(files["main.hcl"], "max_parallel_nodes = 64", "max_parallel_nodes = 1", 1)
	e := newEnv(t, db, files)
	eng := e.engine(t, nil)
	id := e.submit(t, eng, "access", jane())
	before := e.st.Commits()
	req, err := eng.Run(context.Background(), id)
	if err != nil || req.Status != store.StatusComplete {
		t.Fatalf("run: %v", err)
	}
	commits := e.st.Commits() - before
	const nodes, upload = 50, 1
	overhead := commits - nodes - upload
	t.Logf("%d commits for %d nodes and %d upload", commits, nodes, upload)
	// The request's transitions and blobs cost a few commits whatever the
	// graph's size; a second commit per node would add 50.
	if overhead < 0 || overhead > 5 {
		t.Errorf("%d commits for %d nodes: want one per node (and upload) plus at most 5 for the request, got %d more", commits, nodes, overhead)
	}
}
