package mysql

import (
	"context"
	"net"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/lethehq/lethe/sdk/egress"
)

// applyEgress makes the driver dial through the egress policy the host
// sent: the address actually dialled, after name resolution, is checked,
// and unix sockets are refused for configurations created through the
// API. The dial function is the config's own, not the driver's global
// registry, so instances with different policies do not share it.
func applyEgress(ctx context.Context, mc *mysql.Config) {
	pol := egress.FromContext(ctx)
	mc.DialFunc = pol.DialContext(&net.Dialer{Timeout: mc.Timeout, KeepAlive: 30 * time.Second})
}
