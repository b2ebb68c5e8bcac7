package postgres

import (
	"context"
	"slices"
	"testing"

	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/sdktest"
)

// TestSchemaMarksDestinations: the attributes that decide where the
// password goes are marked, so that changing one through the host's API
// drops the stored secret (issue 13 item 4).
func TestSchemaMarksDestinations(t *testing.T) {
	got := Definition("test").Config.Destinations()
	want := []string{"dsn", "host", "port", "sslmode"}
	if !slices.Equal(got, want) {
		t.Errorf("destinations %v, want %v", got, want)
	}
	if p := Definition("test").Config.Paths(); len(p) != 0 {
		t.Errorf("paths %v, want none", p)
	}
}

// TestDialFollowsEgressPolicy: connections are dialled through the egress
// policy, checked at the address dialled (issue 13 item 7).
func TestDialFollowsEgressPolicy(t *testing.T) {
	sdktest.RunEgressConformance(t, func(ctx context.Context, host string, port int) error {
		inst, err := New(ctx, schema.Config{"host": host, "port": int64(port), "user": "u", "password": "p", "dbname": "d", "sslmode": "disable"})
		if err == nil {
			_ = inst.Close(ctx)
		}
		return err
	})
}
