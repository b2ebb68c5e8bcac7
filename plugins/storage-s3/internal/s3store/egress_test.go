package s3store

import (
	"context"
	"slices"
	"testing"

	"github.com/lethehq/lethe/sdk/sdktest"
)

// TestSchemaMarksDestinations: the attributes that decide where the
// signed requests go are marked (issue 13 item 4).
func TestSchemaMarksDestinations(t *testing.T) {
	got := Definition("test").Config.Destinations()
	want := []string{"bucket", "region", "endpoint", "path_style"}
	if !slices.Equal(got, want) {
		t.Errorf("destinations %v, want %v", got, want)
	}
}

// TestDialFollowsEgressPolicy: requests are dialled through the egress
// policy, checked at the address dialled (issue 13 item 7).
func TestDialFollowsEgressPolicy(t *testing.T) {
	sdktest.RunEgressConformance(t, func(ctx context.Context, host string, port int) error {
		cfg, diags := Definition("test").Config.Validate(map[string]any{"bucket": "bkt", "endpoint": "http://" + sdktest.HostPort(host, port), "path_style": true,
			"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
		if err := diags.Err(); err != nil {
			t.Fatal(err)
		}
		st, err := New(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close(ctx)
		return st.Test(ctx)
	})
}
