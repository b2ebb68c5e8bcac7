package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// writeDir writes files (name -> content) into a new temporary directory.
func writeDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadWith loads dir with env as the whole environment.
func loadWith(dir string, env map[string]string) (*Config, hcl.Diagnostics) {
	return newLoader(dir, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}).load()
}

// loadAll loads and, when loading succeeded, validates.
func loadAll(t testing.TB, files map[string]string, env map[string]string) (string, *Config, hcl.Diagnostics) {
	t.Helper()
	dir := writeDir(t, files)
	cfg, diags := loadWith(dir, env)
	if !diags.HasErrors() {
		diags = append(diags, cfg.Validate()...)
	}
	return dir, cfg, diags
}

// render returns diags as the user sees them.
func render(t testing.TB, cfg *Config, diags hcl.Diagnostics) string {
	t.Helper()
	var b bytes.Buffer
	if err := cfg.WriteDiagnostics(&b, diags, 0, false); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// posOf returns the position of the n-th (0-based) occurrence of needle in
// files[name].
func posOf(t testing.TB, content, needle string, n int) hcl.Pos {
	t.Helper()
	off := -1
	for i, from := 0, 0; i <= n; i++ {
		j := strings.Index(content[from:], needle)
		if j < 0 {
			t.Fatalf("needle %q (occurrence %d) not in test file", needle, n)
		}
		off = from + j
		from = off + 1
	}
	return offsetPos([]byte(content), off)
}

func dump(diags hcl.Diagnostics) string {
	var lines []string
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		where := "<no subject>"
		if d.Subject != nil {
			where = fmt.Sprintf("%s:%d,%d", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column)
		}
		lines = append(lines, fmt.Sprintf("  %s %s: %s: %s", where, sev, d.Summary, d.Detail))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
