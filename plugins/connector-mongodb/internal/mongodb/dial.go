package mongodb

import (
	"context"
	"net"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethehq/lethe/sdk/egress"
)

// policyDialer dials through an egress policy.
type policyDialer struct {
	dial func(ctx context.Context, network, address string) (net.Conn, error)
}

func (d policyDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return d.dial(ctx, network, address)
}

// applyEgress makes the driver dial through the egress policy the host
// sent: every server it connects to (the seed list, the hosts an SRV
// record or the replica set names) is checked at the address actually
// dialled, after name resolution.
func applyEgress(ctx context.Context, opts *options.ClientOptions, timeout time.Duration) {
	pol := egress.FromContext(ctx)
	opts.SetDialer(policyDialer{dial: pol.DialContext(&net.Dialer{Timeout: timeout, KeepAlive: 5 * time.Minute})})
}
