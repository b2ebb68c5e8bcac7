package taxonomy

import (
	"reflect"
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	tax := Default()
	keys := tax.Keys()
	if len(keys) != 86 {
		t.Fatalf("default taxonomy has %d categories, want the 86 of data-categories.txt", len(keys))
	}
	for _, k := range []string{Root, "user", "system.operations", "user.contact.address.city", "user.unique_id.pseudonymous"} {
		if !tax.Has(k) {
			t.Errorf("missing %q", k)
		}
	}
	for _, k := range []string{"", "user.contact.city", "user.provided.identifiable", "User"} {
		if tax.Has(k) {
			t.Errorf("unexpected %q", k)
		}
	}
	if c := tax.Get("user.contact.email"); c == nil || c.Parent != "user.contact" || c.Name != "User Contact Email" || !c.Default {
		t.Fatalf("Get(user.contact.email) = %+v", c)
	}
	// Every parent exists, and every key but the top-level ones extends its parent.
	for _, k := range keys {
		c := tax.Get(k)
		if k == Root {
			continue
		}
		if !tax.Has(c.Parent) {
			t.Errorf("%q: parent %q missing", k, c.Parent)
		}
		if c.Parent != Root && !strings.HasPrefix(k, c.Parent+".") {
			t.Errorf("%q does not extend its parent %q", k, c.Parent)
		}
	}
}

func TestDefaultReturnsCopies(t *testing.T) {
	a := Default()
	if err := a.Add("user.loyalty", "user", "points"); err != nil {
		t.Fatal(err)
	}
	if Default().Has("user.loyalty") {
		t.Fatal("Add on one taxonomy changed the default")
	}
}

func TestAdd(t *testing.T) {
	cases := []struct {
		name, parent string
		want         string // error substring; "" for success
	}{
		{"user.loyalty", "user", ""},
		{"user.contact.pager", "user.contact", ""},
		{"marketing", Root, ""},
		{"user.loyalty", "", `needs a parent, e.g. parent = "user"`},
		{"user.loyalty", "usr", `parent "usr" of data category "user.loyalty" does not exist (did you mean "user"?)`},
		{"user.loyalty", "user.contact", `its name must be "user.contact." followed by one segment, e.g. "user.contact.loyalty"`},
		{"user.a.b", "user", `its name must be "user." followed by one segment, e.g. "user.b"`},
		{"user.contact", "user", `"user.contact" is already in the default taxonomy`},
		{"user.bad name", "user", `the segment "bad name" may only contain letters, digits, '_' and '-'`},
		{"user.", "user", `the segment "" may only contain`},
		{"a.b", Root, `must be a single segment without dots`},
		{"", "user", "needs a name"},
	}
	for _, tc := range cases {
		tax := Default()
		err := tax.Add(tc.name, tc.parent, "d")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Add(%q, %q): %v", tc.name, tc.parent, err)
		case tc.want == "" && !tax.Has(tc.name):
			t.Errorf("Add(%q, %q) did not add it", tc.name, tc.parent)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Add(%q, %q) = %v; want an error containing %q", tc.name, tc.parent, err, tc.want)
		}
	}
	tax := Default()
	_ = tax.Add("user.loyalty", "user", "")
	if err := tax.Add("user.loyalty", "user", ""); err == nil || !strings.Contains(err.Error(), "declared twice") {
		t.Fatalf("second Add: %v", err)
	}
	if err := tax.Add("user.loyalty.points", "user.loyalty", "Balance"); err != nil {
		t.Fatalf("child of an added category: %v", err)
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		target, category string
		want             bool
	}{
		{"user.contact", "user.contact", true},
		{"user.contact", "user.contact.email", true},
		{"user.contact", "user.contact.address.city", true},
		{"user", "user.contact.email", true},
		{"user.contact", "user.contacts", false},
		{"user.contact", "user.contactless.x", false},
		{"user.contact.email", "user.contact", false},
		{"user.contact", "system.operations", false},
		{"", "user", false},
		{"user", "", false},
	}
	for _, c := range cases {
		if got := Match(c.target, c.category); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.target, c.category, got, c.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	tax := Default()
	cases := map[string][]string{
		"user.contact.emial": {"user.contact.email"},
		"user.contact.city":  {"user.contact.address.city"}, // moved under address
		"user.gender":        {"user.demographic.gender"},   // moved under demographic
		"usr":                {"user"},
		"completely.unknown": {},
	}
	for in, want := range cases {
		got := tax.Suggest(in)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Suggest(%q) = %v, want %v", in, got, want)
		}
	}
}
