package e2e

import (
	"strings"
	"testing"
)

// TestLookalikeIdentitiesFindNothing reproduces the finding of issue 13
// item 1 end to end: on MariaDB, whose utf8mb4_general_ci columns ignore
// case and accents and whose PAD SPACE collations ignore trailing spaces,
// `lethe run --identity 'email=JANE@EXÄMPLE.COM '` returned jane's package
// and an erasure with `email=jane@exämple.com` masked her row. On every
// backend, a request for a look-alike of jane@example.com completes with
// an empty package and leaves the database exactly as it was.
func TestLookalikeIdentitiesFindNothing(t *testing.T) {
	lookalikes := []string{
		"JANE@EXÄMPLE.COM ",      // case, accent, trailing space
		"jane@exämple.com",       // accent
		"Jane@example.com",       // case
		"jane@example.com ",      // trailing space (PAD SPACE)
		"ｊａｎｅ@example.com",       // full-width letters
		"jane@example.com\u00a0", // no-break space
	}
	for _, kind := range backends {
		t.Run(kind, func(t *testing.T) {
			b := newBackend(t, kind)
			dir, _ := b.config(t)
			before := dump(t, b.db)
			for _, id := range lookalikes {
				r := run(t, nil, dir, "--policy", "access_and_erasure", "--identity", "email="+id)
				if r.code != 0 || !strings.Contains(r.stdout, "Status: complete") {
					t.Fatalf("%q: lethe run did not complete:\n%s", id, r)
				}
				if got := canonicalPackage(t, r.pkg); got != "\n" {
					t.Errorf("%q: the package holds someone's data:\n%s", id, got)
				}
				if !equalDumps(before, dump(t, b.db)) {
					t.Fatalf("%q: an erasure for a look-alike identity changed the database", id)
				}
			}
			// The exact identity still finds her.
			r := mustComplete(t, nil, dir, "--policy", "access", "--identity", "email=jane@example.com")
			if !strings.Contains(canonicalPackage(t, r.pkg), "jane@example.com") {
				t.Errorf("the exact identity no longer finds jane:\n%s", r)
			}
		})
	}
}
