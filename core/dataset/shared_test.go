package dataset

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestSharedReferenceWarning: lethe validate asks about references that
// look like one person pointing at another, unless shared is declared
// either way.
func TestSharedReferenceWarning(t *testing.T) {
	person := func(name string, fields ...*Field) *Collection {
		return &Collection{Name: name, Fields: append([]*Field{
			{Name: "id", Type: "integer", PrimaryKey: true},
			{Name: "email", Type: "string", Identity: "email", Categories: []string{"user.contact.email"}},
		}, fields...)}
	}
	thing := func(name string, fields ...*Field) *Collection {
		return &Collection{Name: name, Fields: append([]*Field{{Name: "id", Type: "integer", PrimaryKey: true}}, fields...)}
	}
	refTo := func(coll string, shared, declared bool) Reference {
		r := Reference{Target: FieldAddress{Dataset: "app", Collection: coll, Field: Path{"id"}}, Direction: DirectionFrom, Shared: shared}
		if declared {
			r.Ranges = map[string]hcl.Range{"shared": {}}
		}
		return r
	}
	cases := []struct {
		name  string
		colls []*Collection
		want  string // "" when no warning
	}{
		{"role name", []*Collection{person("staff"), thing("tickets", &Field{Name: "assignee_id", Type: "integer", References: []Reference{refTo("staff", false, false)}})},
			"the field's name (assignee_id) names a role"},
		{"camel case role name", []*Collection{person("users"), thing("accounts", &Field{Name: "referredBy", Type: "integer", References: []Reference{refTo("users", false, false)}})},
			"(referredBy) names a role"},
		{"two person collections", []*Collection{person("customers"), person("contacts", &Field{Name: "friend_id", Type: "integer", References: []Reference{refTo("customers", false, false)}})},
			"both collections hold people"},
		{"owner named after the collection", []*Collection{person("customers"), person("profiles", &Field{Name: "customer_id", Type: "integer", References: []Reference{refTo("customers", false, false)}})},
			""},
		{"owner is the row's owner", []*Collection{person("users"), thing("accounts", &Field{Name: "owner_id", Type: "integer", References: []Reference{refTo("users", false, false)}})},
			""},
		{"object path names the collection", []*Collection{person("customer_feedback"), person("profiles", &Field{Name: "customer_identifiers", Fields: []*Field{{Name: "ref", Type: "integer", References: []Reference{refTo("customer_feedback", false, false)}}}})},
			""},
		{"same kind of value", []*Collection{
			{Name: "profiles", Fields: []*Field{{Name: "id", Type: "integer"}, {Name: "derived_phone", Type: "string", Identity: "phone_number"}}},
			person("rewards", &Field{Name: "phone", Type: "string", References: []Reference{{Target: FieldAddress{"app", "profiles", Path{"derived_phone"}}}}})},
			""},
		{"plain child rows", []*Collection{person("customers"), thing("orders", &Field{Name: "buyer", Type: "integer", References: []Reference{refTo("customers", false, false)}})},
			""},
		{"declared shared", []*Collection{person("staff"), thing("tickets", &Field{Name: "assignee_id", Type: "integer", References: []Reference{refTo("staff", true, true)}})},
			""},
		{"declared not shared", []*Collection{person("staff"), thing("tickets", &Field{Name: "owner_id", Type: "integer", References: []Reference{refTo("staff", false, true)}})},
			""},
		{"shared from Go, no ranges", []*Collection{person("staff"), thing("tickets", &Field{Name: "manager", Type: "integer", References: []Reference{refTo("staff", true, false)}})},
			""},
		{"role name on the referenced side", []*Collection{thing("teams", &Field{Name: "manager_id", Type: "integer"}), thing("members", &Field{Name: "team_lead", Type: "integer",
			References: []Reference{{Target: FieldAddress{"app", "teams", Path{"manager_id"}}}}})},
			"the referenced field's name (manager_id)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			probs := Validate([]*Dataset{{Name: "app", Connection: "db", Collections: tc.colls}}, ValidateOptions{})
			var warns []string
			for _, p := range probs {
				if p.Severity == Error {
					t.Fatalf("unexpected error: %v", p)
				}
				warns = append(warns, p.Error())
			}
			switch {
			case tc.want == "" && len(warns) > 0:
				t.Errorf("unexpected warnings: %v", warns)
			case tc.want != "" && (len(warns) != 1 || !strings.Contains(warns[0], tc.want) || !strings.Contains(warns[0], "shared = true")):
				t.Errorf("warnings %v, want one mentioning %q and how to declare it shared", warns, tc.want)
			}
		})
	}
}

func TestWords(t *testing.T) {
	for in, want := range map[string]string{
		"assignee_id": "assignee id", "referredBy": "referred by", "created-by": "created by", "ID": "id", "customerID": "customer id",
	} {
		if got := strings.Join(words(in), " "); got != want {
			t.Errorf("words(%q) = %q, want %q", in, got, want)
		}
	}
}
