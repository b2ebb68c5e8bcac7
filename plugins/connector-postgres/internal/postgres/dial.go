package postgres

import (
	"context"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lethehq/lethe/sdk/egress"
)

// applyEgress makes every connection of the pool dial through the egress
// policy the host sent: the address actually dialled, after name
// resolution, is checked. Names reach the dialer unresolved, so that the
// policy's allowed host names match them; unix sockets are refused for
// configurations created through the API.
func applyEgress(ctx context.Context, pc *pgxpool.Config) {
	pol := egress.FromContext(ctx)
	d := &net.Dialer{KeepAlive: 5 * time.Minute, Timeout: pc.ConnConfig.ConnectTimeout}
	pc.ConnConfig.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	pc.ConnConfig.DialFunc = pol.DialContext(d)
}
