package storage

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/lethehq/lethe/sdk/schema"
)

// Definition describes a storage plugin.
type Definition struct {
	// Name is the short name: "s3" for lethe-storage-s3.
	Name        string
	Version     string
	Description string
	// Config is the schema of a storage's `config = {...}`.
	Config schema.Schema
	// New creates a store for one configured destination.
	New func(ctx context.Context, cfg schema.Config) (Store, error)
}

// Store writes objects to one destination. It must be safe for concurrent use.
type Store interface {
	// Test checks that the destination is reachable and writable.
	Test(ctx context.Context) error
	// Upload writes the bytes of r as obj.Key. The object must not be visible
	// under its key until it is complete: a failed or cancelled upload leaves
	// nothing behind. Key has been checked with ValidKey.
	Upload(ctx context.Context, obj Object, r io.Reader) (Result, error)
	// Close releases the store's resources. It may be called twice.
	Close(ctx context.Context) error
}

// Object describes an upload.
type Object struct {
	RequestID   string
	Key         string
	ContentType string
	Metadata    map[string]string
	// SizeHint is the expected size, or -1 when unknown.
	SizeHint int64
}

// Result says where an object landed. The SDK fills Size and SHA256 from the
// bytes it streamed when the store leaves them empty.
type Result struct {
	// Location is where the object can be fetched: a path or a URL.
	Location string
	Size     int64
	SHA256   string
}

// ValidKey checks that key is a relative slash-separated name that stays
// inside its destination: no "..", no leading "/", no empty or "." segments,
// no backslashes or control characters, at most 1024 bytes.
func ValidKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("object key is empty")
	case len(key) > 1024:
		return fmt.Errorf("object key is longer than 1024 bytes")
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("object key %q is absolute; use a relative key", key)
	case strings.ContainsRune(key, '\\'):
		return fmt.Errorf("object key %q contains a backslash", key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("object key %q contains a control character", key)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("object key %q has an empty, '.' or '..' segment; keys must stay inside the destination", key)
		}
	}
	if path.Clean(key) != key {
		return fmt.Errorf("object key %q is not clean", key)
	}
	return nil
}
