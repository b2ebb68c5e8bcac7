package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/execute"
	"github.com/lethehq/lethe/core/pluginhost"
	"github.com/lethehq/lethe/core/store"
)

// grow gives jane@example.com (customer 1) orders orders with 3 items
// each, and as many logins and visits, on top of the example data.
func grow(t testing.TB, b *backend, orders int) {
	t.Helper()
	stmts := []string{
		fmt.Sprintf(`INSERT INTO orders (id, customer_id, shipping_address_id, placed_at, status, total)
			SELECT g, 1, 1 + g %% 7, '2024-04-01T00:00:00Z', 'delivered', 12.34 FROM generate_series(10000, %d) AS g`, 10000+orders-1),
		fmt.Sprintf(`INSERT INTO order_items (id, order_id, product_id, quantity, unit_price)
			SELECT g, 10000 + (g - 100000) / 3, 1 + g %% 4, 1, 8.90 FROM generate_series(100000, %d) AS g`, 100000+3*orders-1),
		fmt.Sprintf(`INSERT INTO logins (id, customer_id, logged_in_at, ip_address)
			SELECT g, 1, '2024-04-01T00:00:00Z', '198.51.100.7' FROM generate_series(10000, %d) AS g`, 10000+orders-1),
		fmt.Sprintf(`INSERT INTO visits (id, email, page, visited_at, ip_address)
			SELECT g, 'jane@example.com', '/products/' || g, '2024-04-01T00:00:00Z', '198.51.100.7' FROM generate_series(10000, %d) AS g`, 10000+orders-1),
		`ANALYZE`,
	}
	for _, s := range stmts {
		if _, err := b.db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

// floor issues the SELECTs of an access request for jane@example.com over
// the example schema (as `lethe plan` prints them) directly with pgx, in
// dependency order, reading every value, with IN lists of at most 1,000
// values: what a hand-written program would do. It returns the rows read.
func floor(ctx context.Context, conn *pgx.Conn) (int, error) {
	total := 0
	query := func(sql string, args []any, keep map[string]*[]any) error {
		rows, err := conn.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		fields := rows.FieldDescriptions()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return err
			}
			total++
			for i, f := range fields {
				if dst, ok := keep[f.Name]; ok && vals[i] != nil {
					*dst = append(*dst, vals[i])
				}
			}
		}
		return rows.Err()
	}
	// in runs sql once per chunk of values, with "IN (...)" built for it.
	in := func(sql string, values []any, keep map[string]*[]any) error {
		values = dedupe(values)
		for start := 0; start < len(values); start += 1000 {
			chunk := values[start:min(start+1000, len(values))]
			marks := make([]string, len(chunk))
			for i := range chunk {
				marks[i] = "$" + strconv.Itoa(i+1)
			}
			if err := query(strings.Replace(sql, "IN (?)", "IN ("+strings.Join(marks, ", ")+")", 1), chunk, keep); err != nil {
				return err
			}
		}
		return nil
	}
	email := []any{"jane@example.com"}
	var custIDs, custAddr, empIDs, empAddr, orderIDs, shipAddr, cardAddr, productIDs []any
	steps := []func() error{
		func() error {
			return in(`SELECT "id", "email", "name", "phone", "address_id", "created_at" FROM "customers" WHERE "email" IN (?)`, email,
				map[string]*[]any{"id": &custIDs, "address_id": &custAddr})
		},
		func() error {
			return in(`SELECT "id", "email", "name", "job_title", "address_id" FROM "employees" WHERE "email" IN (?)`, email,
				map[string]*[]any{"id": &empIDs, "address_id": &empAddr})
		},
		func() error {
			return query(`SELECT "id", "requester_email", "cc_email", "subject", "body", "assignee_id", "opened_at" FROM "support_tickets" WHERE "assignee_id" IN ($1) OR "cc_email" IN ($2) OR "requester_email" IN ($3)`,
				[]any{empIDs[0], email[0], email[0]}, nil)
		},
		func() error {
			return in(`SELECT "id", "email", "page", "visited_at", "ip_address" FROM "visits" WHERE "email" IN (?)`, email, nil)
		},
		func() error {
			return in(`SELECT "id", "email", "month", "year", "total_visits" FROM "reports" WHERE "email" IN (?)`, email, nil)
		},
		func() error {
			return in(`SELECT "id", "customer_id", "logged_in_at", "ip_address" FROM "logins" WHERE "customer_id" IN (?)`, custIDs, nil)
		},
		func() error {
			return in(`SELECT "id", "customer_id", "shipping_address_id", "placed_at", "status", "total" FROM "orders" WHERE "customer_id" IN (?)`, custIDs,
				map[string]*[]any{"id": &orderIDs, "shipping_address_id": &shipAddr})
		},
		func() error {
			return in(`SELECT "id", "customer_id", "billing_address_id", "card_holder", "ccn", "expiry", "preferred" FROM "payment_cards" WHERE "customer_id" IN (?)`, custIDs,
				map[string]*[]any{"billing_address_id": &cardAddr})
		},
		func() error {
			all := append(append(append(append([]any{}, custAddr...), empAddr...), shipAddr...), cardAddr...)
			return in(`SELECT "id", "street", "city", "state", "postal_code", "country" FROM "addresses" WHERE "id" IN (?)`, all, nil)
		},
		func() error {
			return in(`SELECT "id", "order_id", "product_id", "quantity", "unit_price" FROM "order_items" WHERE "order_id" IN (?)`, orderIDs,
				map[string]*[]any{"product_id": &productIDs})
		},
		func() error {
			return in(`SELECT "id", "name", "price" FROM "products" WHERE "id" IN (?)`, productIDs, nil)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return total, err
		}
	}
	return total, nil
}

func dedupe(values []any) []any {
	seen := map[any]bool{}
	out := values[:0:0]
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// engine opens the configuration in dir with a running plugin host and a
// bbolt store, as `lethe run` and `lethe serve` do.
func engine(t testing.TB, dir string) *execute.Engine {
	t.Helper()
	_, plugins := binaries(t)
	cfg, diags := config.Load(dir)
	if !diags.HasErrors() {
		diags = append(diags, cfg.Validate()...)
	}
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	st, err := store.Open(cfg.Server.StateDir, store.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	host, err := pluginhost.New(pluginhost.Options{Dir: plugins, Logger: hclog.NewNullLogger(), WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close(context.Background()) })
	opts := execute.Options{Config: cfg, Store: st, Plugins: execute.HostPlugins(host), Logger: hclog.NewNullLogger()}
	if os.Getenv("LETHE_BENCH_TRACE") != "" {
		start := time.Now()
		opts.Observe = func(p execute.Progress) {
			if p.Duration > 0 {
				fmt.Fprintf(os.Stderr, "%8s %-8s %-22s %6d rows %8s\n", time.Since(start).Round(time.Millisecond), p.Phase, p.Node, p.Rows, p.Duration.Round(time.Millisecond))
			}
		}
	}
	eng, err := execute.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func runAccess(t testing.TB, eng *execute.Engine) *store.Request {
	t.Helper()
	ctx := context.Background()
	req, err := eng.Submit(ctx, execute.Submission{Policy: "access", Identities: map[string]string{"email": "jane@example.com"}, Source: store.SourceCLI})
	if err != nil {
		t.Fatal(err)
	}
	done, err := eng.Run(ctx, req.ID)
	if err != nil || done.Status != store.StatusComplete {
		t.Fatalf("run: %v", err)
	}
	return done
}

// BenchmarkAccessVsPgx: an access request for jane over the example schema
// on PostgreSQL, with 5,000 orders (15,000 items), 5,000 logins and 5,000
// visits, through the engine (plugin processes already running, package
// written to local storage, state in bbolt), against the floor: the same
// SELECTs issued directly with pgx in this process, in the same run.
// Reports both times and their ratio (target: at most 1.5).
func BenchmarkAccessVsPgx(b *testing.B) {
	be := newBackend(b, "postgres")
	grow(b, be, 5000)
	dir, _ := be.config(b)
	eng := engine(b, dir)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, be.dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	againstFloor(b, eng, func() (int, error) { return floor(ctx, conn) }, "pgx-floor-ms", "rows")
}

// againstFloor times an access request through eng against floorRun, the
// same reads issued directly with the database's driver, alternating in
// one run after a warm-up run of each (plugins started, instances
// configured) that checks they read the same number of rows. It reports
// both times, their ratio and the row count.
func againstFloor(b *testing.B, eng *execute.Engine, floorRun func() (int, error), floorMetric, rowsMetric string) {
	b.Helper()
	want := 0
	for _, c := range runAccess(b, eng).Counts {
		want += int(c.Found)
	}
	if n, err := floorRun(); err != nil || n != want {
		b.Fatalf("the floor read %d rows (%v); the engine found %d", n, err, want)
	}
	var engineT, floorT time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		runAccess(b, eng)
		engineT += time.Since(start)
		start = time.Now()
		if _, err := floorRun(); err != nil {
			b.Fatal(err)
		}
		floorT += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(engineT.Microseconds())/float64(b.N)/1000, "engine-ms")
	b.ReportMetric(float64(floorT.Microseconds())/float64(b.N)/1000, floorMetric)
	b.ReportMetric(float64(engineT)/float64(floorT), "x-floor")
	b.ReportMetric(float64(want), rowsMetric)
}

// BenchmarkPeakRSS200k: `lethe run` of an access request for a customer
// with 200,000 matching rows (visits) on PostgreSQL. Reports the peak
// resident memory (VmHWM) of the lethe process and of the connector
// plugin process (target: under 200 MiB each).
func BenchmarkPeakRSS200k(b *testing.B) {
	be := newBackend(b, "postgres")
	if _, err := be.db.Exec(`INSERT INTO visits (id, email, page, visited_at, ip_address)
		SELECT g, 'jane@example.com', '/products/teapot?ref=' || md5(g::text), '2024-04-01T00:00:00Z', '198.51.100.7' FROM generate_series(10000, 209999) AS g`); err != nil {
		b.Fatal(err)
	}
	dir, results := be.config(b)
	var host, plugin int64
	b.ResetTimer()
	for range b.N {
		h, p, out := peakRSS(b, dir)
		host, plugin = max(host, h), max(plugin, p)
		if !strings.Contains(out, "shop.visits                      200002 rows") {
			b.Fatalf("visits found:\n%s", out)
		}
	}
	b.StopTimer()
	size := int64(0)
	_ = filepath.Walk(results, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			size = max(size, fi.Size())
		}
		return nil
	})
	b.ReportMetric(float64(host)/1024, "host-peak-MiB")
	b.ReportMetric(float64(plugin)/1024, "plugin-peak-MiB")
	b.ReportMetric(float64(size)/(1<<20), "package-MiB")
}

// peakRSS runs `lethe run` and samples the VmHWM of it and its connector
// child until it exits; it returns both in KiB and the run's output.
func peakRSS(t testing.TB, dir string) (host, plugin int64, out string) {
	t.Helper()
	cmd := lethe(t, nil, dir, "--policy", "access", "--identity", "email=jane@example.com")
	var buf strings.Builder
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pluginPID := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("lethe run: %v\n%s", err, buf.String())
			}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				host = max(host, ru.Maxrss) // KiB on Linux
			}
			return host, plugin, buf.String()
		case <-time.After(20 * time.Millisecond):
			host = max(host, vmHWM(cmd.Process.Pid))
			if pluginPID == 0 {
				pluginPID = childPID(cmd.Process.Pid, "lethe-connector-postgres")
			}
			if pluginPID != 0 {
				plugin = max(plugin, vmHWM(pluginPID))
			}
		}
	}
}

// vmHWM reads a process's peak resident set size in KiB (0 when gone).
func vmHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	return 0
}
