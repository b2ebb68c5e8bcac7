// Command oldproto is a connector fixture that speaks protocol major 0: it
// serves the connector service through go-plugin directly, with Lethe's
// cookie but only version 0 in its VersionedPlugins.
package main

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/host"
	"github.com/lethehq/lethe/sdk/schema"
)

func main() {
	def := connector.Definition{
		Name:    "oldproto",
		Version: "0.0.1",
		New: func(context.Context, schema.Config) (connector.Instance, error) {
			return nil, errors.New("the oldproto fixture serves no instances")
		},
	}
	hs := host.Handshake
	hs.ProtocolVersion = 0
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  hs,
		VersionedPlugins: map[int]plugin.PluginSet{0: {"connector": &connector.Plugin{Definition: def}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
