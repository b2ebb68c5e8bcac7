package pluginhost

import (
	"context"
	"fmt"
	"io"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/storage"
)

// Connector calls one connector plugin. Its methods are those of
// *connector.Client, with instance management on top: Configure remembers
// each instance's configuration, so that after a plugin restart every call
// finds its instance configured again. Calls that failed because the
// plugin crashed are retried once when that is safe: always for Describe,
// Configure, Test, DryRun and Erase (erase batches are idempotent), and for
// Access as long as no row was delivered.
//
// Errors are classified with package fault; a plugin marked failed gives
// an error matching ErrPluginFailed.
type Connector struct{ p *plugin }

// Name is the plugin's short name, e.g. "postgres".
func (c *Connector) Name() string { return c.p.bin.Name }

// Describe returns what the plugin says about itself.
func (c *Connector) Describe(ctx context.Context) (schema.Info, error) {
	return describeCached(ctx, c.p)
}

// Configure creates or replaces instance id with cfg. Problems with cfg come
// back as diagnostics; only a configuration without error diagnostics is
// remembered.
func (c *Connector) Configure(ctx context.Context, id string, cfg map[string]any) (schema.Diagnostics, error) {
	return c.p.Configure(ctx, id, cfg)
}

// Test checks instance id's connectivity.
func (c *Connector) Test(ctx context.Context, id string) error {
	return c.p.call(ctx, id, nil, func(pr *process) error {
		return pr.rpc.(*connector.Client).Test(ctx, id)
	})
}

// Access streams the rows matching req to fn, as connector.Client.Access.
// A call cut short by a crash is retried only if fn had not been called.
func (c *Connector) Access(ctx context.Context, id string, req connector.AccessRequest, fn func([]connector.Row) error) (int64, error) {
	defer c.p.calls.begin(accessValues(req))()
	var n int64
	delivered := false
	err := c.p.call(ctx, id, func() bool { return !delivered }, func(pr *process) error {
		var err error
		n, err = pr.rpc.(*connector.Client).Access(ctx, id, req, func(rows []connector.Row) error {
			delivered = true
			return fn(rows)
		})
		return err
	})
	return n, err
}

// Erase applies one batch of updates and returns what the plugin did.
func (c *Connector) Erase(ctx context.Context, id string, req connector.EraseRequest) (connector.EraseResult, error) {
	defer c.p.calls.begin(eraseValues(req))()
	var res connector.EraseResult
	err := c.p.call(ctx, id, nil, func(pr *process) error {
		var err error
		res, err = pr.rpc.(*connector.Client).Erase(ctx, id, req)
		return err
	})
	return res, err
}

// DryRun returns the query the plugin would run for req, or an error
// wrapping fault.ErrUnimplemented.
func (c *Connector) DryRun(ctx context.Context, id string, req connector.AccessRequest) (string, error) {
	defer c.p.calls.begin(accessValues(req))()
	var q string
	err := c.p.call(ctx, id, nil, func(pr *process) error {
		var err error
		q, err = pr.rpc.(*connector.Client).DryRun(ctx, id, req)
		return err
	})
	return q, err
}

// CloseInstance forgets instance id and releases it in the plugin.
func (c *Connector) CloseInstance(ctx context.Context, id string) error {
	return c.p.CloseInstance(ctx, id)
}

// Storage calls one storage plugin, with the instance management of
// Connector. An upload cut short by a crash is retried only when its reader
// is an io.Seeker (the package is sent again from the start); storage
// plugins never leave a partial object behind.
type Storage struct{ p *plugin }

// Name is the plugin's short name, e.g. "s3".
func (s *Storage) Name() string { return s.p.bin.Name }

// Describe returns what the plugin says about itself.
func (s *Storage) Describe(ctx context.Context) (schema.Info, error) {
	return describeCached(ctx, s.p)
}

// Configure creates or replaces instance id with cfg, as Connector.Configure.
func (s *Storage) Configure(ctx context.Context, id string, cfg map[string]any) (schema.Diagnostics, error) {
	return s.p.Configure(ctx, id, cfg)
}

// Test checks that instance id's destination is reachable and writable.
func (s *Storage) Test(ctx context.Context, id string) error {
	return s.p.call(ctx, id, nil, func(pr *process) error {
		return pr.rpc.(*storage.Client).Test(ctx, id)
	})
}

// Upload streams r to instance id as obj.Key.
func (s *Storage) Upload(ctx context.Context, id string, obj storage.Object, r io.Reader) (storage.Result, error) {
	var (
		res   storage.Result
		sent  bool
		start int64 = -1
	)
	seeker, canSeek := r.(io.Seeker)
	if canSeek {
		if pos, err := seeker.Seek(0, io.SeekCurrent); err == nil {
			start = pos
		}
	}
	err := s.p.call(ctx, id, func() bool { return !sent || start >= 0 }, func(pr *process) error {
		if sent {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return fmt.Errorf("upload %s: rewind the package to send it again: %w", obj.Key, err)
			}
		}
		sent = true
		var err error
		res, err = pr.rpc.(*storage.Client).Upload(ctx, id, obj, r)
		return err
	})
	return res, err
}

// CloseInstance forgets instance id and releases it in the plugin.
func (s *Storage) CloseInstance(ctx context.Context, id string) error {
	return s.p.CloseInstance(ctx, id)
}

// describeCached answers from the fingerprint or the running process, and
// asks the plugin otherwise.
func describeCached(ctx context.Context, p *plugin) (schema.Info, error) {
	p.mu.Lock()
	info := p.info
	p.mu.Unlock()
	if info != nil {
		return *info, nil
	}
	var out schema.Info
	err := p.call(ctx, "", nil, func(pr *process) error {
		out = pr.info
		return nil
	})
	return out, err
}

func configureRPC(ctx context.Context, pr *process, id string, cfg map[string]any) (schema.Diagnostics, error) {
	switch c := pr.rpc.(type) {
	case *connector.Client:
		return c.Configure(ctx, id, cfg)
	case *storage.Client:
		return c.Configure(ctx, id, cfg)
	}
	return nil, fmt.Errorf("configure %s: unexpected client %T", id, pr.rpc)
}

func closeInstanceRPC(ctx context.Context, pr *process, id string) error {
	switch c := pr.rpc.(type) {
	case *connector.Client:
		return c.CloseInstance(ctx, id)
	case *storage.Client:
		return c.CloseInstance(ctx, id)
	}
	return fmt.Errorf("close %s: unexpected client %T", id, pr.rpc)
}
