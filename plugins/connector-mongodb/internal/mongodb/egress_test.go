package mongodb

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/sdktest"
)

// TestSchemaMarksDestinations: the attributes that decide where the
// credentials go are marked (issue 13 item 4).
func TestSchemaMarksDestinations(t *testing.T) {
	got := Definition("test").Config.Destinations()
	want := []string{"uri", "host", "port", "tls"}
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
		inst, err := New(ctx, schema.Config{"host": host, "port": int64(port), "connect_timeout": 2 * time.Second, "transactions": "never"})
		if err == nil {
			_ = inst.Close(ctx)
		}
		return err
	})
}
