package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// uuidBackend is the PostgreSQL example with visits.email, an identity
// field of the example dataset, turned into a uuid column: comparing it
// with an e-mail fails in PostgreSQL with `invalid input syntax for type
// uuid: "<the e-mail>"`.
func uuidBackend(t *testing.T) *backend {
	t.Helper()
	b := newBackend(t, "postgres")
	if _, err := b.db.Exec(`ALTER TABLE visits ALTER COLUMN email TYPE uuid USING NULL`); err != nil {
		t.Fatal(err)
	}
	return b
}

// newMarker is an e-mail identity no other test uses, and its random part.
func newMarker() (marker, random string) {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	random = hex.EncodeToString(rnd[:])
	return "MARKER-" + random + "@example.com", random
}

// noMarker fails when text holds the marker's random part, in any case.
func noMarker(t *testing.T, what, text, random string) {
	t.Helper()
	if strings.Contains(strings.ToLower(text), random) {
		t.Errorf("the identity is in %s:\n%s", what, text)
	}
}

// noMarkerInState scans every byte of every file of the state directory.
func noMarkerInState(t *testing.T, state, random string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(state, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(bytes.ToLower(data), []byte(random)) {
			t.Errorf("the identity is in %s", p)
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("state directory %s: %d files, %v", state, files, err)
	}
}

// TestNoIdentityInErrors reproduces issue 13 item 6 end to end: an
// identity that fails conversion in the database is found neither in
// what `lethe run` prints and logs (at trace level), nor anywhere in the
// bytes of the state directory.
func TestNoIdentityInErrors(t *testing.T) {
	dir, _ := uuidBackend(t).config(t)
	marker, random := newMarker()
	r := run(t, nil, dir, "--policy", "access", "--identity", "email="+marker, "--log-level", "trace")
	if r.code == 0 || !strings.Contains(r.stdout, "invalid input syntax for type uuid") {
		t.Fatalf("the request did not fail on the uuid column:\n%s", r)
	}
	noMarker(t, "what lethe run printed or logged", r.String(), random)
	if !strings.Contains(r.stdout, `uuid: "[redacted]"`) {
		t.Errorf("the failure does not show where the value was redacted:\n%s", r)
	}
	noMarkerInState(t, filepath.Join(dir, "state"), random)
}

// TestServeNoIdentityInErrors: the same through `lethe serve`: the
// daemon's log, the request and its event log as the API shows them, and
// the state directory.
func TestServeNoIdentityInErrors(t *testing.T) {
	dir, _ := serveConfig(t, uuidBackend(t), "")
	d := startDaemon(t, dir)
	root := d.token("lethe-root", rootSecret)
	marker, random := newMarker()
	id := firstID(t, d.create(root, map[string]any{"identity": map[string]string{"email": marker}, "policy_key": "access"}))
	req := d.waitStatus(root, id, "error")
	_, events := d.raw("GET", "/api/v1/privacy-request/"+id+"/log", root, nil)
	shown, _ := json.Marshal(req)
	if !strings.Contains(string(shown), "invalid input syntax for type uuid") || !strings.Contains(string(shown), "[redacted]") {
		t.Errorf("the request does not say why it failed: %s", shown)
	}
	noMarker(t, "the request", string(shown), random)
	noMarker(t, "the event log", string(events), random)
	if err := d.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stop: %v\n%s", err, d.out.String())
	}
	log := d.out.String()
	if !strings.Contains(log, "node failed") {
		t.Errorf("the daemon did not log the node failure:\n%s", log)
	}
	noMarker(t, "the daemon's log", log, random)
	noMarkerInState(t, filepath.Join(dir, "state"), random)
}
