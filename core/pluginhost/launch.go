package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/host"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/version"
)

// DefaultEnvAllowlist names the host environment variables a plugin
// inherits. Everything else, database passwords included, stays in the
// host: secrets reach a plugin only through Configure, over mTLS. A
// trailing "*" matches a prefix.
var DefaultEnvAllowlist = []string{
	"PATH", "HOME", "USER", "TMPDIR", "TZ", "LANG", "LC_*",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
	version.EnvLogLevel,
}

// pluginLogBufferSize is the longest plugin log line re-emitted whole (long
// SQL in a debug line must not be split).
const pluginLogBufferSize = 256 << 10

// env builds a plugin's environment from the host's, keeping only allowed
// names, and sets the plugin log level from the host logger unless the
// operator set it explicitly. Plugins log errors even when the host
// discards them: they explain crashes (stderrTail).
func env(allow []string, level hclog.Level) []string {
	var out []string
	haveLevel := false
	for _, kv := range os.Environ() {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || !allowed(allow, name) {
			continue
		}
		if name == version.EnvLogLevel {
			haveLevel = true
		}
		out = append(out, kv)
	}
	if !haveLevel && level != hclog.NoLevel {
		out = append(out, version.EnvLogLevel+"="+min(level, hclog.Error).String())
	}
	sort.Strings(out)
	return out
}

func allowed(allow []string, name string) bool {
	for _, a := range allow {
		if p, ok := strings.CutSuffix(a, "*"); ok {
			if strings.HasPrefix(name, p) {
				return true
			}
		} else if a == name {
			return true
		}
	}
	return false
}

// process is one running plugin process.
type process struct {
	client *goplugin.Client
	rpc    any // *connector.Client or *storage.Client
	info   schema.Info
	pid    int
	out    *stderrTail
	logger *pluginLogger

	// Guarded by plugin.mu.
	configured map[string]*configState
	dead       bool
}

// configState is one Configure of an instance in one process; done is
// closed when it finished, err says how.
type configState struct {
	version uint64
	done    chan struct{}
	err     error
}

// exited reports whether the process is gone.
func (pr *process) exited() bool { return pr.client.Exited() }

// ping checks that the process answers gRPC health checks.
func (pr *process) ping(timeout time.Duration) error {
	cp, err := pr.client.Client()
	if err != nil {
		return err
	}
	ch := make(chan error, 1)
	go func() { ch <- cp.Ping() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(timeout):
		return errors.New("the plugin did not answer a health check")
	}
}

// crashReason summarises why the process died, from its stderr and exit.
func (pr *process) crashReason() string {
	reason := pr.out.reason()
	if exit := pr.logger.exitStatus(); exit != "" {
		if reason == "" {
			return "exited unexpectedly (" + exit + ")"
		}
		return reason + " (" + exit + ")"
	}
	if reason == "" {
		return "exited unexpectedly"
	}
	return reason
}

// launch starts the binary, dispenses its client, and checks what it says
// about itself against its file name. startTimeout bounds both the
// handshake and the Describe call; ctx can cut the Describe short.
func launch(ctx context.Context, b Binary, logger hclog.Logger, allow []string, startTimeout time.Duration, workDir string) (*process, error) {
	// A pinned binary's bytes are checked against the pin right before
	// exec (go-plugin's SecureConfig hashes the file). An unpinned one must
	// still be the file version that was discovered: reading 20-30 MB per
	// start would buy nothing, since nobody said what its bytes should be.
	var secure *goplugin.SecureConfig
	if b.Pinned {
		sum, err := hex.DecodeString(b.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return nil, fault.AsPermanent(fmt.Errorf("plugin %s has no valid sha256 (%q); restart Lethe to re-scan the plugin directory", b.File(), b.SHA256))
		}
		secure = &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	} else if now, err := statID(b.Exec); err != nil || now != b.id {
		return nil, fault.AsPermanent(fmt.Errorf("plugin %s changed on disk after it was discovered; it was not started; restart Lethe to re-scan the plugin directory", b.File()))
	}
	out := &stderrTail{}
	lg := &pluginLogger{Logger: logger}
	cmd := exec.Command(b.Exec)
	cmd.Env = env(allow, logger.GetLevel())
	cmd.SysProcAttr = sysProcAttr()
	cmd.Dir = workDir
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:     host.Handshake,
		VersionedPlugins:    host.PluginSets(),
		Cmd:                 cmd,
		SecureConfig:        secure,
		AllowedProtocols:    []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:            true,
		SkipHostEnv:         true,
		StartTimeout:        startTimeout,
		Stderr:              out,
		Logger:              lg,
		PluginLogBufferSize: pluginLogBufferSize,
		GRPCDialOptions:     host.DialOptions(),
		Managed:             false, // Host.Close kills every process it started
	})
	cp, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, startError(b, err, out, lg, startTimeout)
	}
	raw, err := cp.Dispense(b.Kind)
	if err != nil {
		client.Kill()
		return nil, fault.AsPermanent(fmt.Errorf("plugin %s does not serve a %s: %v; is it a %s plugin built with github.com/lethehq/lethe/sdk?", b.File(), b.Kind, err, b.Kind))
	}
	pr := &process{client: client, rpc: raw, out: out, logger: lg, configured: map[string]*configState{}}
	pr.pid, _ = strconv.Atoi(client.ID())

	dctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	d, ok := raw.(interface {
		Describe(context.Context) (schema.Info, error)
	})
	if !ok {
		client.Kill()
		return nil, fmt.Errorf("plugin %s: dispensed %T cannot describe itself", b.File(), raw)
	}
	info, err := d.Describe(dctx)
	if err != nil {
		client.Kill()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("plugin %s did not answer Describe within %s", b.File(), startTimeout)
		}
		if errors.Is(err, fault.ErrUnimplemented) {
			return nil, fault.AsPermanent(fmt.Errorf("plugin %s does not serve the %s protocol; check that it is a %s plugin built with github.com/lethehq/lethe/sdk", b.File(), b.Kind, b.Kind))
		}
		return nil, fmt.Errorf("plugin %s: %w", b.File(), err)
	}
	if err := checkInfo(b, info, client.NegotiatedVersion()); err != nil {
		client.Kill()
		return nil, fault.AsPermanent(err)
	}
	pr.info = info
	return pr, nil
}

// checkInfo compares what a plugin says about itself with its file name
// and the negotiated protocol.
func checkInfo(b Binary, info schema.Info, negotiated int) error {
	if info.Kind != b.Kind {
		return fmt.Errorf("plugin %s describes itself as a %s plugin, but its file name says %s; rename it to lethe-%s-%s", b.File(), info.Kind, b.Kind, info.Kind, info.Name)
	}
	if info.Name != b.Name {
		return fmt.Errorf("plugin %s describes itself as %s %q; rename the file to lethe-%s-%s", b.File(), info.Kind, info.Name, info.Kind, info.Name)
	}
	if info.ProtocolMajor != negotiated {
		return fmt.Errorf("plugin %s negotiated protocol %d but describes protocol %d; rebuild it with github.com/lethehq/lethe/sdk v%s or later", b.File(), negotiated, info.ProtocolMajor, version.SDK)
	}
	return nil
}

var pluginVersionRE = regexp.MustCompile(`Plugin version: (\d+)`)

// ProtocolError says that a plugin speaks a protocol major this Lethe does
// not.
type ProtocolError struct {
	File   string
	Plugin int   // the plugin's protocol major
	Host   []int // what this Lethe speaks
}

func (e *ProtocolError) Error() string {
	hosts := make([]string, len(e.Host))
	newest := 0
	for i, v := range e.Host {
		hosts[i] = strconv.Itoa(v)
		newest = max(newest, v)
	}
	if e.Plugin > newest {
		return fmt.Sprintf("plugin %s speaks protocol %d, newer than this Lethe (protocol %s); upgrade Lethe, or rebuild the plugin with github.com/lethehq/lethe/sdk v%s",
			e.File, e.Plugin, strings.Join(hosts, ", "), version.SDK)
	}
	return fmt.Sprintf("plugin %s speaks protocol %d; this Lethe speaks protocol %s; rebuild it with github.com/lethehq/lethe/sdk v%s or later",
		e.File, e.Plugin, strings.Join(hosts, ", "), version.SDK)
}

// startError turns go-plugin's start-up errors into messages that name the
// plugin and say what to do. Deterministic failures are permanent; the
// others count as crashes.
func startError(b Binary, err error, out *stderrTail, lg *pluginLogger, timeout time.Duration) error {
	msg := err.Error()
	var pathErr *fs.PathError
	var execErr *exec.Error
	switch {
	case errors.Is(err, goplugin.ErrChecksumsDoNotMatch):
		return fault.AsPermanent(fmt.Errorf("plugin %s changed on disk after it was discovered: its sha256 is no longer the pinned %s; it was not started; install the pinned build, or update the sha256 in its plugin %q block and restart Lethe", b.File(), b.SHA256, b.ID()))
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		hint := ""
		if r := out.reason(); r != "" {
			hint = "; its last output: " + r
		}
		return fmt.Errorf("plugin %s did not start within %s (set start_timeout in its plugin %q block if it needs longer)%s", b.File(), timeout, b.ID(), hint)
	case strings.HasPrefix(msg, "Unrecognized remote plugin message: "):
		line, _, _ := strings.Cut(strings.TrimPrefix(msg, "Unrecognized remote plugin message: "), "\n")
		if strings.TrimSpace(line) == "" {
			return exitedError(b, out, lg)
		}
		if len(line) > 80 {
			line = line[:80] + "..."
		}
		return fault.AsPermanent(fmt.Errorf("plugin %s wrote to stdout before the handshake (%q); plugins must log to stderr and never write to stdout", b.File(), line))
	case strings.Contains(msg, "plugin exited before we could connect"):
		return exitedError(b, out, lg)
	case strings.Contains(msg, "incompatible API version with plugin"):
		v := -1
		if m := pluginVersionRE.FindStringSubmatch(msg); m != nil {
			v, _ = strconv.Atoi(m[1])
		}
		return fault.AsPermanent(&ProtocolError{File: b.File(), Plugin: v, Host: host.Supported})
	case strings.Contains(msg, "unsupported plugin protocol"):
		return fault.AsPermanent(fmt.Errorf("plugin %s does not serve gRPC (%s); build it with github.com/lethehq/lethe/sdk", b.File(), msg))
	case strings.Contains(msg, "incompatible core API version"):
		return fault.AsPermanent(fmt.Errorf("plugin %s was built with an incompatible hashicorp/go-plugin; rebuild it with github.com/lethehq/lethe/sdk v%s or later", b.File(), version.SDK))
	case errors.As(err, &pathErr), errors.As(err, &execErr):
		return fault.AsPermanent(fmt.Errorf("cannot execute plugin %s: %w", b.File(), err))
	}
	return fmt.Errorf("start plugin %s: %w", b.File(), err)
}

func exitedError(b Binary, out *stderrTail, lg *pluginLogger) error {
	reason := out.reason()
	if reason == "" {
		reason = "no output on stderr"
	}
	if exit := lg.exitStatus(); exit != "" {
		reason += " (" + exit + ")"
	}
	return fmt.Errorf("plugin %s exited during start-up: %s", b.File(), reason)
}

// pluginLogger is the logger go-plugin uses for one process. It re-emits
// the plugin's log lines under one fixed name (go-plugin would append the
// binary's resolved file name) and notes how the process exited.
type pluginLogger struct {
	hclog.Logger

	mu   sync.Mutex
	exit string
}

func (l *pluginLogger) Named(string) hclog.Logger      { return l }
func (l *pluginLogger) ResetNamed(string) hclog.Logger { return l }

func (l *pluginLogger) Error(msg string, args ...any) {
	l.note(msg, args)
	l.Logger.Error(msg, args...)
}

func (l *pluginLogger) Info(msg string, args ...any) {
	l.note(msg, args)
	l.Logger.Info(msg, args...)
}

// note records the exit status go-plugin logs when the process ends.
func (l *pluginLogger) note(msg string, args []any) {
	if msg != "plugin process exited" {
		return
	}
	status := "exit status 0"
	for i := 0; i+1 < len(args); i += 2 {
		if k, _ := args[i].(string); k == "error" {
			status = fmt.Sprint(args[i+1])
		}
	}
	l.mu.Lock()
	l.exit = status
	l.mu.Unlock()
}

func (l *pluginLogger) exitStatus() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.exit
}

// stderrTail keeps what a plugin said last on stderr, to explain a crash:
// the most recent Go panic or fatal error line, the most recent error-level
// log message, and the last line.
type stderrTail struct {
	mu       sync.Mutex
	line     []byte
	last     string
	panicMsg string
	errorMsg string
}

const maxReasonLen = 300

func (t *stderrTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range p {
		if c == '\n' {
			t.finish()
			continue
		}
		if len(t.line) < 4096 {
			t.line = append(t.line, c)
		}
	}
	return len(p), nil
}

func (t *stderrTail) finish() {
	line := strings.TrimSpace(string(t.line))
	t.line = t.line[:0]
	if line == "" {
		return
	}
	t.last = clip(line)
	if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
		t.panicMsg = clip(line)
		return
	}
	if line[0] != '{' {
		return
	}
	var entry map[string]any
	if json.Unmarshal([]byte(line), &entry) != nil {
		return
	}
	if lvl, _ := entry["@level"].(string); lvl != "error" {
		return
	}
	msg, _ := entry["@message"].(string)
	for _, k := range []string{"error", "panic"} {
		if v, ok := entry[k]; ok {
			msg += ": " + fmt.Sprint(v)
		}
	}
	t.errorMsg = clip(msg)
}

// reason is the best one-line explanation of the plugin's end, or "".
func (t *stderrTail) reason() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.line) > 0 {
		t.finish()
	}
	switch {
	case t.panicMsg != "":
		return t.panicMsg
	case t.errorMsg != "":
		return t.errorMsg
	}
	return t.last
}

func clip(s string) string {
	if len(s) > maxReasonLen {
		return s[:maxReasonLen] + "..."
	}
	return s
}
