// Package host is what Lethe core needs to launch plugins with go-plugin:
// the handshake, the plugin sets keyed by protocol major, and the gRPC dial
// options. The dispensed values are *connector.Client and *storage.Client.
package host
