package host

import (
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/internal/rpc"
	"github.com/lethehq/lethe/sdk/storage"
	"github.com/lethehq/lethe/sdk/version"
)

// Handshake is the go-plugin handshake of every Lethe plugin.
var Handshake = rpc.Handshake

// Supported lists the protocol majors this SDK's host side speaks.
var Supported = []int{version.ProtocolMajor}

// PluginSets returns the plugin sets for go-plugin's VersionedPlugins.
// Dispense "connector" or "storage" by the binary's kind.
func PluginSets() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		version.ProtocolMajor: {
			"connector": &connector.Plugin{},
			"storage":   &storage.Plugin{},
		},
	}
}

// DialOptions are the gRPC options the host dials plugins with.
func DialOptions() []grpc.DialOption { return rpc.DialOptions() }
