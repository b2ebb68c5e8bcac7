package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lethehq/lethe/core/config"
)

// devKeyFile is where a configuration without server.encryption_key keeps
// the key it generated, inside its state directory.
const devKeyFile = "encryption.key"

// stateKey returns the key that encrypts the state directory's personal
// data: server.encryption_key when set, otherwise a key generated on first
// use and kept in the state directory (development mode: anyone who can
// read the directory can read the key; the warning says so).
func stateKey(cfg *config.Config, warn func(string)) ([]byte, error) {
	if cfg.Server.EncryptionKey != "" {
		return []byte(cfg.Server.EncryptionKey), nil
	}
	dir := cfg.Server.StateDir
	if dir == "" {
		return nil, errors.New("set server.state_dir: requests and their checkpoints are kept there")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the state directory: %w", err)
	}
	path := filepath.Join(dir, devKeyFile)
	data, err := os.ReadFile(path)
	if err == nil {
		key, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if derr != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s does not hold a base64 32-byte key; restore it, or set server.encryption_key", path)
		}
		warn(fmt.Sprintf("server.encryption_key is not set: using the development key in %s. Set encryption_key = env(\"LETHE_ENCRYPTION_KEY\") in production.", path))
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	warn(fmt.Sprintf("server.encryption_key is not set: generated a development key in %s. Set encryption_key = env(\"LETHE_ENCRYPTION_KEY\") in production.", path))
	return key, nil
}
