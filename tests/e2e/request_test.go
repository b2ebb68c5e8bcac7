package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var backends = []string{"sqlite", "postgres", "mysql"}

// erased is what the example erasure policy does to jane@example.com's
// rows: "H" an HMAC-SHA256 of the value in hex, "H40" the same cut to the
// field's length of 40, "MASKED" the rewrite, "NULL" a null.
// Every other cell of the database must be left as it was.
var erased = map[string]map[string]map[string]string{
	"addresses": {
		"1": {"street": "NULL", "city": "NULL", "state": "NULL", "postal_code": "NULL", "country": "NULL"},
		"7": {"street": "NULL", "city": "NULL", "state": "NULL", "postal_code": "NULL", "country": "NULL"},
	},
	"customers":     {"1": {"email": "H", "name": "MASKED", "phone": "H40"}}, // phone is VARCHAR(40), length = 40
	"employees":     {"3": {"email": "H", "name": "MASKED"}},
	"logins":        {"1": {"ip_address": "NULL"}, "2": {"ip_address": "NULL"}, "3": {"ip_address": "NULL"}},
	"payment_cards": {"1": {"card_holder": "MASKED", "ccn": "NULL", "expiry": "NULL"}, "2": {"card_holder": "MASKED", "ccn": "NULL", "expiry": "NULL"}},
	"reports":       {"1": {"email": "H"}, "2": {"email": "H"}},
	// Ticket 2 is Bob's, with Jane in copy: the whole matched row is in
	// scope, as in the reference system (its requester_email is Bob's).
	"support_tickets": {
		"1": {"requester_email": "H", "subject": "NULL", "body": "NULL"}, // cc_email is NULL and stays NULL
		"2": {"requester_email": "H", "cc_email": "H", "subject": "NULL", "body": "NULL"},
	},
	"visits": {"1": {"email": "H", "ip_address": "NULL"}, "2": {"email": "H", "ip_address": "NULL"}},
}

var hexHMAC = map[string]*regexp.Regexp{"H": regexp.MustCompile(`^[0-9a-f]{64}$`), "H40": regexp.MustCompile(`^[0-9a-f]{40}$`)}

// checkErasure compares the database after an erasure with before: the
// cells of want changed as it says, every other cell is unchanged, and an
// HMAC maps equal values to equal masks and different values to
// different ones.
func checkErasure(t *testing.T, before, after map[string]map[string]map[string]string, want map[string]map[string]map[string]string) {
	t.Helper()
	masks := map[string]string{} // original -> mask
	origs := map[string]string{} // mask -> original
	for table, rows := range before {
		if len(after[table]) != len(rows) {
			t.Errorf("%s: %d rows after erasure, %d before", table, len(after[table]), len(rows))
		}
		for id, row := range rows {
			for col, old := range row {
				got := after[table][id][col]
				exp, targeted := want[table][id][col]
				switch {
				case !targeted:
					if got != old {
						t.Errorf("%s id %s %s: %q changed to %q, but no rule targets it", table, id, col, old, got)
					}
				case hexHMAC[exp] != nil:
					if !hexHMAC[exp].MatchString(got) {
						t.Errorf("%s id %s %s = %q, want an HMAC-SHA256 in hex (%s)", table, id, col, got, exp)
						continue
					}
					if m, ok := masks[old]; ok && m != got {
						t.Errorf("%s id %s %s: %q masked to %s here and %s elsewhere in the same request", table, id, col, old, got, m)
					}
					if o, ok := origs[got]; ok && o != old {
						t.Errorf("%s id %s %s: %q and %q have the same mask", table, id, col, old, o)
					}
					masks[old], origs[got] = got, old
				default:
					if got != exp {
						t.Errorf("%s id %s %s = %q, want %q", table, id, col, got, exp)
					}
				}
			}
		}
	}
	if len(masks) == 0 && hasHMAC(want) {
		t.Error("no HMAC-masked cell was checked")
	}
}

func hasHMAC(want map[string]map[string]map[string]string) bool {
	for _, rows := range want {
		for _, row := range rows {
			for _, v := range row {
				if hexHMAC[v] != nil {
					return true
				}
			}
		}
	}
	return false
}

// TestAccessAndErasure: on each backend, the access package for
// jane@example.com holds exactly testdata/access_jane.json, and the
// erasure changes exactly the cells of `erased`.
func TestAccessAndErasure(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "access_jane.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := canonicalJSON(t, golden)
	for _, kind := range backends {
		t.Run(kind, func(t *testing.T) {
			b := newBackend(t, kind)
			dir, results := b.config(t)
			before := dump(t, b.db)

			r := mustComplete(t, nil, dir, "--policy", "access", "--identity", "email=jane@example.com")
			wantPath := filepath.Join(results, r.request, "user_data.json")
			if r.request == "" || r.pkg != wantPath {
				t.Fatalf("package at %q, want %q:\n%s", r.pkg, wantPath, r)
			}
			if got := canonicalPackage(t, r.pkg); got != want {
				t.Errorf("package differs from testdata/access_jane.json\n got:\n%s\nwant:\n%s", got, want)
			}
			for _, c := range []string{"shop.customers", "shop.order_items", "COLLECTION", "FOUND", "MASKED"} {
				if !strings.Contains(r.stdout, c) {
					t.Errorf("the summary lacks %q:\n%s", c, r.stdout)
				}
			}
			if after := dump(t, b.db); !equalDumps(before, after) {
				t.Error("an access request changed the database")
			}

			e := mustComplete(t, nil, dir, "--policy", "erasure", "--identity", "email=jane@example.com")
			if e.pkg != "" {
				t.Errorf("an erasure-only policy wrote a package: %s", e.pkg)
			}
			checkErasure(t, before, dump(t, b.db), erased)
			for _, line := range []string{"shop.customers        1      1", "shop.logins           3      3", "shop.orders           3      0"} {
				if !strings.Contains(e.stdout, line) {
					t.Errorf("the erasure summary lacks %q:\n%s", line, e.stdout)
				}
			}
		})
	}
}

func equalDumps(a, b map[string]map[string]map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for table, rows := range a {
		if len(rows) != len(b[table]) {
			return false
		}
		for id, row := range rows {
			for col, v := range row {
				if b[table][id][col] != v {
					return false
				}
			}
		}
	}
	return true
}

// TestUnknownIdentityFindsNothing: a request for someone who is not in
// the data completes with an empty package and changes nothing.
func TestUnknownIdentityFindsNothing(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := b.config(t)
	before := dump(t, b.db)
	r := mustComplete(t, nil, dir, "--policy", "access_and_erasure", "--identity", "email=nobody@example.com")
	if got := canonicalPackage(t, r.pkg); got != "\n" {
		t.Errorf("package for an unknown person: %q", got)
	}
	if !equalDumps(before, dump(t, b.db)) {
		t.Error("a request that matched nobody changed the database")
	}
}

// TestBadInvocations: usage errors exit 2 before any request is created.
func TestBadInvocations(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := b.config(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--policy", "nope", "--identity", "email=a@b"}, "nope"},
		{[]string{"--policy", "access"}, "identity"},
		{[]string{"--policy", "access", "--identity", "email"}, "email"},
	} {
		r := run(t, nil, dir, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("lethe run %v: want a failure mentioning %q:\n%s", tc.args, tc.want, r)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "results")); err == nil {
		t.Error("a refused invocation wrote a package")
	}
}
