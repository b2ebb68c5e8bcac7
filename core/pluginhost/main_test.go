package pluginhost

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/sdk/connector"
)

// fixtures holds the fixture plugins built by TestMain, named after their
// testdata directory.
var fixtures string

// orphanHostEnv makes the test binary act as a Lethe daemon for the orphan
// test (see orphanHost).
const orphanHostEnv = "PLUGINHOST_TEST_ORPHAN_HOST_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(orphanHostEnv); dir != "" {
		os.Exit(orphanHost(dir))
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pluginhost-fixtures-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	names := []string{"healthy", "crashy", "slow", "noisy", "oldproto", "sink"}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./testdata/"+n)
	}
	cmd := exec.Command("go", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build fixture plugins: %v\n%s", err, out.String())
		return 1
	}
	fixtures = dir
	return m.Run()
}

// orphanHost starts the healthy connector of dir, prints its pid and
// sleeps until killed.
func orphanHost(dir string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := New(Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := h.Connector("healthy")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := c.Configure(ctx, "main", map[string]any{"label": "orphan"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pid, err := pidOf(ctx, c, "main")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("pid %d\n", pid)
	time.Sleep(time.Hour)
	return 0
}

// pluginDir makes a plugin directory holding copies of fixtures: file
// name in the directory -> fixture name.
func pluginDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, fixture := range files {
		copyFile(t, filepath.Join(fixtures, fixture), filepath.Join(dir, name), 0o755)
	}
	return dir
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a log sink safe for the host's concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newHost starts a host over dir with fast test defaults; fields set in
// opts win. The host is closed when the test ends.
func newHost(t *testing.T, dir string, opts Options) (*Host, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	opts.Dir = dir
	if opts.Logger == nil {
		opts.Logger = hclog.New(&hclog.LoggerOptions{Name: "test", Output: logs, Level: hclog.Debug})
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 20 * time.Second
	}
	if opts.BackoffBase == 0 {
		opts.BackoffBase = 10 * time.Millisecond
	}
	if opts.BackoffMax == 0 {
		opts.BackoffMax = 40 * time.Millisecond
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			t.Errorf("close host: %v", err)
		}
	})
	return h, logs
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// one is a single-row Access request for the fixtures' collections.
func one(collection string) connector.AccessRequest {
	return connector.AccessRequest{
		Collection: connector.Collection{Dataset: "test", Name: collection},
		Fields:     []connector.Path{{"pid"}, {"label"}},
		Filters:    []connector.Filter{{Field: connector.Path{"pid"}, Values: []any{int64(0)}}},
	}
}

// pidRow fetches the "pid" collection of instance id: the process id and
// the instance's label.
func pidRow(ctx context.Context, c *Connector, id string) (int64, string, error) {
	var row connector.Row
	n, err := c.Access(ctx, id, one("pid"), func(rows []connector.Row) error {
		row = rows[0]
		return nil
	})
	if err != nil {
		return 0, "", err
	}
	if n != 1 {
		return 0, "", fmt.Errorf("pid: got %d rows", n)
	}
	label, _ := row["label"].(string)
	return row["pid"].(int64), label, nil
}

func pidOf(ctx context.Context, c *Connector, id string) (int64, error) {
	pid, _, err := pidRow(ctx, c, id)
	return pid, err
}

// processGone reports whether pid has exited (a zombie counts as exited:
// the orphan's new parent may not reap it promptly).
func processGone(pid int) bool {
	if runtime.GOOS == "linux" {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) {
			return false
		}
		state := s[i+2]
		return state == 'Z' || state == 'X'
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// waitGone polls until pid has exited or d has passed.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if processGone(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
