package pluginhost

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/storage"
	"github.com/lethehq/lethe/sdk/version"
)

func TestHealthyConnector(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy"})
	h, logs := newHost(t, dir, Options{})
	ctx := testCtx(t)
	c, err := h.Connector("healthy")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := h.Status("connector", "healthy"); st.State != StateUnchecked || st.Running {
		t.Fatalf("before the first call: %+v, want an unchecked plugin and no process (lazy start)", st)
	}

	info, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "healthy" || info.Version != "1.2.3" || info.ProtocolMajor != version.ProtocolMajor || !slices.Contains(info.Capabilities, "dry_run") {
		t.Errorf("Describe = %+v", info)
	}
	if _, ok := info.Config.Attribute("token"); !ok {
		t.Errorf("Describe lost the config schema: %+v", info.Config)
	}

	diags, err := c.Configure(ctx, "main", map[string]any{"label": "L1", "token": "s3cr3t-t0ken"})
	if err != nil || diags.HasErrors() {
		t.Fatalf("Configure: %v %v", diags, err)
	}
	if err := c.Test(ctx, "main"); err != nil {
		t.Errorf("Test: %v", err)
	}

	var rows []connector.Row
	n, err := c.Access(ctx, "main", connector.AccessRequest{
		Collection: connector.Collection{Dataset: "app", Name: "users"},
		Fields:     []connector.Path{{"id"}, {"email"}},
		Filters:    []connector.Filter{{Field: connector.Path{"email"}, Values: []any{"bob@example.com", "cy@example.com", "nobody@example.com"}}},
	}, func(batch []connector.Row) error {
		rows = append(rows, batch...)
		return nil
	})
	if err != nil {
		t.Fatalf("Access: %v", err)
	}
	if n != 2 || len(rows) != 2 || rows[0]["id"] != int64(2) || rows[1]["email"] != "cy@example.com" || rows[0]["label"] != "L1" {
		t.Errorf("Access = %d %v", n, rows)
	}

	res, err := c.Erase(ctx, "main", connector.EraseRequest{
		Collection: connector.Collection{Dataset: "app", Name: "users"},
		Updates: []connector.RowUpdate{
			{Key: connector.Row{"id": int64(2)}, Set: connector.Row{"email": nil}},
			{Key: connector.Row{"id": int64(3)}, Set: connector.Row{"email": nil}},
		},
	})
	if err != nil || res.Rows != 2 {
		t.Errorf("Erase = %d, %v; want 2", res.Rows, err)
	}

	q, err := c.DryRun(ctx, "main", one("users"))
	if err != nil || q != "SELECT ... FROM users -- L1" {
		t.Errorf("DryRun = %q, %v", q, err)
	}

	st, _ := h.Status("connector", "healthy")
	if st.State != StateOK || !st.Running || st.PID == 0 || st.Version != "1.2.3" || st.Protocol != "1.2" || st.Restarts != 0 {
		t.Errorf("status = %+v", st)
	}

	if err := c.CloseInstance(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Access(ctx, "main", one("pid"), func([]connector.Row) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `instance "main" is not configured`) || fault.KindOf(err) != fault.Permanent {
		t.Errorf("Access after CloseInstance: %v, want a permanent 'not configured' error", err)
	}

	out := logs.String()
	if !strings.Contains(out, "test.connector-healthy: fixture instance created") || !strings.Contains(out, "label=L1") {
		t.Errorf("the plugin's log line was not re-emitted under its name; host log:\n%s", out)
	}
	if !strings.Contains(out, "configuring server automatic mTLS: @module=connector-healthy") {
		t.Errorf("the plugin did not set up AutoMTLS; host log:\n%s", out)
	}
	if strings.Contains(out, "s3cr3t-t0ken") {
		t.Errorf("a sensitive configuration value reached the log:\n%s", out)
	}
}

func TestConfigureDiagnosticsAreNotRemembered(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy"})
	h, _ := newHost(t, dir, Options{})
	ctx := testCtx(t)
	c, _ := h.Connector("healthy")

	diags, err := c.Configure(ctx, "bad", map[string]any{"token": "x", "colour": "blue"})
	if err != nil {
		t.Fatal(err)
	}
	if !diags.HasErrors() || !strings.Contains(diags.Err().Error(), `missing required attribute "label"`) || !strings.Contains(diags.Err().Error(), `unknown attribute "colour"`) {
		t.Errorf("diagnostics = %v", diags)
	}
	if _, err := pidOf(ctx, c, "bad"); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("Access on a rejected instance: %v, want 'not configured'", err)
	}

	// A rejected reconfiguration keeps the previous one, as the plugin does.
	if _, err := c.Configure(ctx, "good", map[string]any{"label": "first"}); err != nil {
		t.Fatal(err)
	}
	if diags, _ := c.Configure(ctx, "good", map[string]any{"label": 42}); !diags.HasErrors() {
		t.Fatalf("a number for a string attribute was accepted")
	}
	if _, label, err := pidRow(ctx, c, "good"); err != nil || label != "first" {
		t.Errorf("after a rejected reconfiguration: label %q, %v; want first", label, err)
	}
}

func TestUnknownPlugin(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy", "lethe-storage-sink": "sink"})
	h, _ := newHost(t, dir, Options{})
	_, err := h.Connector("postgres")
	if err == nil || !strings.Contains(err.Error(), `no connector plugin "postgres": install lethe-connector-postgres in `+dir+` (connector plugins found: healthy)`) {
		t.Errorf("Connector(postgres): %v", err)
	}
	if _, err := h.Storage("healthy"); err == nil {
		t.Errorf("a connector was returned as a storage plugin")
	}
}

// TestFingerprint covers the start-up failures: each is reported by status
// with a message that names the plugin and says what to do.
func TestFingerprint(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{
		"lethe-connector-healthy":        "healthy", // superseded by the _v2.0.0 file
		"lethe-connector-healthy_v2.0.0": "healthy",
		"lethe-connector-slow":           "slow",
		"lethe-connector-noisy":          "noisy",
		"lethe-connector-oldproto":       "oldproto",
		"lethe-storage-sink":             "sink",
		"lethe-connector-pinned":         "healthy", // pinned to another digest
		"lethe-storage-impostor":         "healthy", // a connector named as storage
		"lethe-connector-misnamed":       "healthy", // describes itself as "healthy"
		"lethe-connector-crashy":         "crashy",
	})
	write(t, filepath.Join(dir, "lethe-connector-script"), "#!/bin/sh\necho 'boom: libfoo.so not found' >&2\nexit 3\n", 0o755)
	wrong := strings.Repeat("0f", 32)
	h, _ := newHost(t, dir, Options{Pins: map[string]Pin{
		"connector-pinned": {SHA256: wrong},
		"connector-slow":   {StartTimeout: 300 * time.Millisecond},
	}})
	ctx := testCtx(t)
	start := time.Now()
	statuses := h.Fingerprint(ctx)
	t.Logf("fingerprinted %d plugins in %s", len(statuses), time.Since(start))

	pinnedSum := fileSum(t, filepath.Join(dir, "lethe-connector-pinned"))
	tests := []struct {
		kind, name string
		state      State
		reason     []string
		version    string
		protocol   string
	}{
		{"connector", "crashy", StateOK, nil, "0.0.1", "1.2"},
		{"connector", "healthy", StateOK, nil, "1.2.3", "1.2"},
		{"connector", "healthy", StateIgnored, []string{"superseded by lethe-connector-healthy_v2.0.0"}, "", ""},
		{"connector", "misnamed", StateFailed, []string{`plugin lethe-connector-misnamed describes itself as connector "healthy"; rename the file to lethe-connector-healthy`}, "", ""},
		{"connector", "noisy", StateFailed, []string{`plugin lethe-connector-noisy wrote to stdout before the handshake ("noisy fixture says hello"); plugins must log to stderr`}, "", ""},
		{"connector", "oldproto", StateFailed, []string{"plugin lethe-connector-oldproto speaks protocol 0; this Lethe speaks protocol 1; rebuild it with github.com/lethehq/lethe/sdk v" + version.SDK + " or later"}, "", "0"},
		{"connector", "pinned", StateFailed, []string{"sha256 mismatch: pinned " + wrong + ", file has " + pinnedSum}, "", ""},
		{"connector", "script", StateFailed, []string{"plugin lethe-connector-script exited during start-up: boom: libfoo.so not found (exit status 3)"}, "", ""},
		{"connector", "slow", StateFailed, []string{`plugin lethe-connector-slow did not start within 300ms (set start_timeout in its plugin "connector-slow" block`}, "", ""},
		{"storage", "impostor", StateFailed, []string{"plugin lethe-storage-impostor does not serve the storage protocol"}, "", ""},
		{"storage", "sink", StateOK, nil, "2.0.0", "1.2"},
	}
	if len(statuses) != len(tests) {
		t.Errorf("got %d statuses, want %d: %+v", len(statuses), len(tests), statuses)
	}
	for i, tt := range tests {
		if i >= len(statuses) {
			break
		}
		st := statuses[i]
		if st.Kind != tt.kind || st.Name != tt.name || st.State != tt.state {
			t.Errorf("status %d = %s %s %s (%s), want %s %s %s", i, st.Kind, st.Name, st.State, st.Reason, tt.kind, tt.name, tt.state)
			continue
		}
		for _, r := range tt.reason {
			if !strings.Contains(st.Reason, r) {
				t.Errorf("%s-%s: reason %q, want it to contain %q", tt.kind, tt.name, st.Reason, r)
			}
		}
		if tt.version != "" && st.Version != tt.version {
			t.Errorf("%s-%s: version %q, want %q", tt.kind, tt.name, st.Version, tt.version)
		}
		if st.Protocol != tt.protocol && tt.protocol != "" {
			t.Errorf("%s-%s: protocol %q, want %q", tt.kind, tt.name, st.Protocol, tt.protocol)
		}
		if st.Running {
			t.Errorf("%s-%s: still running after fingerprinting", tt.kind, tt.name)
		}
	}

	// Refused before exec: the healthy fixture marks every start.
	for _, file := range []string{"lethe-connector-pinned", "lethe-connector-healthy"} {
		if _, err := os.Stat(filepath.Join(dir, file+".ran")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was executed (%v); it has a mismatching sha256 or is superseded", file, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "lethe-connector-healthy_v2.0.0.ran")); err != nil {
		t.Errorf("the marker of the healthy fixture is missing, so the check above proves nothing: %v", err)
	}

	// Calls to a failed plugin fail at once with the same reason.
	c, _ := h.Connector("oldproto")
	_, err := c.Configure(ctx, "x", map[string]any{})
	var perr *ProtocolError
	if !errors.Is(err, ErrPluginFailed) || !errors.As(err, &perr) || perr.Plugin != 0 || fault.KindOf(err) != fault.Permanent {
		t.Errorf("Configure on oldproto: %v, want a permanent ErrPluginFailed wrapping a ProtocolError", err)
	}
	if info, err := h.Info(ctx, "connector", "pinned"); err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Errorf("Info(pinned) = %+v, %v", info, err)
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestLazyStartErrors: the same failures met on first use, without a
// fingerprint, give the same messages.
func TestLazyStartErrors(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{
		"lethe-connector-slow":     "slow",
		"lethe-connector-noisy":    "noisy",
		"lethe-connector-oldproto": "oldproto",
	})
	h, _ := newHost(t, dir, Options{StartTimeout: 300 * time.Millisecond})
	ctx := testCtx(t)
	tests := []struct {
		name string
		want string
		max  time.Duration
	}{
		{"slow", "plugin lethe-connector-slow did not start within 300ms", 5 * time.Second},
		{"noisy", "plugin lethe-connector-noisy wrote to stdout before the handshake", 5 * time.Second},
		{"oldproto", "rebuild it with github.com/lethehq/lethe/sdk v" + version.SDK, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := h.Connector(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = c.Configure(ctx, "x", map[string]any{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Configure: %v, want %q", err, tt.want)
			}
			if d := time.Since(start); d > tt.max {
				t.Errorf("took %s", d)
			}
		})
	}
}

func TestStartTimeoutPerPlugin(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy"})
	// No process starts within a microsecond; the pin gives this one time.
	h, _ := newHost(t, dir, Options{StartTimeout: time.Microsecond, Pins: map[string]Pin{"connector-healthy": {StartTimeout: 20 * time.Second}}})
	if _, err := h.Info(testCtx(t), "connector", "healthy"); err != nil {
		t.Fatalf("with a pinned start timeout: %v", err)
	}
}

func TestBinarySwappedAfterDiscoveryIsRefused(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy"})
	h, _ := newHost(t, dir, Options{})
	copyFile(t, filepath.Join(fixtures, "crashy"), filepath.Join(dir, "lethe-connector-healthy"), 0o755)
	c, _ := h.Connector("healthy")
	_, err := c.Configure(testCtx(t), "x", map[string]any{"label": "x"})
	if err == nil || !strings.Contains(err.Error(), "plugin lethe-connector-healthy changed on disk after it was discovered") || !errors.Is(err, ErrPluginFailed) {
		t.Fatalf("Configure after the binary changed: %v", err)
	}
}

// TestCrashRecovery: a plugin that crashes on a call is restarted, its
// instances are configured again, and the call is retried transparently.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-crashy": "crashy"})
	h, logs := newHost(t, dir, Options{})
	ctx := testCtx(t)
	c, _ := h.Connector("crashy")
	for id, cfg := range map[string]map[string]any{
		"a": {"label": "A", "crash_on": 2},
		"b": {"label": "B"},
	} {
		if d, err := c.Configure(ctx, id, cfg); err != nil || d.HasErrors() {
			t.Fatalf("Configure %s: %v %v", id, d, err)
		}
	}
	pid1, _, err := pidRow(ctx, c, "a") // call 1
	if err != nil {
		t.Fatal(err)
	}
	pid2, label, err := pidRow(ctx, c, "a") // call 2 crashes; the retry is call 1 of a new process
	if err != nil {
		t.Fatalf("the call that crashed the plugin was not retried: %v", err)
	}
	if pid2 == pid1 || label != "A" {
		t.Errorf("after the crash: pid %d (was %d), label %q; want a new process serving instance a", pid2, pid1, label)
	}
	if !waitGone(int(pid1), 2*time.Second) {
		t.Errorf("the crashed process %d was not reaped", pid1)
	}
	pid3, label, err := pidRow(ctx, c, "b")
	if err != nil || pid3 != pid2 || label != "B" {
		t.Errorf("instance b after the restart: pid %d label %q %v; want pid %d label B", pid3, label, err, pid2)
	}
	st, _ := h.Status("connector", "crashy")
	if st.State != StateOK || st.Restarts != 1 || st.RecentCrashes != 1 || st.PID != int(pid2) {
		t.Errorf("status = %+v, want ok with 1 restart and 1 crash", st)
	}
	if !strings.Contains(logs.String(), "panic: fixture crash on call 2") {
		t.Errorf("the crash reason was not logged:\n%s", logs.String())
	}
}

func TestEraseRetriedAfterCrash(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-crashy": "crashy"})
	h, _ := newHost(t, dir, Options{})
	ctx := testCtx(t)
	c, _ := h.Connector("crashy")
	if _, err := c.Configure(ctx, "a", map[string]any{"label": "A", "crash_on": 2}); err != nil {
		t.Fatal(err)
	}
	if err := c.Test(ctx, "a"); err != nil { // call 1
		t.Fatal(err)
	}
	res, err := c.Erase(ctx, "a", connector.EraseRequest{ // call 2 crashes
		Collection: connector.Collection{Name: "users"},
		Updates:    []connector.RowUpdate{{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"email": nil}}},
	})
	if err != nil || res.Rows != 1 {
		t.Errorf("Erase = %d, %v; want it retried after the crash", res.Rows, err)
	}
}

func TestAccessNotRetriedAfterRowsWereDelivered(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-crashy": "crashy"})
	h, _ := newHost(t, dir, Options{})
	ctx := testCtx(t)
	c, _ := h.Connector("crashy")
	if _, err := c.Configure(ctx, "a", map[string]any{"label": "A"}); err != nil {
		t.Fatal(err)
	}
	var got int
	calls := 0
	_, err := c.Access(ctx, "a", one("partial"), func(rows []connector.Row) error {
		calls++
		got += len(rows)
		return nil
	})
	if !errors.Is(err, fault.ErrPluginShutdown) || !fault.Retryable(err) {
		t.Fatalf("Access: %v, want a retryable ErrPluginShutdown", err)
	}
	if got != 500 || calls != 1 {
		t.Errorf("got %d rows in %d batches before the crash, want one batch of 500 and no replay", got, calls)
	}
	if _, _, err := pidRow(ctx, c, "a"); err != nil {
		t.Errorf("the next call did not restart the plugin: %v", err)
	}
}

func TestInstanceLostByPluginIsConfiguredAgain(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy"})
	h, _ := newHost(t, dir, Options{})
	ctx := testCtx(t)
	c, _ := h.Connector("healthy")
	if _, err := c.Configure(ctx, "a", map[string]any{"label": "A"}); err != nil {
		t.Fatal(err)
	}
	// Make the plugin forget the instance behind the host's back.
	c.p.mu.Lock()
	pr := c.p.proc
	c.p.mu.Unlock()
	if err := pr.rpc.(*connector.Client).CloseInstance(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, label, err := pidRow(ctx, c, "a"); err != nil || label != "A" {
		t.Errorf("Access after the plugin lost the instance: %q %v", label, err)
	}
}

// TestCrashLoop: a plugin that keeps crashing is marked failed, and calls
// then fail at once saying why and what to do.
func TestCrashLoop(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-crashy": "crashy"})
	h, _ := newHost(t, dir, Options{CrashLimit: 3, CrashWindow: time.Minute})
	ctx := testCtx(t)
	c, _ := h.Connector("crashy")
	if _, err := c.Configure(ctx, "a", map[string]any{"label": "A", "crash_on": 1}); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 3 && !errors.Is(err, ErrPluginFailed); i++ {
		_, err = pidOf(ctx, c, "a")
	}
	if !errors.Is(err, ErrPluginFailed) {
		t.Fatalf("after 3 calls: %v, want ErrPluginFailed", err)
	}
	for _, want := range []string{
		"plugin lethe-connector-crashy crashed 3 times within 1m0s",
		"panic: fixture crash on call 1",
		`its log lines carry the name "connector-crashy"`,
		"marked failed until Lethe restarts",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if fault.Retryable(err) {
		t.Errorf("the failed plugin's error is retryable")
	}
	st, _ := h.Status("connector", "crashy")
	if st.State != StateFailed || st.Running || st.RecentCrashes != 3 || !strings.Contains(st.Reason, "crashed 3 times") {
		t.Errorf("status = %+v", st)
	}
	start := time.Now()
	if _, err := pidOf(ctx, c, "a"); !errors.Is(err, ErrPluginFailed) {
		t.Errorf("a call to the failed plugin: %v", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a call to the failed plugin took %s, want it to fail at once", d)
	}

	if err := h.Reset("connector", "crashy"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Configure(ctx, "a", map[string]any{"label": "A"}); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
	if _, err := pidOf(ctx, c, "a"); err != nil {
		t.Errorf("after Reset and a fixed configuration: %v", err)
	}
}

func TestConcurrentFirstCallsShareOneProcess(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy"})
	h, _ := newHost(t, dir, Options{})
	ctx := testCtx(t)
	c, _ := h.Connector("healthy")
	if _, err := c.Configure(ctx, "a", map[string]any{"label": "A"}); err != nil {
		t.Fatal(err)
	}
	h2, _ := newHost(t, dir, Options{})
	c2, _ := h2.Connector("healthy")
	var wg sync.WaitGroup
	pids := make([]int64, 8)
	errs := make([]error, 8)
	for i := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				pids[i], errs[i] = pidOf(ctx, c, "a")
				return
			}
			// A fresh host: the first calls race to start the process and
			// to configure the instance.
			if _, err := c2.Configure(ctx, "b", map[string]any{"label": "B"}); err != nil {
				errs[i] = err
				return
			}
			pids[i], errs[i] = pidOf(ctx, c2, "b")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	for i := 2; i < len(pids); i++ {
		if pids[i] != pids[i%2] {
			t.Errorf("calls through one host were served by processes %v", pids)
			break
		}
	}
}

func TestEnvironmentAllowlist(t *testing.T) {
	// t.Setenv: not parallel.
	t.Setenv("LETHE_TEST_DB_PASSWORD", "hunter2")
	t.Setenv("LETHE_TEST_ALLOWED", "yes")
	t.Setenv("LETHE_TEST_PREFIXED_ONE", "yes")
	t.Setenv("LETHE_TEST_PINNED_KEY", "yes")
	t.Setenv("PATH", os.Getenv("PATH"))
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy"})
	h, _ := newHost(t, dir, Options{EnvAllowlist: []string{"LETHE_TEST_ALLOWED"},
		Pins: map[string]Pin{"connector-healthy": {Env: []string{"LETHE_TEST_PREFIXED_*"}}}})
	ctx := testCtx(t)
	c, _ := h.Connector("healthy")
	if _, err := c.Configure(ctx, "a", map[string]any{"label": "A"}); err != nil {
		t.Fatal(err)
	}
	var names []string
	_, err := c.Access(ctx, "a", one("env"), func(rows []connector.Row) error {
		for _, n := range rows[0]["names"].([]any) {
			names = append(names, n.(string))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PATH", "LETHE_TEST_ALLOWED", "LETHE_TEST_PREFIXED_ONE", version.EnvLogLevel, version.MagicCookieKey} {
		if !slices.Contains(names, want) {
			t.Errorf("the plugin does not see %s; it sees %v", want, names)
		}
	}
	for _, leak := range []string{"LETHE_TEST_DB_PASSWORD", "LETHE_TEST_PINNED_KEY"} {
		if slices.Contains(names, leak) {
			t.Errorf("the host's %s leaked into the plugin's environment: %v", leak, names)
		}
	}
}

func TestStorageUpload(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-storage-sink": "sink"})
	h, _ := newHost(t, dir, Options{})
	ctx := testCtx(t)
	s, err := h.Storage("sink")
	if err != nil {
		t.Fatal(err)
	}
	for id, cfg := range map[string]map[string]any{
		"ok":    {"prefix": "mem://ok"},
		"crash": {"prefix": "mem://crash", "crash_on": 2},
	} {
		if d, err := s.Configure(ctx, id, cfg); err != nil || d.HasErrors() {
			t.Fatalf("Configure %s: %v %v", id, d, err)
		}
	}
	if err := s.Test(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB: several chunks
	want := sha256.Sum256(payload)
	obj := storage.Object{RequestID: "r1", Key: "req/r1/package.json", ContentType: "application/json", SizeHint: int64(len(payload))}

	res, err := s.Upload(ctx, "ok", obj, bytes.NewReader(payload)) // upload 1
	if err != nil || res.Location != "mem://ok/req/r1/package.json" || res.Size != int64(len(payload)) || res.SHA256 != hex.EncodeToString(want[:]) {
		t.Fatalf("Upload = %+v, %v", res, err)
	}

	// Upload 2 crashes the plugin; a seekable package is sent again.
	res, err = s.Upload(ctx, "crash", obj, bytes.NewReader(payload))
	if err != nil || res.Size != int64(len(payload)) || res.SHA256 != hex.EncodeToString(want[:]) {
		t.Fatalf("seekable upload across a crash = %+v, %v", res, err)
	}

	// The new process served one upload; the next crashes it, and a package
	// that cannot be rewound is not retried.
	_, err = s.Upload(ctx, "crash", obj, io.MultiReader(bytes.NewReader(payload)))
	if !errors.Is(err, fault.ErrPluginShutdown) {
		t.Errorf("unseekable upload across a crash: %v, want ErrPluginShutdown", err)
	}
	if st, _ := h.Status("storage", "sink"); st.Restarts != 1 || st.RecentCrashes != 2 {
		t.Errorf("status = %+v", st)
	}
}

func TestCloseKillsEveryProcess(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy", "lethe-connector-crashy": "crashy"})
	h, _ := newHost(t, dir, Options{})
	ctx := testCtx(t)
	var pids []int64
	for _, name := range []string{"healthy", "crashy"} {
		c, _ := h.Connector(name)
		if _, err := c.Configure(ctx, "a", map[string]any{"label": "A"}); err != nil {
			t.Fatal(err)
		}
		pid, err := pidOf(ctx, c, "a")
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	start := time.Now()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Close took %s", time.Since(start))
	for _, pid := range pids {
		if !processGone(int(pid)) {
			t.Errorf("plugin process %d still runs after Close", pid)
		}
	}
	c, _ := h.Connector("healthy")
	if _, err := pidOf(ctx, c, "a"); !errors.Is(err, ErrClosed) {
		t.Errorf("a call after Close: %v, want ErrClosed", err)
	}
	if st, _ := h.Status("connector", "healthy"); st.Running {
		t.Errorf("status after Close says running: %+v", st)
	}
}

// TestOrphanedPluginExits: when the host dies by SIGKILL, and so cannot
// stop its plugins, they notice and exit within 2 s.
func TestOrphanedPluginExits(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy"})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), orphanHostEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var pid int
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("the host exited early: %s", stderr.String())
		}
		if pid, err = strconv.Atoi(strings.TrimPrefix(line, "pid ")); err != nil {
			t.Fatalf("host printed %q: %v", line, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the host did not start its plugin: %s", stderr.String())
	}
	if processGone(pid) {
		t.Fatalf("plugin %d is not running before the host is killed", pid)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed := time.Now()
	if !waitGone(pid, 2*time.Second) {
		t.Fatalf("plugin %d still runs 2s after its host was killed", pid)
	}
	t.Logf("the orphaned plugin exited %s after its host was killed", time.Since(killed).Round(time.Millisecond))
}

// TestPinnedBinarySwappedAfterDiscoveryIsRefused: the pin is checked
// against the file's bytes right before exec, whatever the digest cache or
// discovery saw.
func TestPinnedBinarySwappedAfterDiscoveryIsRefused(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy"})
	b, err := os.ReadFile(filepath.Join(dir, "lethe-connector-healthy"))
	if err != nil {
		t.Fatal(err)
	}
	pin := sha256.Sum256(b)
	h, _ := newHost(t, dir, Options{Pins: map[string]Pin{"connector-healthy": {SHA256: hex.EncodeToString(pin[:])}}})
	copyFile(t, filepath.Join(fixtures, "crashy"), filepath.Join(dir, "lethe-connector-healthy"), 0o755)
	c, _ := h.Connector("healthy")
	_, err = c.Configure(testCtx(t), "x", map[string]any{"label": "x"})
	if err == nil || !strings.Contains(err.Error(), "is no longer the pinned "+hex.EncodeToString(pin[:])) || !errors.Is(err, ErrPluginFailed) {
		t.Fatalf("Configure after the pinned binary changed: %v", err)
	}
}

// TestDigestCache: a host reads no binary it does not need; digests shown
// are computed once per file version and kept in the cache file, so that a
// later host (a later process) does not read unchanged binaries again, and
// a changed binary is read again.
func TestDigestCache(t *testing.T) {
	t.Parallel()
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy", "lethe-connector-crashy": "crashy", "lethe-storage-sink": "sink"})
	digest := func(file string) string {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])
	}
	cache := filepath.Join(t.TempDir(), "state", sumsFile)
	pins := map[string]Pin{"connector-healthy": {SHA256: digest("lethe-connector-healthy")}}

	h1, _ := newHost(t, dir, Options{SumCache: cache, Pins: pins})
	if got := h1.sums.hashed; got != 1 {
		t.Fatalf("the first host hashed %d binaries at discovery, want 1 (the pinned one)", got)
	}
	// Starting an unpinned plugin reads none of it.
	if _, err := h1.Info(testCtx(t), "connector", "crashy"); err != nil {
		t.Fatal(err)
	}
	if got := h1.sums.hashed; got != 1 {
		t.Fatalf("starting an unpinned plugin hashed it (%d hashed)", got)
	}
	for _, st := range h1.Statuses() {
		if want := digest("lethe-" + st.Kind + "-" + st.Name); st.SHA256 != want {
			t.Errorf("%s-%s: status sha256 %q, want %q", st.Kind, st.Name, st.SHA256, want)
		}
	}
	h1.Statuses()
	if got := h1.sums.hashed; got != 3 {
		t.Fatalf("after two Statuses the host hashed %d binaries, want 3 (each once)", got)
	}

	h2, _ := newHost(t, dir, Options{SumCache: cache, Pins: pins})
	h2.Statuses()
	if got := h2.sums.hashed; got != 0 {
		t.Fatalf("a host over unchanged binaries and a cache hashed %d of them, want 0", got)
	}

	// A rebuilt binary (new bytes, same name) is read again.
	copyFile(t, filepath.Join(fixtures, "healthy"), filepath.Join(dir, "lethe-connector-crashy"), 0o755)
	h3, _ := newHost(t, dir, Options{SumCache: cache, Pins: pins})
	for _, st := range h3.Statuses() {
		if st.Name == "crashy" && st.SHA256 != digest("lethe-connector-crashy") {
			t.Errorf("crashy after rebuild: sha256 %q, want %q", st.SHA256, digest("lethe-connector-crashy"))
		}
	}
	if got := h3.sums.hashed; got != 1 {
		t.Fatalf("after one binary changed the host hashed %d, want 1", got)
	}
}

// TestPluginLogLinesRedacted: a plugin that logs an error quoting a value
// it was given (its own log line, re-emitted by the host) does not put
// the value in the host's log; neither does the call's error.
func TestPluginLogLinesRedacted(t *testing.T) {
	t.Parallel()
	const marker = "MARKER-9a41@example.com"
	dir := pluginDir(t, map[string]string{"lethe-connector-healthy": "healthy"})
	h, logs := newHost(t, dir, Options{})
	ctx := testCtx(t)
	c, err := h.Connector("healthy")
	if err != nil {
		t.Fatal(err)
	}
	if diags, err := c.Configure(ctx, "main", map[string]any{"label": "L1"}); err != nil || diags.HasErrors() {
		t.Fatalf("Configure: %v %v", diags, err)
	}
	_, err = c.Access(ctx, "main", connector.AccessRequest{
		Collection: connector.Collection{Dataset: "app", Name: "leaky"},
		Fields:     []connector.Path{{"id"}},
		Filters:    []connector.Filter{{Field: connector.Path{"email"}, Values: []any{marker}}},
	}, func([]connector.Row) error { return nil })
	if err == nil || strings.Contains(err.Error(), marker) {
		t.Errorf("Access: %v, want an error without the value", err)
	}
	// The plugin's line may be read from its stderr after the call ended.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "query failed") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, "query failed [redacted]") {
		t.Errorf("the plugin's log line was not re-emitted redacted:\n%s", out)
	}
	if strings.Contains(out, marker) {
		t.Errorf("the host's log holds the value:\n%s", out)
	}
}
