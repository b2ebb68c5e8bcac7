// Package local stores access packages in a directory on the local disk.
// Objects are written atomically (a temporary file in the same directory,
// fsynced, then renamed) and never outside the directory.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/storage"
)

// Definition returns the plugin's definition.
func Definition(version string) storage.Definition {
	return storage.Definition{
		Name:        "local",
		Version:     version,
		Description: "Writes access packages to a directory on the local disk.",
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "dir", Type: schema.String, Required: true, Description: "Directory the packages are written to; relative paths resolve against the configuration directory."},
			{Name: "create_dir", Type: schema.Bool, Default: true, Description: "Create the directory (mode 0700) when it does not exist."},
			{Name: "file_mode", Type: schema.String, Default: "0600", Description: "Octal permission bits of written files."},
		}},
		New: New,
	}
}

// Store writes under one directory.
type Store struct {
	root *os.Root
	dir  string
	mode os.FileMode
}

// New opens the directory of cfg.
func New(_ context.Context, cfg schema.Config) (storage.Store, error) {
	dir, err := filepath.Abs(cfg.String("dir"))
	if err != nil {
		return nil, fmt.Errorf("dir %q: %w", cfg.String("dir"), err)
	}
	mode, err := strconv.ParseUint(cfg.String("file_mode"), 8, 32)
	if err != nil || mode > 0o777 {
		return nil, fmt.Errorf("file_mode %q is not octal permission bits such as \"0600\"", cfg.String("file_mode"))
	}
	if cfg.Bool("create_dir") {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create dir: %w", err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open dir %s: %w (set create_dir = true to create it)", dir, err)
	}
	return &Store{root: root, dir: dir, mode: os.FileMode(mode)}, nil
}

// Test creates and removes a probe file.
func (s *Store) Test(context.Context) error {
	f, err := s.root.Create(".lethe-probe")
	if err != nil {
		return fmt.Errorf("directory %s is not writable: %w", s.dir, err)
	}
	f.Close()
	return s.root.Remove(".lethe-probe")
}

// Upload writes r to key atomically. os.Root refuses any path, symlink
// included, that would leave the directory.
func (s *Store) Upload(ctx context.Context, obj storage.Object, r io.Reader) (res storage.Result, err error) {
	if err := storage.ValidKey(obj.Key); err != nil {
		return res, fault.AsPermanent(err)
	}
	if parent := filepath.Dir(filepath.FromSlash(obj.Key)); parent != "." {
		if err := s.root.MkdirAll(parent, 0o700); err != nil {
			return res, fault.AsPermanent(fmt.Errorf("create %s: %w", parent, err))
		}
	}
	tmp := filepath.FromSlash(obj.Key) + ".tmp-" + randSuffix()
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, s.mode)
	if err != nil {
		return res, fault.AsPermanent(fmt.Errorf("create %s: %w", obj.Key, err))
	}
	defer func() {
		if err != nil {
			f.Close()
			_ = s.root.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return res, fmt.Errorf("write %s: %w", obj.Key, err)
	}
	if err = f.Sync(); err != nil {
		return res, fmt.Errorf("sync %s: %w", obj.Key, err)
	}
	if err = f.Close(); err != nil {
		return res, fmt.Errorf("close %s: %w", obj.Key, err)
	}
	if err = s.root.Rename(tmp, filepath.FromSlash(obj.Key)); err != nil {
		return res, fmt.Errorf("rename %s: %w", obj.Key, err)
	}
	if d, derr := s.root.Open(filepath.Dir(filepath.FromSlash(obj.Key))); derr == nil {
		_ = d.Sync() // make the rename durable
		d.Close()
	}
	loc := url.URL{Scheme: "file", Path: filepath.Join(s.dir, filepath.FromSlash(obj.Key))}
	return storage.Result{Location: loc.String(), Size: n}, nil
}

// Close releases the directory.
func (s *Store) Close(context.Context) error {
	if s.root == nil {
		return nil
	}
	err := s.root.Close()
	s.root = nil
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func randSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
