package pluginhost

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/sdk/version"
)

func TestStderrTailReason(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string
		partial string // written last, without a newline
		want    string
	}{
		{"nothing", nil, "", ""},
		{"last plain line", []string{"starting", "listening on :0"}, "", "listening on :0"},
		{"error log with its error", []string{
			`{"@level":"info","@message":"plugin shutting down"}`,
			`{"@level":"error","@message":"plugin failed to start","panic":"nil map"}`,
			`{"@level":"info","@message":"bye"}`,
		}, "", "plugin failed to start: nil map"},
		{"panic wins", []string{
			`{"@level":"error","@message":"query failed","error":"timeout"}`,
			"panic: runtime error: index out of range [3] with length 3",
			"",
			"goroutine 7 [running]:",
			"main.main()",
		}, "", "panic: runtime error: index out of range [3] with length 3"},
		{"unterminated last line", []string{"starting"}, "fatal error: out of memory", "fatal error: out of memory"},
		{"long line clipped", []string{strings.Repeat("x", 1000)}, "", strings.Repeat("x", maxReasonLen) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tail := &stderrTail{}
			for _, l := range tt.lines {
				// go-plugin writes a line and its newline separately.
				_, _ = tail.Write([]byte(l))
				_, _ = tail.Write([]byte("\n"))
			}
			_, _ = tail.Write([]byte(tt.partial))
			if got := tail.reason(); got != tt.want {
				t.Errorf("reason() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("LETHE_TEST_SECRET", "x")
	t.Setenv("LC_TIME", "C")
	t.Setenv("TZ", "UTC")
	got := env(DefaultEnvAllowlist, hclog.Off)
	for _, want := range []string{"LC_TIME=C", "TZ=UTC", version.EnvLogLevel + "=error"} {
		if !slices.Contains(got, want) {
			t.Errorf("env lacks %s: %v", want, got)
		}
	}
	for _, kv := range got {
		if strings.HasPrefix(kv, "LETHE_TEST_SECRET=") {
			t.Errorf("env passes %s", kv)
		}
	}
	if got := env(DefaultEnvAllowlist, hclog.Debug); !slices.Contains(got, version.EnvLogLevel+"=debug") {
		t.Errorf("a debug host does not ask plugins for debug logs: %v", got)
	}
	t.Setenv(version.EnvLogLevel, "trace")
	if got := env(DefaultEnvAllowlist, hclog.Info); !slices.Contains(got, version.EnvLogLevel+"=trace") || slices.Contains(got, version.EnvLogLevel+"=info") {
		t.Errorf("the operator's %s was not kept: %v", version.EnvLogLevel, got)
	}
}
