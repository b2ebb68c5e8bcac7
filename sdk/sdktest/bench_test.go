package sdktest_test

import (
	"context"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/host"
	"github.com/lethehq/lethe/sdk/sdktest"
)

func benchClient(b *testing.B) *connector.Client {
	c := sdktest.LaunchConnector(b, sdktest.BuildPlugin(b, "testdata/benchconnector"))
	if diags, err := c.Configure(context.Background(), "b", map[string]any{"size": int64(1000)}); err != nil || diags.HasErrors() {
		b.Fatalf("configure: %v %v", err, diags.Err())
	}
	return c
}

// BenchmarkRoundTrip: one small unary call (Test) through a real plugin
// process over go-plugin's AutoMTLS gRPC. Reports p50 and p99.
func BenchmarkRoundTrip(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := c.Test(ctx, "b"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkAccessStream: rows of 1 KiB (id + 1,000-byte payload) streamed
// from a real plugin process; MB/s is row payload bytes.
func BenchmarkAccessStream(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	const rows = 20000
	b.SetBytes(rows * 1024)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, err := c.Access(ctx, "b", connector.AccessRequest{
			Collection: connector.Collection{Name: "t"}, Fields: []connector.Path{{"id"}, {"payload"}},
			Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(rows)}}},
		}, func([]connector.Row) error { return nil })
		if err != nil || n != rows {
			b.Fatalf("access: %d rows, %v", n, err)
		}
	}
}

// BenchmarkColdStart: exec of the plugin binary to its first answered call.
func BenchmarkColdStart(b *testing.B) {
	bin := sdktest.BuildPlugin(b, "testdata/benchconnector")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		client := plugin.NewClient(&plugin.ClientConfig{
			HandshakeConfig: host.Handshake, VersionedPlugins: host.PluginSets(),
			Cmd: exec.Command(bin), AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
			AutoMTLS: true, GRPCDialOptions: host.DialOptions(), Logger: hclog.NewNullLogger(),
		})
		rpc, err := client.Client()
		if err != nil {
			b.Fatal(err)
		}
		raw, err := rpc.Dispense("connector")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := raw.(*connector.Client).Describe(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		client.Kill()
		b.StartTimer()
	}
}

// TestTenMiBBothWays: a 10 MiB row comes back from a real plugin process,
// and a 10 MiB erase batch goes to it.
func TestTenMiBBothWays(t *testing.T) {
	c := sdktest.LaunchConnector(t, sdktest.BuildPlugin(t, "testdata/benchconnector"))
	ctx := context.Background()
	if diags, err := c.Configure(ctx, "big", map[string]any{"size": int64(10 << 20)}); err != nil || diags.HasErrors() {
		t.Fatalf("configure: %v %v", err, diags.Err())
	}
	var got int
	n, err := c.Access(ctx, "big", connector.AccessRequest{
		Collection: connector.Collection{Name: "t"}, Fields: []connector.Path{{"payload"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}},
	}, func(rows []connector.Row) error {
		for _, r := range rows {
			got += len(r["payload"].(string))
		}
		return nil
	})
	if err != nil || n != 1 || got != 10<<20 {
		t.Fatalf("10 MiB row: %d rows, %d bytes, %v", n, got, err)
	}
	big := strings.Repeat("y", 10<<20)
	affected, err := c.Erase(ctx, "big", connector.EraseRequest{Collection: connector.Collection{Name: "t"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"payload": big}},
	}})
	if err != nil || affected != 1 {
		t.Fatalf("10 MiB erase batch: %d, %v", affected, err)
	}
}

// TestStreamOrder: rows cross a real plugin process complete and in the
// order the plugin wrote them, across many batches.
func TestStreamOrder(t *testing.T) {
	c := sdktest.LaunchConnector(t, sdktest.BuildPlugin(t, "testdata/benchconnector"))
	ctx := context.Background()
	if diags, err := c.Configure(ctx, "o", map[string]any{"size": int64(3000)}); err != nil || diags.HasErrors() {
		t.Fatalf("configure: %v %v", err, diags.Err())
	}
	const rows = 5000
	next, batches := int64(0), 0
	n, err := c.Access(ctx, "o", connector.AccessRequest{
		Collection: connector.Collection{Name: "t"}, Fields: []connector.Path{{"id"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(rows)}}},
	}, func(b []connector.Row) error {
		batches++
		if len(b) > 500 {
			t.Errorf("batch of %d rows; want at most 500", len(b))
		}
		for _, r := range b {
			if r["id"] != next {
				t.Fatalf("row %v arrived where %d was due", r["id"], next)
			}
			next++
		}
		return nil
	})
	if err != nil || n != rows || next != rows {
		t.Fatalf("got %d rows (%d in order), %v", n, next, err)
	}
	// 5,000 rows of 3 KiB are 15 MiB: at most ~1 MiB per batch.
	if batches < 14 {
		t.Errorf("%d batches for 15 MiB; want batches of at most about 1 MiB", batches)
	}
}
