package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoIdentityInErrors reproduces issue 13 item 6 end to end: an
// identity that fails conversion in the database (an e-mail compared with
// a uuid column: PostgreSQL answers `invalid input syntax for type uuid:
// "<the e-mail>"`) is found neither in what `lethe run` logs (at trace
// level) and prints, nor anywhere in the bytes of the state directory.
func TestNoIdentityInErrors(t *testing.T) {
	b := newBackend(t, "postgres")
	// visits.email is an identity field of the example dataset; as a
	// uuid column, comparing it with an e-mail fails in PostgreSQL.
	if _, err := b.db.Exec(`ALTER TABLE visits ALTER COLUMN email TYPE uuid USING NULL`); err != nil {
		t.Fatal(err)
	}
	dir, _ := b.config(t)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	marker := "MARKER-" + hex.EncodeToString(rnd[:]) + "@example.com"

	r := run(t, nil, dir, "--policy", "access", "--identity", "email="+marker, "--log-level", "trace")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "uuid") {
		t.Fatalf("the request did not fail on the uuid column:\n%s", r)
	}
	out := strings.ToLower(r.stdout + r.stderr)
	if strings.Contains(out, strings.ToLower(marker)) || strings.Contains(out, strings.ToLower(hex.EncodeToString(rnd[:]))) {
		t.Errorf("the identity is in what lethe run printed or logged:\n%s", r)
	}
	if !strings.Contains(r.stdout+r.stderr, "[redacted]") {
		t.Errorf("the failure does not show where a value was redacted:\n%s", r)
	}
	// Every byte of every file of the state directory.
	state := filepath.Join(dir, "state")
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
		lower := bytes.ToLower(data)
		if bytes.Contains(lower, bytes.ToLower([]byte(marker))) || bytes.Contains(lower, []byte(hex.EncodeToString(rnd[:]))) {
			t.Errorf("the identity is in %s", p)
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("state directory %s: %d files, %v", state, files, err)
	}
}
