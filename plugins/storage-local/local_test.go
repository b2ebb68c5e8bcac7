package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lethehq/lethe/plugins/storage-local/internal/local"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/sdktest"
)

func fixture(t *testing.T) sdktest.StorageFixture {
	dir := filepath.Join(t.TempDir(), "results") // created by the plugin
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return sdktest.StorageFixture{
		Config: map[string]any{"dir": dir},
		BadConfigs: []map[string]any{
			{},
			{"dir": 42},
			{"dir": dir, "file_mode": "rwx"},
			{"dir": dir, "file_mode": "01777"},
			{"dir": dir, "bucket": "x"},
			{"dir": filepath.Join(t.TempDir(), "missing"), "create_dir": false},
			{"dir": file},
		},
		// Fetch reads the file directly: os.ReadFile's error wraps
		// fs.ErrNotExist when there is none.
		Fetch: func(t testing.TB, key string) ([]byte, error) {
			return os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
		},
	}
}

// TestConformance runs the storage suite against a real plugin process.
func TestConformance(t *testing.T) {
	c := sdktest.LaunchStorage(t, sdktest.BuildPlugin(t, "."))
	sdktest.RunStorageConformance(t, c, fixture(t))
}

// TestConformanceInProcess runs the suite in process, where -race sees the
// store's code too.
func TestConformanceInProcess(t *testing.T) {
	c := sdktest.NewStorageHarness(t, local.Definition("0.1.0"))
	sdktest.RunStorageConformance(t, c, fixture(t))
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
	if info.Kind != schema.KindStorage || info.Name != "local" || info.Version != version {
		t.Errorf("-describe: %+v", info)
	}
	if a, ok := info.Config.Attribute("dir"); !ok || !a.Required {
		t.Errorf("-describe: dir is not a required attribute: %+v", info.Config)
	}
}
