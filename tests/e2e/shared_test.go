package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// carolErased is what the example erasure policy does to
// carol@example.com's rows: her employee record and her home address.
// The tickets assigned to her are Jane's and Alice's (the reference from
// support_tickets.assignee_id is shared): nothing in them changes.
var carolErased = map[string]map[string]map[string]string{
	"employees": {"1": {"email": "H", "name": "MASKED"}},
	"addresses": {"5": {"street": "NULL", "city": "NULL", "state": "NULL", "postal_code": "NULL", "country": "NULL"}},
}

// TestSharedRowsAreNotTheSubjects: carol@example.com is the support agent
// assigned to Jane's ticket 1 and Alice's ticket 3. Her access package
// holds her own data and, of those tickets, only the field that points at
// her; her erasure changes none of Jane's, Alice's or Bob's cells. Before
// shared references, her package held both tickets with Jane's and
// Alice's e-mail addresses, and her erasure nulled Jane's ticket text and
// masked Jane's, Alice's and Bob's addresses.
func TestSharedRowsAreNotTheSubjects(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "access_carol.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := canonicalJSON(t, golden)
	for _, kind := range backends {
		t.Run(kind, func(t *testing.T) {
			b := newBackend(t, kind)
			dir, _ := b.config(t)
			before := dump(t, b.db)

			r := mustComplete(t, nil, dir, "--policy", "access", "--identity", "email=carol@example.com")
			got := canonicalPackage(t, r.pkg)
			if got != want {
				t.Errorf("Carol's package differs from testdata/access_carol.json\n got:\n%s\nwant:\n%s", got, want)
			}
			for _, other := range []string{"jane", "alice", "bob", "Order 3", "Cancel order"} {
				if strings.Contains(strings.ToLower(got), strings.ToLower(other)) {
					t.Errorf("Carol's package holds %q, someone else's data:\n%s", other, got)
				}
			}
			if !strings.Contains(r.stdout, "Shared, not erased: shop.support_tickets (2 rows)") {
				t.Errorf("the run summary does not list the shared tickets:\n%s", r.stdout)
			}

			e := mustComplete(t, nil, dir, "--policy", "erasure", "--identity", "email=carol@example.com")
			checkErasure(t, before, dump(t, b.db), carolErased)
			if !strings.Contains(e.stdout, "Shared, not erased: shop.support_tickets (2 rows)") {
				t.Errorf("the erasure summary does not list the shared tickets:\n%s", e.stdout)
			}
		})
	}
}

// TestPlanListsSharedRows: lethe plan says which rows are shared, not
// erased, before anything runs.
func TestPlanListsSharedRows(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := b.config(t)
	bin, _ := binaries(t)
	out, err := exec.Command(bin, "plan", dir, "--policy", "erasure", "--identity", "email=carol@example.com", "--queries=false").CombinedOutput()
	if err != nil {
		t.Fatalf("lethe plan: %v\n%s", err, out)
	}
	for _, want := range []string{
		"assignee_id <- shop.employees.id  (shared)",
		"Shared, not erased",
		"shop.support_tickets  rows found only by assignee_id",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the plan lacks %q:\n%s", want, out)
		}
	}
}
