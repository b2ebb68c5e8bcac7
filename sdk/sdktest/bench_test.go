package sdktest_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/sdktest"
)

// The benchmarks run the plugin in testdata/benchconnector as a real
// process, started the way Lethe core starts plugins (go-plugin, gRPC over
// a Unix socket, AutoMTLS). Targets: round trip p50 <= 0.3 ms, Access
// streaming of 1 KiB rows >= 100 MB/s, cold start <= 100 ms.
//
//	go test -run xxx -bench . -benchtime 2000x ./sdktest

const benchPlugin = "testdata/benchconnector"

func benchClient(b *testing.B, size int64) *connector.Client {
	b.Helper()
	c := sdktest.LaunchConnector(b, sdktest.BuildPlugin(b, benchPlugin))
	if diags, err := c.Configure(context.Background(), "b", map[string]any{"size": size}); err != nil || diags.HasErrors() {
		b.Fatalf("configure: %v %v", err, diags.Err())
	}
	return c
}

// percentiles reports p50 and p99 of lat, in milliseconds.
func percentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e6, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e6, "p99-ms")
}

// BenchmarkRoundTrip: one small unary call (Test) to a real plugin process.
func BenchmarkRoundTrip(b *testing.B) {
	c := benchClient(b, 1000)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := c.Test(ctx, "b"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	percentiles(b, lat)
}

// BenchmarkAccessStream: 20,000 rows of 1 KiB (an id and a 1,000-byte
// payload, about 1,024 bytes on the wire) streamed from a real plugin
// process into Go values on the host. MB/s counts 1 KiB per row.
func BenchmarkAccessStream(b *testing.B) {
	c := benchClient(b, 1000)
	ctx := context.Background()
	const rows = 20000
	req := connector.AccessRequest{
		Collection: connector.Collection{Name: "t"}, Fields: []connector.Path{{"id"}, {"payload"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(rows)}}},
	}
	b.SetBytes(rows * 1024)
	b.ResetTimer()
	for range b.N {
		n, err := c.Access(ctx, "b", req, func([]connector.Row) error { return nil })
		if err != nil || n != rows {
			b.Fatalf("access: %d rows, %v", n, err)
		}
	}
}

// BenchmarkColdStart: from exec of the plugin binary to its first answered
// call (Describe), including go-plugin's handshake and AutoMTLS. Killing
// the process is not timed.
func BenchmarkColdStart(b *testing.B) {
	bin := sdktest.BuildPlugin(b, benchPlugin)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		client := plugin.NewClient(sdktest.ClientConfig(bin, hclog.NewNullLogger()))
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
		lat = append(lat, time.Since(start))
		b.StopTimer()
		client.Kill()
		b.StartTimer()
	}
	b.StopTimer()
	percentiles(b, lat)
}

// A 10 MiB row comes back from a real plugin process, and a 10 MiB erase
// batch goes to it: both exceed gRPC's default 4 MiB message limit.
func TestTenMiBBothWays(t *testing.T) {
	c := sdktest.LaunchConnector(t, sdktest.BuildPlugin(t, benchPlugin))
	ctx := context.Background()
	const size = 10 << 20
	if diags, err := c.Configure(ctx, "big", map[string]any{"size": int64(size)}); err != nil || diags.HasErrors() {
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
	if err != nil || n != 1 || got != size {
		t.Fatalf("10 MiB row: %d rows, %d bytes, %v", n, got, err)
	}
	res, err := c.Erase(ctx, "big", connector.EraseRequest{Collection: connector.Collection{Name: "t"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"payload": strings.Repeat("y", size)}},
	}})
	if err != nil || res.Rows != 1 {
		t.Fatalf("10 MiB erase batch: %d, %v", res.Rows, err)
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
