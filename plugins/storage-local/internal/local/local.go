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
	"path"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/storage"
)

// Definition returns the plugin's definition; version is the plugin's
// semantic version.
func Definition(version string) storage.Definition {
	return storage.Definition{
		Name:        "local",
		Version:     version,
		Description: "Writes access packages to a directory on the local disk.",
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "dir", Type: schema.String, Required: true, Path: true, Description: "Directory the packages are written to. A relative path resolves against the configuration directory."},
			{Name: "create_dir", Type: schema.Bool, Default: true, Description: "Create the directory (mode 0700) when it does not exist."},
			{Name: "file_mode", Type: schema.String, Default: "0600", Description: "Permission bits of written files, in octal, such as \"0600\"."},
		}},
		New: New,
	}
}

// Store writes under one directory. It is safe for concurrent use.
type Store struct {
	root *os.Root
	dir  string
	mode os.FileMode

	closeOnce sync.Once
	closeErr  error
}

// New opens the directory of cfg, creating it when create_dir is set.
func New(ctx context.Context, cfg schema.Config) (storage.Store, error) {
	if cfg.String("dir") == "" {
		return nil, fault.AsPermanent(errors.New("dir is empty; set it to the directory packages are written to"))
	}
	dir, err := confine(ctx, cfg.String("dir"))
	if err != nil {
		return nil, fault.AsPermanent(fmt.Errorf("dir: %w", err))
	}
	mode, err := strconv.ParseUint(cfg.String("file_mode"), 8, 32)
	if err != nil || mode > 0o777 {
		return nil, fault.AsPermanent(fmt.Errorf("file_mode %q is not octal permission bits such as \"0600\"", cfg.String("file_mode")))
	}
	if cfg.Bool("create_dir") {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fault.AsPermanent(fmt.Errorf("create dir %s: %w", dir, err))
		}
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fault.AsPermanent(fmt.Errorf("dir %s does not exist; create it or set create_dir = true", dir))
	case err != nil:
		return nil, fault.AsPermanent(fmt.Errorf("dir %s: %w", dir, err))
	case !st.IsDir():
		return nil, fault.AsPermanent(fmt.Errorf("dir %s is not a directory", dir))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fault.AsPermanent(fmt.Errorf("open dir %s: %w", dir, err))
	}
	return &Store{root: root, dir: dir, mode: os.FileMode(mode)}, nil
}

// Test checks that the directory is writable by creating and removing a
// probe file.
func (s *Store) Test(context.Context) error {
	name := ".lethe-probe-" + randomSuffix()
	f, err := s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("directory %s is not writable: %w", s.dir, err)
	}
	werr := f.Close()
	if err := s.root.Remove(name); err != nil {
		return fmt.Errorf("remove probe file from %s: %w", s.dir, err)
	}
	if werr != nil {
		return fmt.Errorf("write probe file in %s: %w", s.dir, werr)
	}
	return nil
}

// Upload writes r as obj.Key atomically.
func (s *Store) Upload(ctx context.Context, obj storage.Object, r io.Reader) (res storage.Result, err error) {
	if err := storage.ValidKey(obj.Key); err != nil {
		return res, fault.AsPermanent(err)
	}
	name := filepath.FromSlash(obj.Key)
	parent := filepath.Dir(name)
	if parent != "." {
		if err := s.root.MkdirAll(parent, 0o700); err != nil {
			return res, fault.AsPermanent(fmt.Errorf("create directory for %s: %w", obj.Key, err))
		}
	}
	// Hidden, beside the final name: the rename stays in one directory.
	tmp := filepath.Join(parent, "."+path.Base(obj.Key)+".tmp-"+randomSuffix())
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return res, fault.AsPermanent(fmt.Errorf("create %s: %w", obj.Key, err))
	}
	renamed := false
	defer func() {
		if !renamed {
			f.Close()
			_ = s.root.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return res, fmt.Errorf("write %s: %w", obj.Key, err)
	}
	// Chmod, not the create mode: the umask would change the latter.
	if err := f.Chmod(s.mode); err != nil {
		return res, fmt.Errorf("set the mode of %s: %w", obj.Key, err)
	}
	if err := f.Sync(); err != nil {
		return res, fmt.Errorf("sync %s: %w", obj.Key, err)
	}
	if err := f.Close(); err != nil {
		return res, fmt.Errorf("close %s: %w", obj.Key, err)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := s.root.Rename(tmp, name); err != nil {
		return res, fmt.Errorf("rename into %s: %w", obj.Key, err)
	}
	renamed = true
	// Make the rename durable.
	d, err := s.root.Open(parent)
	if err != nil {
		return res, fmt.Errorf("open the directory of %s: %w", obj.Key, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return res, fmt.Errorf("sync the directory of %s: %w", obj.Key, err)
	}
	loc := url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(s.dir, name))}
	return storage.Result{Location: loc.String(), Size: n}, nil
}

// Close releases the directory; a second Close does nothing.
func (s *Store) Close(context.Context) error {
	s.closeOnce.Do(func() { s.closeErr = s.root.Close() })
	return s.closeErr
}

// ctxReader stops reading once ctx ends.
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

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
