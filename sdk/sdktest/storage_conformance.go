package sdktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/storage"
)

// StorageFixture points the storage conformance suite at a destination.
type StorageFixture struct {
	// Config is a valid config for the plugin.
	Config map[string]any
	// BadConfigs are configs that must give error diagnostics.
	BadConfigs []map[string]any
	// Fetch returns the bytes stored under key, with the author's own
	// client code, so the suite can check what landed.
	Fetch func(t testing.TB, key string) ([]byte, error)
}

// RunStorageConformance checks a storage plugin through c.
func RunStorageConformance(t *testing.T, c *storage.Client, fx StorageFixture) {
	ctx := context.Background()
	const id = "conformance"

	t.Run("Describe", func(t *testing.T) {
		info, err := c.Describe(ctx)
		if err != nil {
			t.Fatalf("Describe: %v", err)
		}
		if info.Kind != schema.KindStorage || info.Name == "" || !semver.MatchString(info.Version) {
			t.Errorf("Describe: kind %q name %q version %q; want storage, a name and a semantic version", info.Kind, info.Name, info.Version)
		}
		if len(info.Config.Attributes) == 0 {
			t.Errorf("Describe: the config schema has no attributes")
		}
	})

	t.Run("BadConfig", func(t *testing.T) {
		for i, bad := range fx.BadConfigs {
			diags, err := c.Configure(ctx, fmt.Sprintf("bad-%d", i), bad)
			if err != nil {
				t.Errorf("bad config %d: want diagnostics, got an error: %v", i, err)
			} else if !diags.HasErrors() {
				t.Errorf("bad config %d: accepted; want error diagnostics", i)
			}
		}
	})

	diags, err := c.Configure(ctx, id, fx.Config)
	if err != nil || diags.HasErrors() {
		t.Fatalf("Configure: %v %v", err, diags.Err())
	}
	t.Cleanup(func() { _ = c.CloseInstance(context.Background(), id) })

	t.Run("Test", func(t *testing.T) {
		if err := c.Test(ctx, id); err != nil {
			t.Fatalf("Test: %v", err)
		}
	})

	for _, size := range []int{0, 1, 10 << 20} {
		t.Run(fmt.Sprintf("Upload%dB", size), func(t *testing.T) {
			data := make([]byte, size)
			if _, err := rand.Read(data); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			key := fmt.Sprintf("conformance/req-1/object-%d.bin", size)
			res, err := c.Upload(ctx, id, storage.Object{RequestID: "req-1", Key: key, ContentType: "application/octet-stream", SizeHint: int64(size)}, bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(size) {
				t.Errorf("Upload reported %d bytes sha256 %s; want %d bytes %x", res.Size, res.SHA256, size, sum)
			}
			if res.Location == "" {
				t.Errorf("Upload returned no location")
			}
			got, err := fx.Fetch(t, key)
			if err != nil {
				t.Fatalf("fetch %s: %v", key, err)
			}
			if gs := sha256.Sum256(got); gs != sum {
				t.Errorf("stored object has %d bytes sha256 %x; want %d bytes %x", len(got), gs, size, sum)
			}
		})
	}

	t.Run("Overwrite", func(t *testing.T) {
		key := "conformance/req-1/again.json"
		for _, body := range []string{"first", "second"} {
			if _, err := c.Upload(ctx, id, storage.Object{Key: key}, bytes.NewReader([]byte(body))); err != nil {
				t.Fatalf("Upload %s: %v", body, err)
			}
		}
		got, err := fx.Fetch(t, key)
		if err != nil || string(got) != "second" {
			t.Errorf("after two uploads the object holds %q (%v); want the second", got, err)
		}
	})

	t.Run("KeyEscapeRefused", func(t *testing.T) {
		for _, key := range []string{"../x", "a/../../x", "/etc/passwd", "a/./b", "", "a\\..\\b"} {
			_, err := c.Upload(ctx, id, storage.Object{Key: key}, bytes.NewReader([]byte("x")))
			if err == nil || fault.KindOf(err) != fault.Permanent {
				t.Errorf("key %q: got %v, want a permanent refusal", key, err)
			}
		}
	})
}
