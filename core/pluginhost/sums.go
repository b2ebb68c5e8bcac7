package pluginhost

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// fileID is what identifies one version of a file without reading it: its
// device and inode, size, modification and change times. The change time
// cannot be set by a user, so a binary replaced in place with a forged
// modification time still gets a new fileID.
type fileID struct {
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtime_ns"`
	Ctime int64  `json:"ctime_ns"`
}

// statID returns the fileID of path (following symlinks).
func statID(path string) (fileID, error) {
	st, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	id := fileID{Size: st.Size(), Mtime: st.ModTime().UnixNano()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		id.Dev, id.Ino = uint64(sys.Dev), sys.Ino //nolint:unconvert // Dev is uint64 on some platforms only
		id.Ctime = sys.Ctim.Sec*1e9 + sys.Ctim.Nsec
	}
	return id, nil
}

// sums hands out the sha256 of plugin binaries, hashing each version of a
// file at most once: digests are kept by path and fileID, in memory and,
// when path is set, in a file of the state directory that later processes
// read, so that an unchanged binary is not read again at every start.
//
// The cache only spares work where a digest is shown or compared before
// start; a pinned digest is still checked against the file's bytes right
// before every exec.
type sums struct {
	path string // the cache file; "" keeps digests in memory only

	mu      sync.Mutex
	entries map[string]sumEntry
	dirty   bool
	hashed  int // files read and hashed, for tests
}

type sumEntry struct {
	ID     fileID `json:"id"`
	SHA256 string `json:"sha256"`
}

// sumsFile is the cache file's name in the state directory.
const sumsFile = "plugin-sums.json"

// loadSums reads the cache file at path; a missing or unreadable file
// starts an empty cache (it is only an optimisation).
func loadSums(path string) *sums {
	s := &sums{path: path, entries: map[string]sumEntry{}}
	if path == "" {
		return s
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return s
	}
	var entries map[string]sumEntry
	if json.Unmarshal(b, &entries) == nil {
		for k, e := range entries {
			if len(e.SHA256) == 2*sha256.Size {
				s.entries[k] = e
			}
		}
	}
	return s
}

// cached returns the digest recorded for path at version id, if any.
func (s *sums) cached(path string, id fileID) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[path]
	if !ok || e.ID != id {
		return "", false
	}
	return e.SHA256, true
}

// sum returns the sha256 of path, which must still be at version id: from
// the cache, or by reading the file. A file that changed since id was taken
// is an error.
func (s *sums) sum(path string, id fileID) (string, error) {
	if sum, ok := s.cached(path, id); ok {
		return sum, nil
	}
	sum, err := hashFile(path)
	if err != nil {
		return "", err
	}
	after, err := statID(path)
	if err != nil {
		return "", err
	}
	if after != id {
		return "", fmt.Errorf("%s changed while it was being read", path)
	}
	s.mu.Lock()
	s.entries[path] = sumEntry{ID: id, SHA256: sum}
	s.dirty = true
	s.hashed++
	s.mu.Unlock()
	return sum, nil
}

// save writes the cache file when digests were added: to a temporary file
// renamed over the old one, so that a crash leaves the old or the new file.
func (s *sums) save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" || !s.dirty {
		return nil
	}
	b, err := json.Marshal(s.entries)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), sumsFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return err
	}
	s.dirty = false
	return nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
