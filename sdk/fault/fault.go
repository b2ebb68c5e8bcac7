package fault

import (
	"context"
	"errors"
)

// Kind of a fault.
type Kind int

const (
	// Unknown: not classified.
	Unknown Kind = iota
	// Permanent: configuration or request problem; never retried.
	Permanent
	// Transient: may succeed when retried.
	Transient
)

type classified struct {
	kind Kind
	err  error
}

func (c *classified) Error() string { return c.err.Error() }
func (c *classified) Unwrap() error { return c.err }

// AsPermanent marks err as permanent. It returns nil for a nil err.
func AsPermanent(err error) error {
	if err == nil {
		return nil
	}
	return &classified{kind: Permanent, err: err}
}

// AsTransient marks err as transient. It returns nil for a nil err.
func AsTransient(err error) error {
	if err == nil {
		return nil
	}
	return &classified{kind: Transient, err: err}
}

// KindOf returns the classification of err, looking through wrapping.
func KindOf(err error) Kind {
	var c *classified
	if errors.As(err, &c) {
		return c.kind
	}
	return Unknown
}

// Errors the host-side adapters return. Compare with errors.Is.
var (
	// ErrPluginShutdown: the plugin process exited or its connection broke.
	// Transient: the host restarts the plugin and retries.
	ErrPluginShutdown = errors.New("plugin process is not running")
	// ErrInstanceNotFound: the plugin does not know the instance, typically
	// because it restarted. The host configures the instance again.
	ErrInstanceNotFound = errors.New("plugin instance not configured")
	// ErrUnimplemented: the plugin lacks an optional ability.
	ErrUnimplemented = errors.New("not implemented by the plugin")
)

// Retryable reports whether an operation that failed with err may succeed
// when tried again: transient and unclassified faults are retryable;
// permanent faults, unimplemented abilities and cancellations are not.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrUnimplemented) {
		return false
	}
	if errors.Is(err, ErrPluginShutdown) || errors.Is(err, ErrInstanceNotFound) {
		return true
	}
	return KindOf(err) != Permanent
}
