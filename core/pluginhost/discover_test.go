package pluginhost

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFileName(t *testing.T) {
	tests := []struct {
		file                string
		kind, name, version string
		plugin, ok          bool
	}{
		{"lethe-connector-postgres", "connector", "postgres", "", true, true},
		{"lethe-storage-s3", "storage", "s3", "", true, true},
		{"lethe-connector-my-db_v1.2.3", "connector", "my-db", "1.2.3", true, true},
		{"lethe-connector-pg_v2.0.0-rc.1", "connector", "pg", "2.0.0-rc.1", true, true},
		{"lethe-connector-pg.exe", "connector", "pg", "", true, true},
		{"lethe-connector-Postgres", "", "", "", true, false},
		{"lethe-connector-pg.bak", "", "", "", true, false},
		{"lethe-connector-pg_v1", "", "", "", true, false},
		{"lethe-connector-", "", "", "", true, false},
		{"lethe-exporter-x", "", "", "", false, false},
		{"lethe", "", "", "", false, false},
		{"README.md", "", "", "", false, false},
	}
	for _, tt := range tests {
		kind, name, version, plugin, ok := parseFileName(tt.file)
		if kind != tt.kind || name != tt.name || version != tt.version || plugin != tt.plugin || ok != tt.ok {
			t.Errorf("parseFileName(%q) = %q %q %q %v %v, want %q %q %q %v %v", tt.file,
				kind, name, version, plugin, ok, tt.kind, tt.name, tt.version, tt.plugin, tt.ok)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.2.3", "1.2.3", 0},
		{"1.10.0", "1.9.0", 1},
		{"1.2.0", "1.2.0-rc.1", 1},
		{"1.2.0-alpha", "1.2.0-beta", -1},
		{"", "0.0.1", -1},
		{"2.0.0", "", 1},
		{"0.9.9", "1.0.0", -1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func sum(content string) string {
	s := sha256.Sum256([]byte(content))
	return hex.EncodeToString(s[:])
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "plugins")
	outside := filepath.Join(root, "elsewhere")
	const script = "#!/bin/sh\nexit 0\n"
	write(t, filepath.Join(dir, "lethe-connector-plain"), script+"#plain\n", 0o755)
	write(t, filepath.Join(dir, "lethe-connector-noexec"), script, 0o644)
	write(t, filepath.Join(dir, "README.md"), "docs", 0o755)
	write(t, filepath.Join(dir, "lethe-connector-Upper"), script, 0o755)
	write(t, filepath.Join(dir, "lethe-connector-dir", "x"), script, 0o755)
	write(t, filepath.Join(dir, "lethe-storage-s3_v1.9.0"), script+"#1.9\n", 0o755)
	write(t, filepath.Join(dir, "lethe-storage-s3_v1.10.0"), script+"#1.10\n", 0o755)
	write(t, filepath.Join(dir, "lethe-storage-s3"), script+"#none\n", 0o755)
	write(t, filepath.Join(dir, "builds", "inside"), script+"#inside\n", 0o755)
	write(t, filepath.Join(outside, "escape"), script+"#escape\n", 0o755)
	write(t, filepath.Join(outside, "lethe-connector-pathpin"), script+"#pathpin\n", 0o755)
	write(t, filepath.Join(dir, "lethe-connector-pinned"), script+"#pinned\n", 0o755)
	write(t, filepath.Join(dir, "lethe-connector-mismatch"), script+"#mismatch\n", 0o755)
	if err := os.Symlink(filepath.Join("builds", "inside"), filepath.Join(dir, "lethe-connector-inside")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "escape"), filepath.Join(dir, "lethe-connector-escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "lethe-connector-broken")); err != nil {
		t.Fatal(err)
	}
	wrong := strings.Repeat("ab", 32)
	pins := map[string]Pin{
		"connector-pinned":   {SHA256: "sha256:" + strings.ToUpper(sum(script+"#pinned\n")), StartTimeout: 3 * time.Second},
		"connector-mismatch": {SHA256: wrong},
		"connector-missing":  {SHA256: wrong},
		"connector-pathpin":  {Path: filepath.Join(outside, "lethe-connector-pathpin")},
	}

	sums := loadSums("")
	bins, skips, err := discover(dir, pins, sums)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Binary{}
	for _, b := range bins {
		got[b.File()] = b
	}
	type want struct {
		id, exec, sha, err, superseded string
		pinned                         bool
		timeout                        time.Duration
	}
	wants := map[string]want{
		"lethe-connector-plain":    {id: "connector-plain"},
		"lethe-storage-s3_v1.10.0": {id: "storage-s3"},
		"lethe-storage-s3_v1.9.0":  {id: "storage-s3", superseded: "lethe-storage-s3_v1.10.0"},
		"lethe-storage-s3":         {id: "storage-s3", superseded: "lethe-storage-s3_v1.10.0"},
		"lethe-connector-inside":   {id: "connector-inside", exec: filepath.Join("builds", "inside")},
		"lethe-connector-escape":   {id: "connector-escape", err: "is a symlink to " + filepath.Join(outside, "escape") + ", outside the plugin directory"},
		"lethe-connector-broken":   {id: "connector-broken", err: "broken symlink"},
		"lethe-connector-pinned":   {id: "connector-pinned", sha: sum(script + "#pinned\n"), pinned: true, timeout: 3 * time.Second},
		"lethe-connector-mismatch": {id: "connector-mismatch", pinned: true, sha: sum(script + "#mismatch\n"), err: "sha256 mismatch: pinned " + wrong + ", file has " + sum(script+"#mismatch\n")},
		"lethe-connector-pathpin":  {id: "connector-pathpin", exec: filepath.Join(outside, "lethe-connector-pathpin")},
		"lethe-connector-missing":  {id: "connector-missing", pinned: true, err: "a plugin block pins connector-missing, but there is no lethe-connector-missing in " + dir},
	}
	for file, w := range wants {
		b, ok := got[file]
		if !ok {
			t.Errorf("%s: not discovered", file)
			continue
		}
		if b.ID() != w.id {
			t.Errorf("%s: id %q, want %q", file, b.ID(), w.id)
		}
		// Only pinned binaries are read at discovery.
		if b.SHA256 != w.sha {
			t.Errorf("%s: sha256 %q, want %q", file, b.SHA256, w.sha)
		}
		if w.exec != "" && !strings.HasSuffix(b.Exec, w.exec) {
			t.Errorf("%s: exec %s, want .../%s", file, b.Exec, w.exec)
		}
		if b.Pinned != w.pinned || b.StartTimeout != w.timeout {
			t.Errorf("%s: pinned %v timeout %s, want %v %s", file, b.Pinned, b.StartTimeout, w.pinned, w.timeout)
		}
		if b.SupersededBy != w.superseded {
			t.Errorf("%s: superseded by %q, want %q", file, b.SupersededBy, w.superseded)
		}
		switch {
		case w.err == "" && b.Err != nil:
			t.Errorf("%s: refused: %v", file, b.Err)
		case w.err != "" && (b.Err == nil || !strings.Contains(b.Err.Error(), w.err)):
			t.Errorf("%s: error %v, want it to contain %q", file, b.Err, w.err)
		}
	}
	if len(got) != len(wants) {
		t.Errorf("discovered %d binaries, want %d: %v", len(got), len(wants), bins)
	}
	if sums.hashed != 2 {
		t.Errorf("discovery hashed %d files, want 2 (the pinned ones that exist)", sums.hashed)
	}
	skipped := map[string]string{}
	for _, s := range skips {
		skipped[s.file] = s.why
	}
	for file, why := range map[string]string{
		"lethe-connector-noexec": "not executable",
		"lethe-connector-Upper":  "does not match",
		"lethe-connector-dir":    "directory",
	} {
		if !strings.Contains(skipped[file], why) {
			t.Errorf("%s: skipped because %q, want %q", file, skipped[file], why)
		}
	}
	if _, ok := skipped["README.md"]; ok {
		t.Errorf("README.md is not plugin-like and should be skipped silently")
	}
}

func TestDiscoverErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		dir  string
		pins map[string]Pin
		want string
	}{
		{"missing directory", filepath.Join(dir, "nope"), nil, "read plugin directory"},
		{"not a directory", func() string { p := filepath.Join(dir, "file"); write(t, p, "x", 0o644); return p }(), nil, "read plugin directory"},
		{"bad pin key", dir, map[string]Pin{"postgres": {}}, `plugin "postgres": a plugin block is named <kind>-<name>`},
		{"bad pin kind", dir, map[string]Pin{"exporter-x": {}}, "a plugin block is named"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Discover(tt.dir, tt.pins)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Discover: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
