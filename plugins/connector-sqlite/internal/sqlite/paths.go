package sqlite

import (
	"context"
	"path/filepath"

	"github.com/lethehq/lethe/sdk/egress"
)

// confine returns the absolute path of the database file. For a
// configuration created through the host's API the egress policy must
// allow it: it lies under a file root once symbolic links and ".." are
// resolved, and the resolved path is the one opened.
func confine(ctx context.Context, path string) (string, error) {
	pol := egress.FromContext(ctx)
	if !pol.Restricted {
		return filepath.Abs(path)
	}
	return pol.CheckPath(path)
}
