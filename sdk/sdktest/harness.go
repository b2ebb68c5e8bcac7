// Package sdktest lets plugin authors test their plugin through real gRPC:
// in process (NewConnectorHarness, NewStorageHarness) or as a real plugin
// process (BuildPlugin, LaunchConnector, LaunchStorage), and check it with
// the conformance suites (RunConnectorConformance, RunStorageConformance).
package sdktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/host"
	"github.com/lethehq/lethe/sdk/storage"
)

// NewConnectorHarness serves def in process over real gRPC and returns the
// host-side client, as core would use it. It is closed with the test.
func NewConnectorHarness(t testing.TB, def connector.Definition) *connector.Client {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		"connector": &connector.Plugin{Definition: def, Logger: testLogger(t)},
	})
	t.Cleanup(func() { client.Close(); server.Stop() })
	raw, err := client.Dispense("connector")
	if err != nil {
		t.Fatalf("dispense connector: %v", err)
	}
	return raw.(*connector.Client)
}

// NewStorageHarness serves def in process over real gRPC.
func NewStorageHarness(t testing.TB, def storage.Definition) *storage.Client {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		"storage": &storage.Plugin{Definition: def, Logger: testLogger(t)},
	})
	t.Cleanup(func() { client.Close(); server.Stop() })
	raw, err := client.Dispense("storage")
	if err != nil {
		t.Fatalf("dispense storage: %v", err)
	}
	return raw.(*storage.Client)
}

var (
	buildMu    sync.Mutex
	buildCache = map[string]string{}
	buildDir   string
)

// BuildPlugin builds the main package in dir (a plugin's module or a
// directory inside one) and returns the binary's path. Builds are cached
// for the life of the test binary.
func BuildPlugin(t testing.TB, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("build plugin %s: %v", dir, err)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := buildCache[abs]; ok {
		return bin
	}
	if buildDir == "" {
		// Not t.TempDir: the binary outlives the test that built it.
		buildDir, err = os.MkdirTemp("", "lethe-sdktest-")
		if err != nil {
			t.Fatalf("build plugin: %v", err)
		}
	}
	bin := filepath.Join(buildDir, filepath.Base(abs))
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = abs
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", abs, err, out)
	}
	buildCache[abs] = bin
	return bin
}

// launch starts a real plugin process and dispenses kind.
func launch(t testing.TB, path, kind string) any {
	t.Helper()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  host.Handshake,
		VersionedPlugins: host.PluginSets(),
		Cmd:              exec.Command(path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions:  host.DialOptions(),
		Logger:           testLogger(t),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin %s: %v", path, err)
	}
	raw, err := rpc.Dispense(kind)
	if err != nil {
		t.Fatalf("dispense %s from %s: %v", kind, path, err)
	}
	return raw
}

// LaunchConnector starts the connector plugin binary at path as a real
// process, as Lethe does, and returns its client. It is killed with the test.
func LaunchConnector(t testing.TB, path string) *connector.Client {
	t.Helper()
	return launch(t, path, "connector").(*connector.Client)
}

// LaunchStorage starts the storage plugin binary at path as a real process.
func LaunchStorage(t testing.TB, path string) *storage.Client {
	t.Helper()
	return launch(t, path, "storage").(*storage.Client)
}

func testLogger(testing.TB) hclog.Logger {
	level := hclog.Warn
	if os.Getenv("LETHE_TEST_PLUGIN_LOGS") != "" {
		level = hclog.Debug
	}
	// Plugin logs can arrive after the test ended, when t.Log would
	// panic: write them to stderr.
	return hclog.New(&hclog.LoggerOptions{Name: "sdktest", Level: level, Output: os.Stderr})
}
