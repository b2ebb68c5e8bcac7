package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lethehq/lethe/core/pluginhost"
	sdkversion "github.com/lethehq/lethe/sdk/version"
)

// pluginFixtureDir builds two of core/pluginhost's fixture plugins into a
// plugin directory, with a file that is not a plugin next to them.
func pluginFixtureDir(t *testing.T) string {
	t.Helper()
	build := t.TempDir()
	cmd := exec.Command("go", "build", "-o", build+string(filepath.Separator),
		"../../core/pluginhost/testdata/healthy", "../../core/pluginhost/testdata/oldproto")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fixture plugins: %v\n%s", err, out)
	}
	dir := t.TempDir()
	for src, dst := range map[string]string{"healthy": "lethe-connector-healthy", "oldproto": "lethe-connector-oldproto"} {
		in, err := os.Open(filepath.Join(build, src))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(filepath.Join(dir, dst), os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a plugin"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPluginsCommand(t *testing.T) {
	dir := pluginFixtureDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "lethe-connector-healthy"))
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	healthySum := hex.EncodeToString(s[:])

	t.Run("table", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"plugins", "--plugin-dir", dir}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d; stderr: %s", code, stderr.String())
		}
		lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("want a header and 2 plugins, got:\n%s", stdout.String())
		}
		wants := []*regexp.Regexp{
			regexp.MustCompile(`^KIND\s+NAME\s+VERSION\s+PROTOCOL\s+CAPABILITIES\s+SHA256\s+STATUS$`),
			regexp.MustCompile(`^connector\s+healthy\s+1\.2\.3\s+1\.2\s+dry_run\s+` + healthySum[:12] + `\s+ok$`),
			regexp.MustCompile(`^connector\s+oldproto\s+-\s+0\s+-\s+[0-9a-f]{12}\s+failed: plugin lethe-connector-oldproto speaks protocol 0; this Lethe speaks protocol 1; rebuild it with github\.com/lethehq/lethe/sdk v` + regexp.QuoteMeta(sdkversion.SDK) + ` or later$`),
		}
		for i, re := range wants {
			if !re.MatchString(lines[i]) {
				t.Errorf("line %d = %q, want it to match %s", i, lines[i], re)
			}
		}
		if stderr.Len() != 0 {
			t.Errorf("unexpected stderr: %s", stderr.String())
		}
	})

	t.Run("json", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"plugins", "--plugin-dir", dir, "--json"}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d; stderr: %s", code, stderr.String())
		}
		var got []pluginhost.Status
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("%v in %s", err, stdout.String())
		}
		if len(got) != 2 || got[0].Name != "healthy" || got[0].State != pluginhost.StateOK || got[0].SHA256 != healthySum ||
			got[1].Name != "oldproto" || got[1].State != pluginhost.StateFailed || got[1].Running {
			t.Errorf("got %+v", got)
		}
	})

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unreadable directory", []string{"plugins", "--plugin-dir", filepath.Join(dir, "missing")}, 1, "lethe plugins: read plugin directory"},
		{"empty directory", []string{"plugins", "--plugin-dir", t.TempDir()}, 0, "no plugins in"},
		{"stray argument", []string{"plugins", "extra"}, 2, `unexpected argument "extra"`},
		{"bad flag", []string{"plugins", "--nope"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.stderr)
			}
		})
	}
}
