package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lethehq/lethe/plugins/storage-local/internal/local"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/sdktest"
	"github.com/lethehq/lethe/sdk/storage"
)

func fixture(dir string) sdktest.StorageFixture {
	return sdktest.StorageFixture{
		Config:     map[string]any{"dir": dir},
		BadConfigs: []map[string]any{{}, {"dir": 42}, {"dir": dir, "file_mode": "rwx"}, {"dir": dir, "bucket": "x"}},
		Fetch: func(t testing.TB, key string) ([]byte, error) {
			return os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
		},
	}
}

// TestConformance runs the storage suite through a real plugin process.
func TestConformance(t *testing.T) {
	bin := sdktest.BuildPlugin(t, ".")
	c := sdktest.LaunchStorage(t, bin)
	sdktest.RunStorageConformance(t, c, fixture(t.TempDir()))
}

// TestConformanceInProcess runs the suite over the in-process harness.
func TestConformanceInProcess(t *testing.T) {
	c := sdktest.NewStorageHarness(t, local.Definition("0.1.0"))
	sdktest.RunStorageConformance(t, c, fixture(t.TempDir()))
}

func TestDescribeFlag(t *testing.T) {
	bin := sdktest.BuildPlugin(t, ".")
	out, err := exec.Command(bin, "-describe").Output()
	if err != nil {
		t.Fatalf("-describe: %v", err)
	}
	var info schema.Info
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("-describe printed invalid JSON: %v\n%s", err, out)
	}
	if info.Kind != "storage" || info.Name != "local" || info.Version == "" {
		t.Errorf("-describe: %+v", info)
	}
}

func newStore(t *testing.T, dir string) storage.Store {
	t.Helper()
	cfg, diags := local.Definition("0").Config.Validate(map[string]any{"dir": dir})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	s, err := local.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func TestSymlinkEscapeRefused(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, dir)
	_, err := s.Upload(context.Background(), storage.Object{Key: "link/evil.json"}, bytes.NewReader([]byte("x")))
	if err == nil {
		t.Fatal("upload through a symlink leaving the directory succeeded")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("a file was written outside the directory: %v", entries)
	}
}

func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	if _, err := s.Upload(context.Background(), storage.Object{Key: "a/b.json"}, bytes.NewReader([]byte("{}"))); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "a", "b.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n > 0 {
		f.n--
		return copy(p, "partial"), nil
	}
	return 0, errors.New("stream broke")
}

// A failed upload leaves neither the object nor a temporary file behind.
func TestFailedUploadLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	if _, err := s.Upload(context.Background(), storage.Object{Key: "r/pkg.json"}, &failingReader{n: 3}); err == nil {
		t.Fatal("upload of a broken stream succeeded")
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "r"))
	if len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
	// An earlier complete object under the same key survives a failed overwrite.
	if _, err := s.Upload(context.Background(), storage.Object{Key: "r/pkg.json"}, bytes.NewReader([]byte("good"))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upload(context.Background(), storage.Object{Key: "r/pkg.json"}, &failingReader{n: 1}); err == nil {
		t.Fatal("upload of a broken stream succeeded")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "r", "pkg.json")); string(got) != "good" {
		t.Errorf("object after failed overwrite: %q, want the earlier complete one", got)
	}
}

func TestCancelledUploadLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Upload(ctx, storage.Object{Key: "c.json"}, bytes.NewReader(make([]byte, 1<<20))); err == nil {
		t.Fatal("cancelled upload succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
