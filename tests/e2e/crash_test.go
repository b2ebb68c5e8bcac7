package e2e

import (
	"bufio"
	"bytes"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var progressLine = regexp.MustCompile(`(?m)^(access|erasure)\s+(shop\.[a-z_]+)\s+\d+ rows?`)

// finishedNodes returns the nodes a run reported done, as "phase node".
func finishedNodes(stdout string) map[string]bool {
	out := map[string]bool{}
	for _, m := range progressLine.FindAllStringSubmatch(stdout, -1) {
		out[m[1]+" "+m[2]] = true
	}
	return out
}

// reference runs policy access_and_erasure for jane on a fresh database of
// kind without any crash, and returns the package and the database after.
func reference(t *testing.T, kind string) (string, map[string]map[string]map[string]string) {
	t.Helper()
	b := newBackend(t, kind)
	dir, _ := b.config(t)
	r := mustComplete(t, nil, dir, "--policy", "access_and_erasure", "--identity", "email=jane@example.com")
	return canonicalPackage(t, r.pkg), dump(t, b.db)
}

// startUntilFailpoint starts `lethe run` with a sleeping failpoint and
// returns once the process has reached it.
func startUntilFailpoint(t *testing.T, dir, point string, args ...string) (*proc, *bytes.Buffer) {
	t.Helper()
	cmd := lethe(t, []string{"LETHE_FAILPOINT=" + point + "=sleep"}, dir, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reached := make(chan string, 1)
	var errText strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			errText.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "failpoint "+point+" reached") {
				reached <- sc.Text()
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-reached:
	case err := <-done:
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("lethe run ended (%v) before failpoint %s:\n%s\n%s", err, point, out.String(), errText.String())
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("failpoint %s not reached in 2 minutes", point)
	}
	return &proc{pid: cmd.Process.Pid, done: done, kill: func() error { return cmd.Process.Signal(syscall.SIGKILL) }}, &out
}

type proc struct {
	pid  int
	done chan error
	kill func() error
}

// sigkill kills the process and waits for it to be gone.
func (e *proc) sigkill(t *testing.T) {
	t.Helper()
	if err := e.kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the killed process did not exit")
	}
}

// TestCrashAndResume kills `lethe run` at points in the access, upload and
// erasure phases, with a failpoint that exits (as a crash would) and with
// a real SIGKILL while the process waits at the point; `lethe run
// --resume` then completes the same request. The package and the database
// must equal a crash-free run's, and on PostgreSQL no table whose node
// finished before the crash may be read or written again.
func TestCrashAndResume(t *testing.T) {
	cases := []struct {
		point string
		kill  bool // SIGKILL while sleeping at the point, instead of exiting there
	}{
		{point: "access.page:shop.customers"},
		{point: "access.finish:shop.orders"},
		{point: "upload.finish:user_data"},
		{point: "erasure.batch:shop.addresses:1"},
		{point: "erasure.finish:shop.customers"},
		{point: "access.finish:shop.order_items", kill: true},
		{point: "erasure.batch:shop.visits:1", kill: true},
	}
	for _, kind := range backends {
		t.Run(kind, func(t *testing.T) {
			wantPkg, wantDB := reference(t, kind)
			for _, tc := range cases {
				name := tc.point
				if tc.kill {
					name += "/sigkill"
				}
				t.Run(name, func(t *testing.T) {
					b := newBackend(t, kind)
					if kind == "postgres" {
						b.db.SetMaxIdleConns(0) // every connection closes after use: its statistics are flushed
					}
					dir, _ := b.config(t)
					args := []string{"--policy", "access_and_erasure", "--identity", "email=jane@example.com"}
					var first string
					if tc.kill {
						p, out := startUntilFailpoint(t, dir, tc.point, args...)
						p.sigkill(t)
						first = out.String()
					} else {
						r := run(t, []string{"LETHE_FAILPOINT=" + tc.point + "=exit"}, dir, args...)
						if r.code != 137 {
							t.Fatalf("the failpoint did not end the process:\n%s", r)
						}
						first = r.stdout
					}
					if strings.Contains(first, "Status: complete") {
						t.Fatalf("the first run completed although it was killed:\n%s", first)
					}
					done := finishedNodes(first)
					var before map[string]int64
					if kind == "postgres" {
						before = tableActivity(t, b)
					}
					r := mustComplete(t, nil, dir, "--resume")
					for n := range finishedNodes(r.stdout) {
						if done[n] {
							t.Errorf("%s finished before the crash and ran again after it", n)
						}
					}
					if kind == "postgres" {
						after := tableActivity(t, b)
						for _, table := range tables {
							node := "shop." + table
							accessDone := done["access "+node]
							erasureDone := done["erasure "+node] || erased[table] == nil
							if accessDone && erasureDone && after[table] != before[table] {
								t.Errorf("%s: its nodes finished before the crash, yet the resumed run read or wrote it (%d scans and updates before, %d after)",
									table, before[table], after[table])
							}
						}
					}
					if got := canonicalPackage(t, r.pkg); got != wantPkg {
						t.Errorf("package after resume differs from a crash-free run's\n got:\n%s\nwant:\n%s", got, wantPkg)
					}
					if got := dump(t, b.db); !equalDumps(got, wantDB) {
						checkErasure(t, wantDB, got, nil) // lists the differing cells
					}
				})
			}
		})
	}
}

// tableActivity returns, per table of the example schema, the scans and
// row updates PostgreSQL counted so far, once no other session is
// connected to the database (a session flushes its counts when it ends).
func tableActivity(t *testing.T, b *backend) map[string]int64 {
	t.Helper()
	db, err := sql.Open("pgx", b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	waitFor(t, "the other sessions on "+b.name+" to end", time.Minute, func() bool {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n)
		return err == nil && n == 0
	})
	rows, err := db.Query(`SELECT relname, seq_scan + coalesce(idx_scan, 0) + n_tup_upd FROM pg_stat_user_tables`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	return out
}

// TestQueryCount: an access request over the 11 collections of the
// example issues one SELECT per collection, plus one per extra chunk of
// 1,000 input values: with 2,503 orders for jane, order_items is queried
// three times. Counted by PostgreSQL itself (pg_stat_user_tables).
func TestQueryCount(t *testing.T) {
	b := newBackend(t, "postgres")
	b.db.SetMaxIdleConns(0)
	if _, err := b.db.Exec(`INSERT INTO orders (id, customer_id, shipping_address_id, placed_at, status, total)
		SELECT g, 1, 1, '2024-04-01T00:00:00Z', 'delivered', 1.00 FROM generate_series(1000, 3499) AS g`); err != nil {
		t.Fatal(err)
	}
	dir, _ := b.config(t)
	before := tableActivity(t, b)
	r := mustComplete(t, nil, dir, "--policy", "access", "--identity", "email=jane@example.com")
	after := tableActivity(t, b)
	total := int64(0)
	for _, table := range tables {
		want := int64(1)
		if table == "order_items" {
			want = 3 // 2,503 order ids in chunks of 1,000
		}
		got := after[table] - before[table]
		total += got
		if got != want {
			t.Errorf("%s: %d SELECTs, want %d", table, got, want)
		}
	}
	if total != 13 {
		t.Errorf("%d SELECTs in all, want 13 (11 collections + 2 extra chunks)\n%s", total, r.stdout)
	}
	if !strings.Contains(r.stdout, "shop.orders                      2503 rows") {
		t.Errorf("orders found:\n%s", r.stdout)
	}
}

// TestPluginKilledDuringNode: the PostgreSQL connector process is killed
// while its SELECT on orders waits for a lock; the host restarts the
// plugin, retries the node, and the request completes with the exact
// package.
func TestPluginKilledDuringNode(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "access_jane.json"))
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, "postgres")
	dir, _ := b.config(t)
	tx, err := b.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE orders IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	cmd := lethe(t, nil, dir, "--policy", "access", "--identity", "email=jane@example.com")
	var out bytes.Buffer
	errb := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = &out, errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor(t, "the SELECT on orders to wait for the lock", time.Minute, func() bool {
		var n int
		err := b.db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND application_name = 'lethe' AND wait_event_type = 'Lock' AND query LIKE '%"orders"%'`).Scan(&n)
		return err == nil && n == 1
	})
	plugin := childProcess(t, cmd.Process.Pid, "lethe-connector-postgres")
	if err := syscall.Kill(plugin, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The host must see the crash while the lock still holds.
	waitFor(t, "the host to report the plugin's crash", time.Minute, func() bool {
		return strings.Contains(errb.String(), "plugin crashed; restarting")
	})
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		r := result{stdout: out.String(), stderr: errb.String()}
		r.parse()
		if err != nil || !strings.Contains(r.stdout, "Status: complete") {
			t.Fatalf("the request did not complete after the plugin was killed (%v):\n%s", err, r)
		}
		// The host restarts the plugin and repeats the call (or the engine
		// retries the node): either way the crash is reported.
		if !strings.Contains(r.stderr, "plugin crashed; restarting") {
			t.Errorf("the plugin's crash was not reported:\n%s", r)
		}
		if got, want := canonicalPackage(t, r.pkg), canonicalJSON(t, golden); got != want {
			t.Errorf("package\n got:\n%s\nwant:\n%s", got, want)
		}
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("lethe run did not finish:\n%s\n%s", out.String(), errb.String())
	}
}

// childProcess finds the child of parent whose command line contains
// name, or fails the test.
func childProcess(t *testing.T, parent int, name string) int {
	t.Helper()
	pid := childPID(parent, name)
	if pid == 0 {
		t.Fatalf("no child process %s of pid %d", name, parent)
	}
	return pid
}

// childPID finds the child of parent whose command line contains name; 0
// when there is none.
func childPID(parent int, name string) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(parent) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), name) {
			return pid
		}
	}
	return 0
}

// TestSecondProcessFailsFast: while one `lethe run` holds the state
// directory, a second one on the same directory fails at once with a
// message naming the holder, and creates nothing.
func TestSecondProcessFailsFast(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := b.config(t)
	p, _ := startUntilFailpoint(t, dir, "access.finish:shop.orders", "--policy", "access", "--identity", "email=jane@example.com")
	defer p.sigkill(t)
	start := time.Now()
	r := run(t, nil, dir, "--policy", "access", "--identity", "email=bob@example.com")
	took := time.Since(start)
	if r.code == 0 || !strings.Contains(r.stderr, "in use by lethe pid "+strconv.Itoa(p.pid)) {
		t.Fatalf("the second process did not fail naming the holder (pid %d):\n%s", p.pid, r)
	}
	if took > 20*time.Second {
		t.Errorf("the second process took %s to fail", took)
	}
	if r.request != "" {
		t.Errorf("the second process created request %s", r.request)
	}
}
