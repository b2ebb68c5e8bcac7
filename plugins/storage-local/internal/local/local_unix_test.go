//go:build unix

package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/lethehq/lethe/sdk/storage"
)

func TestFileModeIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for _, mode := range []string{"0600", "0644"} {
		dir := t.TempDir()
		s := newStore(t, map[string]any{"dir": dir, "file_mode": mode})
		if _, err := s.Upload(context.Background(), storage.Object{Key: "a/b.json"}, strings.NewReader("{}")); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, "a", "b.json"))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm().String(); got != map[string]string{"0600": "-rw-------", "0644": "-rw-r--r--"}[mode] {
			t.Errorf("file_mode %s: file has %s", mode, got)
		}
	}
}
