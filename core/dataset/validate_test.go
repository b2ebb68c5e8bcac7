package dataset

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func field(name, typ string, cats ...string) *Field {
	return &Field{Name: name, Type: typ, Categories: cats}
}

func sample() []*Dataset {
	return []*Dataset{
		{Name: "app", Connection: "db", Collections: []*Collection{
			{Name: "customer", Fields: []*Field{
				{Name: "id", Type: "integer", PrimaryKey: true},
				{Name: "email", Type: "string", Identity: "email", Categories: []string{"user.contact.email"}},
				{Name: "profile", Fields: []*Field{field("city", "string", "user.contact.address.city")}},
			}},
			{Name: "orders", After: []string{"app.customer"}, Fields: []*Field{
				{Name: "customer_id", Type: "integer", References: []Reference{{
					Target: FieldAddress{Dataset: "app", Collection: "customer", Field: Path{"id"}}, Direction: DirectionFrom,
				}}},
				{Name: "tags", Type: "string", Array: true, ReturnAllElements: true},
			}},
		}},
		{Name: "mongo", Connection: "db", After: []string{"app"}, Collections: []*Collection{
			{Name: "details", Fields: []*Field{
				{Name: "city", References: []Reference{{Target: FieldAddress{Dataset: "app", Collection: "customer", Field: Path{"profile", "city"}}}}},
			}},
		}},
	}
}

// Datasets built in Go (as the JSON API will) validate without ranges.
func TestValidateWithoutHCL(t *testing.T) {
	cases := []struct {
		name   string
		change func([]*Dataset)
		want   string // "" for valid
	}{
		{"valid", func([]*Dataset) {}, ""},
		{"unknown connection", func(d []*Dataset) { d[0].Connection = "dbx" }, `Dataset "app" uses connection "dbx", which is not declared (did you mean "db"?)`},
		{"nested path reference missing", func(d []*Dataset) {
			d[1].Collections[0].Fields[0].References[0].Target.Field = Path{"profile", "town"}
		}, `references "app.customer.profile.town", but "app.customer.profile.town" is not declared`},
		{"reference into a scalar's children", func(d []*Dataset) {
			d[1].Collections[0].Fields[0].References[0].Target.Field = Path{"email", "x"}
		}, `"app.customer.email.x" is not declared`},
		{"type with brackets in Type", func(d []*Dataset) { d[0].Collections[0].Fields[0].Type = "integer[]" }, `has type "integer[]"`},
		{"object type carrying categories", func(d []*Dataset) {
			d[0].Collections[0].Fields[2].Categories = []string{"user"}
		}, `Field "app.customer.profile" is an object, which carries no categories itself`},
		{"primary key on object", func(d []*Dataset) { d[0].Collections[0].Fields[2].PrimaryKey = true }, "cannot be a primary key"},
		{"reference on object", func(d []*Dataset) {
			d[0].Collections[0].Fields[2].References = []Reference{{Target: FieldAddress{"mongo", "details", Path{"city"}}}}
		}, "whose values cannot find rows elsewhere"},
		{"duplicate dataset", func(d []*Dataset) { d[1].Name = "app" }, `A dataset named "app" is already declared; rename one`},
		{"identity with spaces", func(d []*Dataset) { d[0].Collections[0].Fields[1].Identity = " email" }, `identity " email" has surrounding spaces`},
		{"empty field name", func(d []*Dataset) { d[0].Collections[0].Fields[1].Name = "" }, `A field of app.customer has an empty name`},
		{"duplicate reference", func(d []*Dataset) {
			f := d[0].Collections[1].Fields[0]
			f.References = append(f.References, f.References[0])
		}, `references "app.customer.id" twice`},
		{"incomplete reference", func(d []*Dataset) {
			d[0].Collections[1].Fields[0].References[0].Target = FieldAddress{Dataset: "app"}
		}, "has a reference without dataset, collection or field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dss := sample()
			tc.change(dss)
			probs := Validate(dss, ValidateOptions{Connections: map[string]bool{"db": true}})
			var errs []string
			for _, p := range probs {
				if p.Range != (hcl.Range{}) {
					t.Errorf("problem %q has a range", p.Error())
				}
				if p.Severity == Error {
					errs = append(errs, p.Error())
				}
			}
			if tc.want == "" {
				if len(errs) > 0 {
					t.Fatalf("want valid, got %v", errs)
				}
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0], tc.want) {
				t.Fatalf("want one error containing %q, got %q", tc.want, errs)
			}
		})
	}
}

func TestConnectionsNotCheckedWithoutList(t *testing.T) {
	dss := sample()
	dss[0].Connection = "anything"
	if probs := Validate(dss, ValidateOptions{}); len(probs) != 0 {
		t.Fatalf("got %v", probs)
	}
}

func TestParseType(t *testing.T) {
	cases := []struct {
		in        string
		typ       string
		array, ok bool
	}{
		{"string", "string", false, true},
		{"object[]", "object", true, true},
		{"object_id", "object_id", false, true},
		{"", "", false, true},
		{"[]", "", true, false},
		{"strin", "strin", false, false},
		{"string[][]", "string[]", true, false},
	}
	for _, c := range cases {
		typ, array, ok := ParseType(c.in)
		if typ != c.typ || array != c.array || ok != c.ok {
			t.Errorf("ParseType(%q) = %q, %v, %v", c.in, typ, array, ok)
		}
	}
}

func TestParseFieldAddress(t *testing.T) {
	a, err := ParseFieldAddress("app.customer.address.city")
	if err != nil || a.Dataset != "app" || a.Collection != "customer" || a.Field.String() != "address.city" {
		t.Fatalf("got %+v, %v", a, err)
	}
	for _, bad := range []string{"app.customer", "app..id", "", ".a.b", "a.b."} {
		if _, err := ParseFieldAddress(bad); err == nil {
			t.Errorf("ParseFieldAddress(%q) accepted", bad)
		}
	}
}
