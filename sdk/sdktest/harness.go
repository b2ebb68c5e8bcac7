package sdktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/host"
	"github.com/lethehq/lethe/sdk/internal/rpc"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/storage"
	"github.com/lethehq/lethe/sdk/version"
)

// EnvPluginLogs, when set to a non-empty value, shows plugins' debug logs
// in the test output; otherwise only warnings and errors are shown.
const EnvPluginLogs = "LETHE_TEST_PLUGIN_LOGS"

// NewConnectorHarness serves def in this process over real gRPC (a Unix
// socket, the SDK's own server options and message limits) and returns the
// host-side client, as Lethe core uses it. Everything is torn down when the
// test ends.
//
// The harness does not use go-plugin's TestPluginGRPCConn: that serves with
// gRPC's default 4 MiB receive limit, so a batch a real plugin process
// accepts would fail in process.
func NewConnectorHarness(t testing.TB, def connector.Definition) *connector.Client {
	t.Helper()
	p := &connector.Plugin{Definition: def, Logger: pluginLogger(t, "connector-"+def.Name)}
	conn, done := serveInProcess(t, func(s *grpc.Server) error { return p.GRPCServer(nil, s) })
	return connector.NewClient(conn, done)
}

// NewStorageHarness serves def in this process over real gRPC, like
// NewConnectorHarness.
func NewStorageHarness(t testing.TB, def storage.Definition) *storage.Client {
	t.Helper()
	p := &storage.Plugin{Definition: def, Logger: pluginLogger(t, "storage-"+def.Name)}
	conn, done := serveInProcess(t, func(s *grpc.Server) error { return p.GRPCServer(nil, s) })
	return storage.NewClient(conn, done)
}

func serveInProcess(t testing.TB, register func(*grpc.Server) error) (*grpc.ClientConn, <-chan struct{}) {
	t.Helper()
	// Not t.TempDir: its path can exceed the 104-byte limit of a socket path.
	dir, err := os.MkdirTemp("", "lethe-sdktest-")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	sock := filepath.Join(dir, "plugin.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("harness: listen: %v", err)
	}
	srv := grpc.NewServer(rpc.ServerOptions()...)
	if err := register(srv); err != nil {
		ln.Close()
		os.RemoveAll(dir)
		t.Fatalf("harness: register plugin: %v", err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, host.DialOptions()...)
	conn, err := grpc.NewClient("unix://"+sock, opts...)
	if err != nil {
		srv.Stop()
		os.RemoveAll(dir)
		t.Fatalf("harness: dial: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		<-served
		close(done)
		os.RemoveAll(dir)
	})
	return conn, done
}

// LaunchConnector starts the connector plugin binary at path as a real
// process, exactly as Lethe core does (go-plugin, gRPC, AutoMTLS, the SDK's
// handshake and message limits), checks with Describe that it is a
// connector, and returns its client. The process is killed when the test
// ends. Its log lines and anything else it writes to stderr (a panic, a
// race report) appear in the test output.
func LaunchConnector(t testing.TB, path string) *connector.Client {
	t.Helper()
	c, ok := launch(t, path, schema.KindConnector).(*connector.Client)
	if !ok {
		t.Fatalf("plugin %s: dispensed %T, want a connector client", path, c)
	}
	checkKind(t, path, schema.KindConnector, c.Describe)
	return c
}

// LaunchStorage starts the storage plugin binary at path as a real
// process, like LaunchConnector.
func LaunchStorage(t testing.TB, path string) *storage.Client {
	t.Helper()
	c, ok := launch(t, path, schema.KindStorage).(*storage.Client)
	if !ok {
		t.Fatalf("plugin %s: dispensed %T, want a storage client", path, c)
	}
	checkKind(t, path, schema.KindStorage, c.Describe)
	return c
}

// checkKind fails the test unless the plugin answers Describe as kind.
func checkKind(t testing.TB, path, kind string, describe func(context.Context) (schema.Info, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := describe(ctx)
	switch {
	case errors.Is(err, fault.ErrUnimplemented):
		t.Fatalf("plugin %s is not a %s plugin: it does not serve the %s service", path, kind, kind)
	case err != nil:
		t.Fatalf("plugin %s: describe: %v", path, err)
	case info.Kind != kind:
		t.Fatalf("plugin %s is a %q plugin, not a %s plugin", path, info.Kind, kind)
	}
}

// ClientConfig is the go-plugin configuration LaunchConnector and
// LaunchStorage start a plugin binary with; benchmarks that start many
// processes use it directly. logger receives the plugin's log lines.
func ClientConfig(path string, logger hclog.Logger) *plugin.ClientConfig {
	cmd := exec.Command(path)
	level := "warn"
	if os.Getenv(EnvPluginLogs) != "" {
		level = "debug"
	}
	// SkipHostEnv below, and the host's environment first here: the last
	// value of a variable wins, so these settings override the host's.
	cmd.Env = append(os.Environ(), version.EnvLogLevel+"="+level)
	if raceEnabled {
		// A race-built plugin stops at its first data race, so the test
		// sees it fail instead of a report scrolling by.
		cmd.Env = append(cmd.Env, "GORACE=halt_on_error=1")
	}
	return &plugin.ClientConfig{
		HandshakeConfig:  host.Handshake,
		VersionedPlugins: host.PluginSets(),
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions:  host.DialOptions(),
		Logger:           logger,
		StartTimeout:     30 * time.Second,
	}
}

func launch(t testing.TB, path, kind string) any {
	t.Helper()
	sink := newLogSink(t) // registered first, so it outlives the process
	cfg := ClientConfig(path, hclog.New(&hclog.LoggerOptions{
		Name: filepath.Base(path), Level: hostLevel(), Output: sink,
	}))
	cfg.Stderr = &rawStderr{sink: sink}
	client := plugin.NewClient(cfg)
	t.Cleanup(client.Kill)
	rpcClient, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin %s: %v", path, err)
	}
	raw, err := rpcClient.Dispense(kind)
	if err != nil {
		t.Fatalf("dispense %s from %s: %v", kind, path, err)
	}
	return raw
}

// build is one cached `go build` of a plugin directory.
type build struct {
	once sync.Once
	path string
	err  error
}

var builds sync.Map // absolute directory -> *build

// BuildPlugin builds the main package in dir (a plugin module, or a
// directory inside one) with `go build` and returns the binary's path. A
// directory is built once per test binary run; when the tests run with
// -race, the plugin is built with -race too, so data races inside the
// plugin process fail the test.
//
// The binary lives in the user's cache directory (lethe/sdktest/<hash of
// dir>), not in t.TempDir: the build is shared by every test of the run and
// must outlive the test that triggered it. Each run replaces it atomically.
func BuildPlugin(t testing.TB, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("build plugin %s: %v", dir, err)
	}
	v, _ := builds.LoadOrStore(abs, &build{})
	b := v.(*build)
	b.once.Do(func() { b.path, b.err = goBuild(abs) })
	if b.err != nil {
		t.Fatalf("build plugin %s: %v", abs, b.err)
	}
	return b.path
}

func goBuild(dir string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	sum := sha256.Sum256([]byte(dir))
	outDir := filepath.Join(base, "lethe", "sdktest", hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return "", err
	}
	name := filepath.Base(dir)
	args := []string{"build"}
	if raceEnabled {
		name += "-race"
		args = append(args, "-race")
	}
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	final := filepath.Join(outDir, name)
	// Build beside the final path and rename: another test binary may be
	// running the previous build right now.
	tmp, err := os.CreateTemp(outDir, name+".tmp-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", append(args, "-o", tmp.Name(), ".")...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", err
	}
	return final, nil
}

func hostLevel() hclog.Level {
	if os.Getenv(EnvPluginLogs) != "" {
		return hclog.Debug
	}
	return hclog.Warn
}

func pluginLogger(t testing.TB, name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hostLevel(), Output: newLogSink(t)})
}

// logSink writes log lines to the test's log while the test runs, and to
// stderr after it ended (t.Log would panic then).
type logSink struct {
	mu    sync.Mutex
	t     testing.TB
	ended bool
}

func newLogSink(t testing.TB) *logSink {
	s := &logSink{t: t}
	t.Cleanup(func() {
		s.mu.Lock()
		s.ended = true
		s.mu.Unlock()
	})
	return s
}

func (s *logSink) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		fmt.Fprintln(os.Stderr, line)
	} else {
		s.t.Log(line)
	}
	return len(p), nil
}

// rawStderr receives a plugin's raw stderr from go-plugin and passes on the
// lines that are not hclog JSON (those arrive through the logger): panics,
// race reports, fatal errors.
type rawStderr struct {
	sink *logSink
	mu   sync.Mutex
	buf  []byte
}

func (r *rawStderr) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	for {
		i := bytes.IndexByte(r.buf, '\n')
		if i < 0 {
			break
		}
		line := r.buf[:i]
		if len(line) > 0 && line[0] != '{' {
			r.sink.Write([]byte("plugin stderr: " + string(line)))
		}
		r.buf = r.buf[i+1:]
	}
	return len(p), nil
}
