package sdktest_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/lethehq/lethe/sdk/sdktest"
)

// BuildPlugin builds once per run and the launched process answers as a
// real plugin.
func TestBuildAndLaunch(t *testing.T) {
	bin := sdktest.BuildPlugin(t, benchPlugin)
	if again := sdktest.BuildPlugin(t, "./"+benchPlugin+"/"); again != bin {
		t.Errorf("second build of the same directory gave %s, want the cached %s", again, bin)
	}
	c := sdktest.LaunchConnector(t, bin)
	info, err := c.Describe(context.Background())
	if err != nil || info.Name != "bench" {
		t.Fatalf("describe: %+v %v", info, err)
	}
	out, err := exec.Command(bin, "-describe").Output()
	if err != nil || !strings.Contains(string(out), `"name": "bench"`) {
		t.Errorf("-describe: %s %v", out, err)
	}
}

func TestLaunchRefusesTheWrongKind(t *testing.T) {
	bin := sdktest.BuildPlugin(t, benchPlugin)
	f := &fakeTB{TB: t}
	failure := f.run(func(tb testing.TB) { sdktest.LaunchStorage(tb, bin) })
	if !strings.Contains(failure, "is not a storage plugin") {
		t.Errorf("launching a connector as storage: failure %q", failure)
	}
}

func TestBuildPluginReportsCompileErrors(t *testing.T) {
	dir := t.TempDir()
	f := &fakeTB{TB: t}
	failure := f.run(func(tb testing.TB) { sdktest.BuildPlugin(tb, dir) })
	if !strings.Contains(failure, "go build") {
		t.Errorf("building an empty directory: failure %q", failure)
	}
}
