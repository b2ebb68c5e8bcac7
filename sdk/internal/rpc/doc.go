// Package rpc holds what the connector and storage adapters share on both
// sides of the wire: the handshake, error and status mapping, panic
// recovery, and message limits.
package rpc
