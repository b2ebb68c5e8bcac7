package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lethehq/lethe/sdk/egress"
	"github.com/lethehq/lethe/sdk/schema"
)

// TestSchemaMarksPath: path is a file path (confined for configurations
// created through the host's API); no attribute is a destination, so any
// change drops a stored secret.
func TestSchemaMarksPath(t *testing.T) {
	s := Definition("test").Config
	if got := s.Paths(); !slices.Equal(got, []string{"path"}) {
		t.Errorf("paths %v, want [path]", got)
	}
	if got := s.Destinations(); !slices.Equal(got, []string{"path", "busy_timeout", "read_only"}) {
		t.Errorf("destinations %v", got)
	}
}

// TestPathConfinedToFileRoots is the regression test of issue 13 item 7:
// a connection created through the API opened /etc/passwd.
func TestPathConfinedToFileRoots(t *testing.T) {
	root := t.TempDir()
	good := filepath.Join(root, "ok.db")
	db, err := sql.Open("sqlite", "file:"+good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	outside := filepath.Join(t.TempDir(), "other.db")
	if err := os.WriteFile(outside, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "link.db")); err != nil {
		t.Fatal(err)
	}
	api := egress.NewContext(context.Background(), &egress.Policy{Restricted: true, FileRoots: []string{root}})
	for _, c := range []struct {
		ctx  context.Context
		path string
		ok   bool
	}{
		{api, "/etc/passwd", false},
		{api, filepath.Join(root, "link.db"), false},
		{api, filepath.Join(root, "..", filepath.Base(filepath.Dir(outside)), "other.db"), false},
		{api, good, true},
		{egress.NewContext(context.Background(), &egress.Policy{Restricted: true}), good, false},
		{context.Background(), good, true}, // a configuration the operator declared
	} {
		inst, err := New(c.ctx, schema.Config{"path": c.path})
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.path, err, c.ok)
		}
		if err != nil && !c.ok && !strings.Contains(err.Error(), egress.ErrRefused.Error()) {
			t.Errorf("%s: %v does not say the egress policy refused it", c.path, err)
		}
		if inst != nil {
			_ = inst.Close(context.Background())
		}
	}
}
