package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lethehq/lethe/sdk/egress"
	"github.com/lethehq/lethe/sdk/schema"
)

// TestSchemaMarksPath: dir is a file path, confined for configurations
// created through the host's API.
func TestSchemaMarksPath(t *testing.T) {
	if got := Definition("test").Config.Paths(); !slices.Equal(got, []string{"dir"}) {
		t.Errorf("paths %v, want [dir]", got)
	}
}

// TestDirConfinedToFileRoots is the regression test of issue 13 item 7: a
// storage created through the API created directories anywhere.
func TestDirConfinedToFileRoots(t *testing.T) {
	root := t.TempDir()
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	api := egress.NewContext(context.Background(), &egress.Policy{Restricted: true, FileRoots: []string{root}})
	for _, c := range []struct {
		dir string
		ok  bool
	}{
		{filepath.Join(elsewhere, "made"), false},
		{filepath.Join(root, "link", "made"), false},
		{filepath.Join(root, "..", filepath.Base(elsewhere), "made"), false},
		{filepath.Join(root, "packages"), true},
	} {
		st, err := New(api, schema.Config{"dir": c.dir, "create_dir": true, "file_mode": "0600"})
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.dir, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), egress.ErrRefused.Error()) {
			t.Errorf("%s: %v does not say the egress policy refused it", c.dir, err)
		}
		if st != nil {
			_ = st.Close(context.Background())
		}
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "made")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused storage created its directory: %v", err)
	}
}
