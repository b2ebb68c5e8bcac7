package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestEncryptionAtRest writes recognisable personal data through every path
// that stores it, closes the store and searches the raw file.
func TestEncryptionAtRest(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	secrets := map[string][]byte{
		"identity email": []byte("alice.sentinel@example.com"),
		"identity phone": []byte("+15557654321"),
		"result key":     []byte("RESULTKEY-SENTINEL-0123456789"),
		"masking secret": []byte("MASKSECRET-SENTINEL-abcdef"),
		"row page":       []byte(`{"email":"alice.rowdata@example.com","ssn":"078-05-1120"}`),
		"blob":           []byte("BLOB-SENTINEL-upload-result"),
	}
	r, err := s.CreateRequest(ctx, &Request{
		Policy:     "POLICY-VISIBLE",
		Identities: map[string]string{"email": string(secrets["identity email"]), "phone_number": string(secrets["identity phone"])},
		ResultKey:  secrets["result key"],
	}, secrets["masking secret"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginNode(ctx, r.ID, PhaseAccess, "db.users"); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendRows(ctx, r.ID, PhaseAccess, "db.users", 0, secrets["row page"]); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBlob(ctx, r.ID, "rule", secrets["blob"]); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(s.dir, DBFileName))
	if err != nil {
		t.Fatal(err)
	}
	// Positive control: plaintext fields are found, so the search works.
	if !bytes.Contains(raw, []byte("POLICY-VISIBLE")) || !bytes.Contains(raw, []byte(r.ID)) {
		t.Fatal("the raw file does not contain the policy key or the id: the search proves nothing")
	}
	for name, v := range secrets {
		for _, probe := range [][]byte{v, []byte(strings.ToUpper(string(v))), []byte("078-05-1120"), []byte("alice")} {
			if name != "row page" && bytes.Equal(probe, []byte("078-05-1120")) {
				continue
			}
			if bytes.Contains(raw, probe) {
				t.Errorf("%s: %q found in plaintext in the state file", name, probe)
			}
		}
	}
	// The key file stays private.
	fi, err := os.Stat(filepath.Join(s.dir, DBFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestCiphertextsAreBoundToTheirRecord moves ciphertexts between records
// with raw bbolt writes: decryption must refuse them.
func TestCiphertextsAreBoundToTheirRecord(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	a, _ := s.CreateRequest(ctx, &Request{Policy: "p", Identities: map[string]string{"email": "a@example.com"}}, []byte("secret-a"))
	b, _ := s.CreateRequest(ctx, &Request{Policy: "p", Identities: map[string]string{"email": "b@example.com"}}, []byte("secret-b"))
	for _, id := range []string{a.ID, b.ID} {
		s.BeginNode(ctx, id, PhaseAccess, "db.t")
		s.AppendRows(ctx, id, PhaseAccess, "db.t", 0, []byte("rows of "+id))
		s.AppendRows(ctx, id, PhaseAccess, "db.t", 1, []byte("page 1 of "+id))
	}
	// Sanity: both read fine before tampering.
	if _, err := s.Get(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	tamper := func(fn func(tx *bolt.Tx) error) {
		t.Helper()
		if err := s.db.Update(fn); err != nil {
			t.Fatal(err)
		}
	}
	// Swap the sealed identities of a into b's record.
	tamper(func(tx *bolt.Tx) error {
		ra, _ := loadRecord(tx, a.ID)
		rb, _ := loadRecord(tx, b.ID)
		rb.PII = ra.PII
		return putRecord(tx, rb)
	})
	if _, err := s.Get(ctx, b.ID); err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Errorf("Get with a moved identity ciphertext: %v, want an authentication failure", err)
	}
	// Swap masking secrets.
	tamper(func(tx *bolt.Tx) error {
		v := bytes.Clone(tx.Bucket(bktSecrets).Get([]byte(a.ID)))
		return tx.Bucket(bktSecrets).Put([]byte(b.ID), v)
	})
	if _, err := s.MaskingSecrets(ctx, b.ID); err == nil {
		t.Error("moved masking secrets decrypted")
	}
	// Reorder pages within a node, and move a page between requests.
	tamper(func(tx *bolt.Tx) error {
		pa := tx.Bucket(bktPages).Bucket([]byte(a.ID)).Bucket(nodeKey(PhaseAccess, "db.t"))
		p0, p1 := bytes.Clone(getPage(pa, pageKey(0))), bytes.Clone(getPage(pa, pageKey(1)))
		if p0 == nil || p1 == nil {
			return errors.New("pages not found")
		}
		putPage(pa, 0, p1)
		putPage(pa, 1, p0)
		pb := tx.Bucket(bktPages).Bucket([]byte(b.ID)).Bucket(nodeKey(PhaseAccess, "db.t"))
		return putPage(pb, 0, p0)
	})
	for _, id := range []string{a.ID, b.ID} {
		err := s.ReadRows(ctx, id, PhaseAccess, "db.t", func(int, []byte) error { return nil })
		if err == nil {
			t.Errorf("request %s: moved page decrypted", id)
		}
	}
	// A flipped bit is detected.
	tamper(func(tx *bolt.Tx) error {
		v := bytes.Clone(tx.Bucket(bktSecrets).Get([]byte(a.ID)))
		v[len(v)-1] ^= 1
		return tx.Bucket(bktSecrets).Put([]byte(a.ID), v)
	})
	if _, err := s.MaskingSecrets(ctx, a.ID); err == nil {
		t.Error("altered secrets decrypted")
	}
}

func TestKeyChecks(t *testing.T) {
	t.Run("length", func(t *testing.T) {
		for _, n := range []int{0, 16, 31, 33, 64} {
			_, err := Open(t.TempDir(), Options{Key: make([]byte, n)})
			if err == nil || !strings.Contains(err.Error(), "must be 32 bytes") {
				t.Errorf("key of %d bytes: %v", n, err)
			}
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		dir := t.TempDir()
		s, err := Open(dir, Options{Key: testKey(1)})
		if err != nil {
			t.Fatal(err)
		}
		r := mustCreate(t, s, &Request{Policy: "p", Identities: map[string]string{"email": "a@example.com"}})
		s.Close()
		_, err = Open(dir, Options{Key: testKey(2)})
		if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "encryption key does not match the one this state directory was created with") {
			t.Fatalf("wrong key: %v", err)
		}
		// The right key still works, and the data is intact.
		s, err = Open(dir, Options{Key: testKey(1)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		back, err := s.Get(context.Background(), r.ID)
		if err != nil || back.Identities["email"] != "a@example.com" {
			t.Errorf("reopen: %+v %v", back, err)
		}
	})
}

func TestBlindIndex(t *testing.T) {
	a, _ := newSealer(testKey(1))
	b, _ := newSealer(testKey(2))
	x := a.blindIndex("email", "a@example.com")
	tests := []struct {
		name string
		got  []byte
		same bool
	}{
		{"deterministic", a.blindIndex("email", "a@example.com"), true},
		{"value matters", a.blindIndex("email", "b@example.com"), false},
		{"name matters", a.blindIndex("phone_number", "a@example.com"), false},
		{"separator matters", a.blindIndex("emaila", "@example.com"), false},
		{"key matters", b.blindIndex("email", "a@example.com"), false},
	}
	for _, tt := range tests {
		if bytes.Equal(tt.got, x) != tt.same {
			t.Errorf("%s: equal=%v", tt.name, !tt.same)
		}
	}
	if bytes.Contains(x, []byte("example")) || len(x) != 32 {
		t.Errorf("blind index %x", x)
	}
}
