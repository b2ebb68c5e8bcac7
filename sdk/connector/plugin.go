package connector

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	connectorv1 "github.com/lethehq/lethe/proto/connector/v1"
	"github.com/lethehq/lethe/sdk/internal/rpc"
)

// Plugin is the go-plugin glue. The host uses the zero value (only
// GRPCClient is called); a plugin process serves Definition.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Definition Definition
	Logger     hclog.Logger

	srv *server
}

// GRPCServer registers the connector service.
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	connectorv1.RegisterConnectorServer(s, p.server())
	return nil
}

func (p *Plugin) server() *server {
	if p.srv == nil {
		logger := p.Logger
		if logger == nil {
			logger = hclog.NewNullLogger()
		}
		p.srv = newServer(p.Definition, logger)
	}
	return p.srv
}

// GRPCClient returns a *Client.
func (p *Plugin) GRPCClient(doneCtx context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewClient(conn, doneCtx.Done()), nil
}

// Serve runs the connector plugin process. Call it from main; it never returns.
func Serve(def Definition) {
	rpc.Serve(rpc.ServeConfig{
		Info: def.Info(),
		Plugin: func(logger hclog.Logger) (plugin.Plugin, func(context.Context)) {
			p := &Plugin{Definition: def, Logger: logger}
			return p, p.server().closeAll
		},
	})
}
