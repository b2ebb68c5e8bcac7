package local

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/storage"
)

func newStore(t *testing.T, raw map[string]any) *Store {
	t.Helper()
	cfg, diags := Definition("0").Config.Validate(raw)
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s.(*Store)
}

// entries lists every file under dir, relative to it.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func TestUploadWritesUnderDir(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, map[string]any{"dir": dir})
	res, err := s.Upload(context.Background(), storage.Object{Key: "req 1/access #1.json"}, strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "req 1", "access #1.json")
	got, err := os.ReadFile(want)
	if err != nil || string(got) != `{"a":1}` {
		t.Fatalf("file %s: %q, %v", want, got, err)
	}
	u, err := url.Parse(res.Location)
	if err != nil || u.Scheme != "file" || u.Path != filepath.ToSlash(want) || !strings.HasPrefix(res.Location, "file:///") {
		t.Errorf("location %q (path %q), want file://%s", res.Location, u.Path, want)
	}
	if res.Size != 7 {
		t.Errorf("size %d, want 7", res.Size)
	}
	if files := entries(t, dir); len(files) != 1 {
		t.Errorf("files %v, want only the object", files)
	}
}

// The store refuses escaping keys itself, not only the SDK before it.
func TestUploadRefusesEscapingKeys(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	s := newStore(t, map[string]any{"dir": dir})
	for _, key := range []string{"../x", "a/../../x", "/etc/passwd", "..", "a/./b", `..\x`, ""} {
		_, err := s.Upload(context.Background(), storage.Object{Key: key}, strings.NewReader("x"))
		if err == nil || fault.KindOf(err) != fault.Permanent {
			t.Errorf("key %q: %v, want a permanent refusal", key, err)
		}
	}
	if files := entries(t, parent); len(files) != 0 {
		t.Errorf("files written: %v", files)
	}
}

func TestSymlinkLeavingDirRefused(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "target.json"), filepath.Join(dir, "file-link.json")); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, map[string]any{"dir": dir})
	for _, key := range []string{"link/evil.json", "link/deeper/evil.json"} {
		if _, err := s.Upload(context.Background(), storage.Object{Key: key}, strings.NewReader("x")); err == nil {
			t.Errorf("upload of %s through a symlink leaving the directory succeeded", key)
		}
	}
	// Renaming over a symlink replaces the link; it never writes through it.
	if _, err := s.Upload(context.Background(), storage.Object{Key: "file-link.json"}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if files := entries(t, outside); len(files) != 0 {
		t.Errorf("files written outside the directory: %v", files)
	}
}

// A symlink that stays inside the directory is followed.
func TestSymlinkInsideDirFollowed(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "real"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "alias")); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, map[string]any{"dir": dir})
	if _, err := s.Upload(context.Background(), storage.Object{Key: "alias/a.json"}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "real", "a.json")); err != nil {
		t.Error(err)
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

// A failed upload leaves neither the object nor a temporary file, and an
// earlier complete object under the same key survives it.
func TestFailedUploadLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, map[string]any{"dir": dir})
	if _, err := s.Upload(context.Background(), storage.Object{Key: "r/pkg.json"}, &failingReader{n: 3}); err == nil {
		t.Fatal("upload of a broken stream succeeded")
	}
	if files := entries(t, dir); len(files) != 0 {
		t.Errorf("left behind: %v", files)
	}
	if _, err := s.Upload(context.Background(), storage.Object{Key: "r/pkg.json"}, strings.NewReader("good")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upload(context.Background(), storage.Object{Key: "r/pkg.json"}, &failingReader{n: 1}); err == nil {
		t.Fatal("upload of a broken stream succeeded")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "r", "pkg.json")); string(got) != "good" {
		t.Errorf("object after a failed overwrite: %q, want the earlier complete one", got)
	}
	if files := entries(t, dir); len(files) != 1 {
		t.Errorf("files %v, want only the object", files)
	}
}

func TestCancelledUploadLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, map[string]any{"dir": dir})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Upload(ctx, storage.Object{Key: "c.json"}, bytes.NewReader(make([]byte, 1<<20))); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled upload: %v", err)
	}
	if files := entries(t, dir); len(files) != 0 {
		t.Errorf("left behind: %v", files)
	}
}

// While an upload is under way, its key does not exist: only a hidden
// temporary file does.
func TestObjectAppearsOnlyWhenComplete(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, map[string]any{"dir": dir})
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := s.Upload(context.Background(), storage.Object{Key: "slow.json"}, pr)
		done <- err
	}()
	if _, err := pw.Write([]byte("first half ")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "slow.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the object is visible before it is complete: %v", err)
	}
	files := entries(t, dir)
	if len(files) != 1 || !strings.HasPrefix(files[0], ".slow.json.tmp-") {
		t.Errorf("files during the upload: %v, want one hidden temporary file", files)
	}
	pw.Write([]byte("second half"))
	pw.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("upload did not finish")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "slow.json")); string(got) != "first half second half" {
		t.Errorf("object %q", got)
	}
}

func TestNew(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o600)
	tests := []struct {
		name string
		raw  map[string]any
		want string // "" when New succeeds
	}{
		{"creates the directory", map[string]any{"dir": filepath.Join(base, "a", "b")}, ""},
		{"missing without create_dir", map[string]any{"dir": filepath.Join(base, "c"), "create_dir": false}, "does not exist; create it or set create_dir = true"},
		{"a file", map[string]any{"dir": file}, "not a directory"},
		{"bad mode", map[string]any{"dir": base, "file_mode": "0999"}, "not octal permission bits"},
		{"mode beyond 0777", map[string]any{"dir": base, "file_mode": "4755"}, "not octal permission bits"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Definition("0").Config.Validate(tc.raw)
			if diags.HasErrors() {
				t.Fatal(diags.Err())
			}
			s, err := New(context.Background(), cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				s.Close(context.Background())
				if st, err := os.Stat(tc.raw["dir"].(string)); err != nil || st.Mode().Perm() != 0o700 {
					t.Errorf("directory: %v %v, want mode 0700", st.Mode(), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || fault.KindOf(err) != fault.Permanent {
				t.Errorf("got %v, want a permanent error containing %q", err, tc.want)
			}
		})
	}
}

func TestTestProbeAndClose(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, map[string]any{"dir": dir})
	if err := s.Test(context.Background()); err != nil {
		t.Fatal(err)
	}
	if files := entries(t, dir); len(files) != 0 {
		t.Errorf("the probe file stayed: %v", files)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if os.Geteuid() != 0 { // root writes anyway
		if err := s.Test(context.Background()); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("Test of a read-only directory: %v", err)
		}
	}
	for i := 0; i < 2; i++ {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
	if _, err := s.Upload(context.Background(), storage.Object{Key: "x"}, strings.NewReader("x")); err == nil {
		t.Error("upload after Close succeeded")
	}
}
