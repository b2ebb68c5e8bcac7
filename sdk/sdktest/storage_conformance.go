package sdktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/storage"
)

// StorageFixture points RunStorageConformance at a destination.
type StorageFixture struct {
	// Config is a valid configuration of the plugin for the destination.
	Config map[string]any
	// BadConfigs are configurations that must give error diagnostics.
	BadConfigs []map[string]any
	// Fetch returns the object stored under key, with the author's own
	// client code (not through the plugin), so the suite can check what
	// landed. When there is no object under key it returns an error for
	// which errors.Is(err, fs.ErrNotExist) holds.
	Fetch func(t testing.TB, key string) ([]byte, error)
	// Timeout bounds each check. Zero means one minute.
	Timeout time.Duration
}

// RunStorageConformance checks the storage plugin behind c against the
// destination fx describes, as subtests. See the package documentation for
// what it requires.
func RunStorageConformance(t *testing.T, c *storage.Client, fx StorageFixture) {
	if fx.Fetch == nil {
		t.Fatal("StorageFixture needs Fetch")
	}
	const id = "conformance"
	timeout := fx.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctxFor := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		t.Cleanup(cancel)
		return ctx
	}
	// prefix keeps the objects of one run apart from an earlier run's.
	prefix := fmt.Sprintf("lethe-conformance/%d-%d", time.Now().UnixNano(), rand.Uint32())
	upload := func(ctx context.Context, key string, data []byte) (storage.Result, error) {
		return c.Upload(ctx, id, storage.Object{
			RequestID: "conformance", Key: key, ContentType: "application/octet-stream",
			Metadata: map[string]string{"suite": "conformance"}, SizeHint: int64(len(data)),
		}, bytes.NewReader(data))
	}
	expectObject := func(t *testing.T, key string, want []byte) {
		t.Helper()
		got, err := fx.Fetch(t, key)
		if err != nil {
			t.Fatalf("fetch %s: %v", key, err)
		}
		if !bytes.Equal(got, want) {
			gs, ws := sha256.Sum256(got), sha256.Sum256(want)
			t.Errorf("object %s holds %d bytes (sha256 %x); want %d bytes (sha256 %x)", key, len(got), gs, len(want), ws)
		}
	}
	expectNoObject := func(t *testing.T, key string) {
		t.Helper()
		got, err := fx.Fetch(t, key)
		if err == nil {
			t.Errorf("object %s exists (%d bytes); want none", key, len(got))
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("fetch %s: %v; want an error wrapping fs.ErrNotExist", key, err)
		}
	}

	t.Run("Describe", func(t *testing.T) {
		info, err := c.Describe(ctxFor(t))
		if err != nil {
			t.Fatalf("Describe: %v", err)
		}
		checkInfo(t, info, schema.KindStorage)
	})

	t.Run("BadConfig", func(t *testing.T) {
		if len(fx.BadConfigs) == 0 {
			t.Error("the fixture lists no bad configuration")
		}
		ctx := ctxFor(t)
		for i, bad := range fx.BadConfigs {
			bid := fmt.Sprintf("bad-%d", i)
			diags, err := c.Configure(ctx, bid, bad)
			if err != nil {
				t.Errorf("bad config %d: want diagnostics, got an error: %v", i, err)
				continue
			}
			if !diags.HasErrors() {
				t.Errorf("bad config %d was accepted; want error diagnostics", i)
			}
			if err := c.Test(ctx, bid); !errors.Is(err, fault.ErrInstanceNotFound) {
				t.Errorf("bad config %d left an instance behind: Test gave %v, want ErrInstanceNotFound", i, err)
			}
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	diags, err := c.Configure(ctx, id, fx.Config)
	cancel()
	if err != nil || diags.HasErrors() {
		t.Fatalf("Configure the fixture's config: %v %v", err, diags.Err())
	}
	t.Cleanup(func() { _ = c.CloseInstance(context.Background(), id) })

	t.Run("Test", func(t *testing.T) {
		if err := c.Test(ctxFor(t), id); err != nil {
			t.Fatalf("Test: %v", err)
		}
	})

	for _, size := range []int{0, 1, 10 << 20} {
		t.Run(fmt.Sprintf("Upload%dB", size), func(t *testing.T) {
			data := randomBytes(size)
			sum := sha256.Sum256(data)
			key := fmt.Sprintf("%s/req-1/object-%d.bin", prefix, size)
			res, err := upload(ctxFor(t), key, data)
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(size) {
				t.Errorf("Upload reported %d bytes, sha256 %s; want %d bytes, sha256 %x", res.Size, res.SHA256, size, sum)
			}
			if res.Location == "" {
				t.Error("Upload returned no location")
			}
			expectObject(t, key, data)
		})
	}

	t.Run("Overwrite", func(t *testing.T) {
		ctx := ctxFor(t)
		key := prefix + "/req-1/again.json"
		for _, body := range []string{`{"first":true, "longer": "than the second"}`, `{"second":true}`} {
			if _, err := upload(ctx, key, []byte(body)); err != nil {
				t.Fatalf("Upload %s: %v", body, err)
			}
		}
		expectObject(t, key, []byte(`{"second":true}`))
	})

	t.Run("KeyEscapeRefused", func(t *testing.T) {
		ctx := ctxFor(t)
		for _, key := range []string{"../x", "a/../../x", "/etc/passwd", "a/./b", "a//b", "", "..", "a\\..\\b", "a/\x00/b"} {
			_, err := upload(ctx, key, []byte("x"))
			if err == nil || fault.KindOf(err) != fault.Permanent {
				t.Errorf("key %q: got %v, want a permanent refusal", key, err)
			}
		}
	})

	t.Run("CancelledUploadLeavesNothing", func(t *testing.T) {
		ctx := ctxFor(t)
		key := prefix + "/req-2/cancelled.bin"
		cctx, cancel := context.WithCancel(ctx)
		r := &cancellingReader{data: randomBytes(3 << 20), cancelAt: 2 << 20, cancel: cancel}
		if _, err := c.Upload(cctx, id, storage.Object{Key: key, SizeHint: 3 << 20}, r); err == nil {
			t.Fatal("an upload cancelled midway succeeded")
		}
		expectNoObject(t, key)
	})

	t.Run("FailedUploadKeepsEarlierObject", func(t *testing.T) {
		ctx := ctxFor(t)
		key := prefix + "/req-2/kept.json"
		good := []byte(`{"complete":true}`)
		if _, err := upload(ctx, key, good); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		broken := io.MultiReader(bytes.NewReader(randomBytes(1<<20+17)), iotestErrReader{})
		if _, err := c.Upload(ctx, id, storage.Object{Key: key}, broken); err == nil {
			t.Fatal("an upload whose source failed succeeded")
		}
		expectObject(t, key, good)
	})

	t.Run("Concurrent", func(t *testing.T) {
		ctx := ctxFor(t)
		const workers = 8
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		objects := make([][]byte, workers)
		for g := range workers {
			objects[g] = randomBytes(256<<10 + g)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := upload(ctx, fmt.Sprintf("%s/concurrent/%d.bin", prefix, g), objects[g]); err != nil {
					errs <- fmt.Errorf("upload %d: %w", g, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for g := range workers {
			expectObject(t, fmt.Sprintf("%s/concurrent/%d.bin", prefix, g), objects[g])
		}
	})

	t.Run("CloseTwice", func(t *testing.T) {
		ctx := ctxFor(t)
		const cid = "closing"
		if diags, err := c.Configure(ctx, cid, fx.Config); err != nil || diags.HasErrors() {
			t.Fatalf("Configure: %v %v", err, diags.Err())
		}
		for i := 1; i <= 2; i++ {
			if err := c.CloseInstance(ctx, cid); err != nil {
				t.Errorf("CloseInstance #%d: %v", i, err)
			}
		}
		if err := c.Test(ctx, cid); !errors.Is(err, fault.ErrInstanceNotFound) {
			t.Errorf("Test of a closed instance: %v, want ErrInstanceNotFound", err)
		}
		if err := c.Test(ctx, id); err != nil {
			t.Errorf("Test of another instance after a close: %v", err)
		}
	})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16)})
	_, _ = r.Read(b)
	return b
}

// cancellingReader hands out data and cancels the upload's context once
// cancelAt bytes were read, then fails like a reader whose context ended.
type cancellingReader struct {
	data     []byte
	off      int
	cancelAt int
	cancel   context.CancelFunc
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	if r.off >= r.cancelAt {
		r.cancel()
		return 0, context.Canceled
	}
	n := copy(p, r.data[r.off:r.cancelAt])
	r.off += n
	return n, nil
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("source broke") }
