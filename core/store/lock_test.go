package store

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const lockHelperEnv = "LETHE_STORE_LOCK_HELPER_DIR"

// TestLockHelperProcess is not a test: TestSecondProcess re-executes the
// test binary to run it in another process.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv(lockHelperEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	start := time.Now()
	s, err := Open(dir, Options{Key: testKey(1), LockTimeout: time.Second})
	fmt.Printf("ELAPSED_MS %d\n", time.Since(start).Milliseconds())
	if err != nil {
		fmt.Printf("ERROR %v\n", err)
		if errors.Is(err, ErrLocked) {
			os.Exit(3)
		}
		os.Exit(4)
	}
	s.Close()
	fmt.Println("OPENED")
	os.Exit(0)
}

func runLockHelper(t *testing.T, dir string) (string, int, time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$", "-test.count=1")
	// atexit_sleep_ms: a race-enabled binary otherwise sleeps 1s at exit 0.
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir, "GORACE=atexit_sleep_ms=0")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code, elapsed
}

func TestSecondProcessFailsFast(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Key: testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	out, code, elapsed := runLockHelper(t, dir)
	host, _ := os.Hostname()
	want := fmt.Sprintf("state directory %s is in use by lethe pid %d on host %s since ", dir, os.Getpid(), host)
	if code != 3 || !strings.Contains(out, want) || !strings.Contains(out, "stop it or use another state_dir") {
		t.Fatalf("second process: exit %d, output:\n%s\nwant exit 3 and %q", code, out, want)
	}
	var openMS int64 = -1
	if i := strings.Index(out, "ELAPSED_MS"); i >= 0 {
		fmt.Sscanf(out[i:], "ELAPSED_MS %d", &openMS)
	}
	if openMS < 0 || openMS > 2000 {
		t.Errorf("second Open took %dms to fail, want about 1s (LockTimeout)", openMS)
	}
	t.Logf("second Open failed after %dms (%s wall, including process start)", openMS, elapsed.Round(time.Millisecond))

	// Once the first process closes, the directory is free again.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFileName)); !os.IsNotExist(err) {
		t.Errorf("lock file left after Close: %v", err)
	}
	out, code, elapsed = runLockHelper(t, dir)
	if code != 0 || !strings.Contains(out, "OPENED") {
		t.Fatalf("after Close: exit %d, output:\n%s", code, out)
	}
	t.Logf("after Close: %s", strings.Fields(out[strings.Index(out, "ELAPSED_MS"):])[1]+"ms to open, "+elapsed.String()+" wall")
}

// TestSecondOpenInSameProcess: flock(2) locks belong to the open file
// description, not to the process (unlike fcntl locks), so a second Open
// in the same process is refused too.
func TestSecondOpenInSameProcess(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Key: testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = Open(dir, Options{Key: testKey(1), LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second Open: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("second Open took %s with a 200ms timeout", d)
	}
}

func TestStaleLockFile(t *testing.T) {
	dir := t.TempDir()
	// A crashed process leaves its lock file; its flock died with it.
	stale := `{"pid":999999,"hostname":"gone","started_at":"2020-01-01T00:00:00Z"}`
	if err := os.WriteFile(filepath.Join(dir, LockFileName), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{Key: testKey(1)})
	if err != nil {
		t.Fatalf("stale lock file blocked Open: %v", err)
	}
	defer s.Close()
	li, err := ReadLockInfo(dir)
	if err != nil || li.PID != os.Getpid() {
		t.Errorf("lock file not rewritten: %+v %v", li, err)
	}
}

func TestOpenCreatesPrivateDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "nested")
	s, err := Open(dir, Options{Key: testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v, want 0700", fi.Mode().Perm())
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Error(err)
	}
}
