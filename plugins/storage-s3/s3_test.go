package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lethehq/lethe/plugins/storage-s3/internal/s3store"
	"github.com/lethehq/lethe/plugins/storage-s3/internal/s3test"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/sdktest"
	"github.com/lethehq/lethe/sdk/storage"
)

// fixture is a fresh bucket on the test server. part_size is the smallest,
// so the suite's 10 MiB object goes up in parts.
func fixture(t *testing.T) sdktest.StorageFixture {
	srv := s3test.FromEnv()
	bucket := s3test.NewBucket(t, srv)
	c := srv.Client(t)
	cfg := func(extra map[string]any) map[string]any { return srv.Config(bucket, extra) }
	return sdktest.StorageFixture{
		Config: cfg(map[string]any{"part_size": int64(5 << 20)}),
		BadConfigs: []map[string]any{
			{},
			{"bucket": 42},
			{"bucket": "no/such/name"},
			cfg(map[string]any{"dir": "/tmp"}),
			cfg(map[string]any{"endpoint": "127.0.0.1:9000"}),
			cfg(map[string]any{"region": ""}),
			cfg(map[string]any{"presign_ttl": "169h"}),
			cfg(map[string]any{"presign_ttl": "0s"}),
			cfg(map[string]any{"part_size": int64(1 << 20)}),
			cfg(map[string]any{"server_side_encryption": "aes"}),
			cfg(map[string]any{"kms_key_id": "k"}),
			cfg(map[string]any{"secret_access_key": ""}),
		},
		Fetch: func(t testing.TB, key string) ([]byte, error) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			return s3test.Fetch(ctx, c, bucket, key)
		},
	}
}

// TestConformance runs the storage suite against a real plugin process.
func TestConformance(t *testing.T) {
	fx := fixture(t)
	c := sdktest.LaunchStorage(t, sdktest.BuildPlugin(t, "."))
	sdktest.RunStorageConformance(t, c, fx)
}

// TestConformanceInProcess runs the suite in process, where -race sees the
// store's code too.
func TestConformanceInProcess(t *testing.T) {
	fx := fixture(t)
	c := sdktest.NewStorageHarness(t, s3store.Definition("0.1.0"))
	sdktest.RunStorageConformance(t, c, fx)
}

func TestDescribeFlag(t *testing.T) {
	out, err := exec.Command(sdktest.BuildPlugin(t, "."), "-describe").Output()
	if err != nil {
		t.Fatalf("-describe: %v", err)
	}
	var info schema.Info
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("-describe printed invalid JSON: %v\n%s", err, out)
	}
	if info.Kind != schema.KindStorage || info.Name != "s3" || info.Version != version {
		t.Errorf("-describe: %+v", info)
	}
	if a, ok := info.Config.Attribute("bucket"); !ok || !a.Required {
		t.Errorf("-describe: bucket is not a required attribute: %+v", info.Config)
	}
	for _, name := range []string{"access_key_id", "secret_access_key"} {
		if a, ok := info.Config.Attribute(name); !ok || !a.Sensitive {
			t.Errorf("-describe: %s is not sensitive", name)
		}
	}
}

// The binary is lethe-storage-s3 with the version set by -ldflags, as the
// Makefile builds it.
func TestVersionLdflag(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "lethe-storage-s3")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=9.8.7-test", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "-describe").Output()
	if err != nil {
		t.Fatalf("-describe: %v", err)
	}
	var info schema.Info
	if err := json.Unmarshal(out, &info); err != nil || info.Version != "9.8.7-test" {
		t.Errorf("version %q (%v), want 9.8.7-test", info.Version, err)
	}
}

// generated is a stream of n pseudo-random bytes, made as it is read.
type generated struct {
	left int64
	rng  *rand.ChaCha8
}

func newGenerated(n int64) *generated {
	return &generated{left: n, rng: rand.NewChaCha8([32]byte{42})}
}

func (g *generated) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	_, _ = g.rng.Read(p)
	g.left -= int64(len(p))
	return len(p), nil
}

// peakRSS returns VmHWM of /proc/<pid>/status in bytes.
func peakRSS(pid string) (float64, error) {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%s/status", pid)
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux 4.0+);
// it is best-effort.
func resetPeakRSS(pid string) { _ = os.WriteFile("/proc/"+pid+"/clear_refs", []byte("5"), 0) }

// pluginPID finds the child process running bin.
func pluginPID(bin string) string {
	entries, _ := os.ReadDir("/proc")
	me := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		_, after, ok := strings.Cut(string(stat), ") ")
		if f := strings.Fields(after); !ok || len(f) < 2 || f[1] != me {
			continue
		}
		if exe, _ := os.Readlink("/proc/" + e.Name() + "/exe"); exe == bin {
			return e.Name()
		}
	}
	return ""
}

// BenchmarkUpload100MiB uploads a generated 100 MiB stream to the test
// server with the default part size (8 MiB) and reports the throughput
// and peak resident memory: "store" calls the store in this process (the
// peak is this process's), "plugin" goes through a real plugin process
// over gRPC, as Lethe does (the peak is the plugin process's).
func BenchmarkUpload100MiB(b *testing.B) {
	const size = 100 << 20
	srv := s3test.FromEnv()
	bucket := s3test.NewBucket(b, srv)
	run := func(b *testing.B, upload func(ctx context.Context, key string, r io.Reader) (storage.Result, error), pid string) {
		resetPeakRSS(pid)
		ctx := context.Background()
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			res, err := upload(ctx, fmt.Sprintf("bench/%d.bin", i), newGenerated(size))
			if err != nil {
				b.Fatal(err)
			}
			if res.Size != size {
				b.Fatalf("uploaded %d bytes", res.Size)
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(size)*float64(b.N)/elapsed.Seconds()/1e6, "MB/s")
		peak, err := peakRSS(pid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(peak/(1<<20), "peak-RSS-MiB")
	}

	b.Run("store", func(b *testing.B) {
		cfg, diags := s3store.Definition("0").Config.Validate(srv.Config(bucket, nil))
		if diags.HasErrors() {
			b.Fatal(diags.Err())
		}
		st, err := s3store.New(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close(context.Background())
		run(b, func(ctx context.Context, key string, r io.Reader) (storage.Result, error) {
			return st.Upload(ctx, storage.Object{Key: key, SizeHint: -1}, r)
		}, "self")
	})

	b.Run("plugin", func(b *testing.B) {
		bin := sdktest.BuildPlugin(b, ".")
		c := sdktest.LaunchStorage(b, bin)
		pid := pluginPID(bin)
		if pid == "" {
			b.Fatalf("cannot find the plugin process of %s", bin)
		}
		ctx := context.Background()
		if diags, err := c.Configure(ctx, "bench", srv.Config(bucket, nil)); err != nil || diags.HasErrors() {
			b.Fatalf("configure: %v %v", err, diags.Err())
		}
		run(b, func(ctx context.Context, key string, r io.Reader) (storage.Result, error) {
			return c.Upload(ctx, "bench", storage.Object{Key: key, SizeHint: -1}, r)
		}, pid)
	})
}
