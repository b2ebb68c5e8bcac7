package execute

import (
	"context"
	"io"

	"github.com/lethehq/lethe/core/pluginhost"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/storage"
)

// Connector is what the engine asks of a connector plugin. The plugin host's
// *pluginhost.Connector implements it; tests may wrap it to count calls.
type Connector interface {
	Configure(ctx context.Context, id string, cfg map[string]any) (schema.Diagnostics, error)
	Access(ctx context.Context, id string, req connector.AccessRequest, fn func([]connector.Row) error) (int64, error)
	Erase(ctx context.Context, id string, req connector.EraseRequest) (connector.EraseResult, error)
}

// Storage is what the engine asks of a storage plugin.
type Storage interface {
	Configure(ctx context.Context, id string, cfg map[string]any) (schema.Diagnostics, error)
	Upload(ctx context.Context, id string, obj storage.Object, r io.Reader) (storage.Result, error)
}

// Plugins finds the plugin serving a connection or a storage destination,
// by the plugin's short name ("postgres", "local").
type Plugins interface {
	Connector(name string) (Connector, error)
	Storage(name string) (Storage, error)
}

// HostPlugins adapts a plugin host to Plugins.
func HostPlugins(h *pluginhost.Host) Plugins { return hostPlugins{h} }

type hostPlugins struct{ h *pluginhost.Host }

func (p hostPlugins) Connector(name string) (Connector, error) {
	c, err := p.h.Connector(name)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (p hostPlugins) Storage(name string) (Storage, error) {
	s, err := p.h.Storage(name)
	if err != nil {
		return nil, err
	}
	return s, nil
}
