package rpc

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/redact"
	"github.com/lethehq/lethe/sdk/version"
)

// Batch bounds for streamed rows and upload chunks.
const (
	MaxBatchRows  = 500
	MaxBatchBytes = 1 << 20
	ChunkSize     = 1 << 20
	// MaxMessageSize is the safety net above the batch bounds.
	MaxMessageSize = 64 << 20
)

// Handshake is the go-plugin handshake of every Lethe plugin.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  version.ProtocolMajor,
	MagicCookieKey:   version.MagicCookieKey,
	MagicCookieValue: version.MagicCookieValue,
}

// ServerOptions are the gRPC server options of a plugin.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
	}
}

// DialOptions are the gRPC dial options of the host.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
	}
}

// ToStatus turns an author's error into a gRPC status error for the wire.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok && !isClassified(err) {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	switch fault.KindOf(err) {
	case fault.Permanent:
		return status.Error(codes.FailedPrecondition, err.Error())
	case fault.Transient:
		// Aborted, not Unavailable: Unavailable is what gRPC itself reports
		// when the connection to the plugin breaks, and the host must be
		// able to tell the two apart.
		return status.Error(codes.Aborted, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

func isClassified(err error) bool { return fault.KindOf(err) != fault.Unknown }

// FromStatus turns a gRPC error seen by the host into an error classified
// with package fault. done is closed when the plugin process has exited.
func FromStatus(ctx context.Context, done <-chan struct{}, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	select {
	case <-done:
		return fmt.Errorf("%s: %w", op, fault.ErrPluginShutdown)
	default:
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", op, fault.AsTransient(err))
	}
	msg := st.Message()
	switch st.Code() {
	case codes.Unavailable:
		// The SDK never answers Unavailable itself (transient plugin
		// errors travel as Aborted), so this is the transport failing.
		return fmt.Errorf("%s: %w (%s)", op, fault.ErrPluginShutdown, msg)
	case codes.NotFound:
		return fmt.Errorf("%s: %w: %s", op, fault.ErrInstanceNotFound, msg)
	case codes.Unimplemented:
		return fmt.Errorf("%s: %w", op, fault.ErrUnimplemented)
	case codes.InvalidArgument, codes.FailedPrecondition, codes.PermissionDenied, codes.Unauthenticated, codes.OutOfRange, codes.ResourceExhausted:
		return fmt.Errorf("%s: %w", op, fault.AsPermanent(errors.New(msg)))
	case codes.DeadlineExceeded, codes.Aborted:
		return fmt.Errorf("%s: %w", op, fault.AsTransient(errors.New(msg)))
	case codes.Canceled:
		return fmt.Errorf("%s: %w", op, fault.AsTransient(fmt.Errorf("cancelled by the plugin: %s", msg)))
	}
	return fmt.Errorf("%s: %w", op, errors.New(msg))
}

// Recover turns a panic inside an RPC into a codes.Internal error and logs
// the stack. Use as: defer rpc.Recover(logger, "Access", &err). The values
// of the call, when given, are redacted from the panic's text and stack.
func Recover(logger hclog.Logger, op string, err *error, vals ...func() *redact.Set) {
	if r := recover(); r != nil {
		msg, stack := fmt.Sprint(r), string(debug.Stack())
		for _, v := range vals {
			set := v()
			msg, stack = set.Text(msg), set.Text(stack)
		}
		logger.Error("plugin panicked", "rpc", op, "panic", msg, "stack", stack)
		*err = status.Errorf(codes.Internal, "plugin panicked in %s: %s", op, msg)
	}
}
