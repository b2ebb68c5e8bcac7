package importer

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/lethehq/lethe/core/dataset"
)

func TestParseFidesopsPostgresExample(t *testing.T) {
	dss, warnings, err := ParseFidesops(readTestdata(t, "postgres_example.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("unexpected warnings: %q", warnings)
	}
	if len(dss) != 1 {
		t.Fatalf("got %d datasets, want 1", len(dss))
	}
	ds := dss[0]
	if ds.Name != "postgres_example" || !strings.HasPrefix(ds.Description, "Example of a Postgres dataset") || ds.Connection != "" {
		t.Errorf("dataset = %q %q connection %q", ds.Name, ds.Description, ds.Connection)
	}
	var names []string
	for _, c := range ds.Collections {
		names = append(names, c.Name)
	}
	wantNames := []string{"address", "customer", "employee", "login", "orders", "order_item", "payment_card", "product", "report", "service_request", "visit"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("collections = %v, want %v (declaration order)", names, wantNames)
	}

	name := ds.Collection("customer").Field(dataset.Path{"name"})
	if name.Length != 40 || name.Type != "string" || !slices.Equal(name.Categories, []string{"user.name"}) {
		t.Errorf("customer.name = %+v", name)
	}
	if email := ds.Collection("customer").Field(dataset.Path{"email"}); email.Identity != "email" {
		t.Errorf("customer.email identity = %q", email.Identity)
	}
	if id := ds.Collection("customer").Field(dataset.Path{"id"}); !id.PrimaryKey || id.Type != "integer" {
		t.Errorf("customer.id = %+v", id)
	}
	refs := []struct {
		coll, field string
		want        dataset.Reference
	}{
		{"customer", "address_id", dataset.Reference{Target: dataset.FieldAddress{Dataset: "postgres_example", Collection: "address", Field: dataset.Path{"id"}}, Direction: dataset.DirectionTo}},
		{"orders", "customer_id", dataset.Reference{Target: dataset.FieldAddress{Dataset: "postgres_example", Collection: "customer", Field: dataset.Path{"id"}}, Direction: dataset.DirectionFrom}},
		{"login", "customer_id", dataset.Reference{Target: dataset.FieldAddress{Dataset: "postgres_example", Collection: "customer", Field: dataset.Path{"id"}}, Direction: dataset.DirectionEither}},
	}
	for _, r := range refs {
		f := ds.Collection(r.coll).Field(dataset.Path{r.field})
		if len(f.References) != 1 {
			t.Fatalf("%s.%s references = %v", r.coll, r.field, f.References)
		}
		got := f.References[0]
		if got.Target.String() != r.want.Target.String() || got.Direction != r.want.Direction {
			t.Errorf("%s.%s reference = %v %q, want %v %q", r.coll, r.field, got.Target, got.Direction, r.want.Target, r.want.Direction)
		}
		if got.Range.Start.Line == 0 {
			t.Errorf("%s.%s reference has no position", r.coll, r.field)
		}
	}
	if got := ds.Collection("orders").After; !slices.Equal(got, []string{"postgres_example.login"}) {
		t.Errorf("orders after = %v", got)
	}
	if got := ds.Collection("product").Field(dataset.Path{"price"}).Type; got != "float" {
		t.Errorf("product.price type = %q", got)
	}
}

func TestParseFidesopsMongoExample(t *testing.T) {
	dss, warnings, err := ParseFidesops(readTestdata(t, "mongo_example.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("unexpected warnings: %q", warnings)
	}
	ds := dss[0]
	if !slices.Equal(ds.After, []string{"postgres_example"}) {
		t.Errorf("dataset after = %v", ds.After)
	}
	details := ds.Collection("customer_details")
	cases := []struct {
		path      dataset.Path
		typ       string
		array     bool
		all       bool
		cats      []string
		identity  string
		subfields int
	}{
		{dataset.Path{"_id"}, "object_id", false, false, []string{"system.operations"}, "", 0},
		{dataset.Path{"workplace_info"}, "object", false, false, nil, "", 3},
		{dataset.Path{"workplace_info", "direct_reports"}, "string", true, false, []string{"user.name"}, "", 0},
		{dataset.Path{"emergency_contacts"}, "object", true, false, nil, "", 3},
		{dataset.Path{"children"}, "string", true, false, []string{"user.childrens"}, "", 0},
	}
	for _, c := range cases {
		f := details.Field(c.path)
		if f == nil {
			t.Fatalf("no field %s", c.path)
		}
		if f.Type != c.typ || f.Array != c.array || f.ReturnAllElements != c.all || !slices.Equal(f.Categories, c.cats) || f.Identity != c.identity || len(f.Fields) != c.subfields {
			t.Errorf("field %s = type %q array %t all %t cats %v identity %q subfields %d", c.path, f.Type, f.Array, f.ReturnAllElements, f.Categories, f.Identity, len(f.Fields))
		}
	}
	// An object field without data_type stays untyped; IsObject still holds.
	ids := ds.Collection("internal_customer_profile").Field(dataset.Path{"customer_identifiers"})
	if ids.Type != "" || !ids.IsObject() {
		t.Errorf("customer_identifiers type %q object %t", ids.Type, ids.IsObject())
	}
	phone := ds.Collection("internal_customer_profile").Field(dataset.Path{"customer_identifiers", "derived_phone"})
	if !phone.ReturnAllElements || phone.Identity != "phone_number" || !phone.Array {
		t.Errorf("derived_phone = %+v", phone)
	}
	owner := ds.Collection("rewards").Field(dataset.Path{"owner"})
	if !owner.ReturnAllElements || owner.Type != "object" || !owner.Array {
		t.Errorf("rewards.owner = %+v", owner)
	}
	ref := details.Field(dataset.Path{"comments", "comment_id"}).References[0]
	if ref.Target.Collection != "conversations" || !slices.Equal(ref.Target.Field, dataset.Path{"thread", "comment"}) {
		t.Errorf("comment_id reference = %v", ref.Target)
	}
}

func TestFidesopsOutput(t *testing.T) {
	out, _, err := Fidesops(readTestdata(t, "mongo_example.yml"), "testdata/mongo_example.yml", Options{Connection: "mongo"})
	if err != nil {
		t.Fatal(err)
	}
	body := parseHCL(t, out)
	ds := block(t, body, "dataset", "mongo_example")
	if got := attr(t, ds, "connection"); got != cty.StringVal("mongo") {
		t.Errorf("connection = %#v", got)
	}
	if got := strs(attr(t, ds, "after")); !slices.Equal(got, []string{"postgres_example"}) {
		t.Errorf("after = %v", got)
	}
	if got := attr(t, ds, "description"); got != cty.StringVal("Details about the customers of postgres_example, kept in MongoDB") {
		t.Errorf("description = %#v", got)
	}
	contacts := block(t, ds, "collection", "customer_details", "field", "emergency_contacts")
	if got := attr(t, contacts, "type"); got != cty.StringVal("object[]") {
		t.Errorf("emergency_contacts type = %#v", got)
	}
	phone := block(t, contacts, "field", "phone")
	if got := strs(attr(t, phone, "categories")); !slices.Equal(got, []string{"user.contact.phone_number"}) {
		t.Errorf("emergency_contacts.phone categories = %v", got)
	}
	owner := block(t, ds, "collection", "rewards", "field", "owner")
	if attr(t, owner, "return_all_elements") != cty.True {
		t.Error("rewards.owner lost return_all_elements")
	}
	ref := block(t, owner, "field", "phone", "reference", "mongo_example.internal_customer_profile.customer_identifiers.derived_phone")
	if got := attr(t, ref, "direction"); got != cty.StringVal("from") {
		t.Errorf("direction = %#v", got)
	}
	// The dataset's name has no attribute: it is a comment.
	if !strings.Contains(string(out), "# Fidesops name: Mongo Example Test Dataset") {
		t.Errorf("name not kept as a comment:\n%s", out)
	}
}

// TestFidesopsPreservesModel checks that the HCL carries every piece of
// the model (decoded here without core/config; see roundtrip_test.go for
// the loader).
func TestFidesopsPreservesModel(t *testing.T) {
	for _, name := range []string{"postgres_example.yml", "mongo_example.yml", "legacy_quirks.yml", "json_list.json"} {
		t.Run(name, func(t *testing.T) {
			src := readTestdata(t, name)
			want, _, err := ParseFidesops(src)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := Fidesops(src, name, Options{Connection: "db"})
			if err != nil {
				t.Fatal(err)
			}
			for _, ds := range want {
				ds.Connection = "db"
			}
			assertSameModel(t, want, decodeHCL(t, out))
		})
	}
}

func TestFidesopsDefaultConnection(t *testing.T) {
	out, warnings, err := Fidesops(readTestdata(t, "json_list.json"), "list.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := attr(t, block(t, parseHCL(t, out), "dataset", "json_api"), "connection"); got != cty.StringVal("json_api") {
		t.Errorf("connection = %#v, want the fides_key", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `connection "json_api"`) || !strings.Contains(warnings[0], "--connection") || !strings.HasPrefix(warnings[0], "list.json:2:3:") {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestFidesopsWarnings(t *testing.T) {
	src := readTestdata(t, "legacy_quirks.yml")
	out, warnings, err := Fidesops(src, "legacy_quirks.yml", Options{Connection: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ pos, text string }{
		{"legacy_quirks.yml:25:", `data category "user.provided.identifiable" of collection "legacy_shop.customer"`},
		{"legacy_quirks.yml:26:", "`after` directly under collection"},
		{"legacy_quirks.yml:34:", `(did you mean "user.contact.email"`},
		{"legacy_quirks.yml:39:", `(did you mean "user.contact.address.city"`},
		{"legacy_quirks.yml:42:", `read_only on field "legacy_shop.customer.city"`},
		{"legacy_quirks.yml:44:", `(did you mean "user.demographic.gender"`},
		{"legacy_quirks.yml:48:", `unknown key "data_categories" in fidesops_meta of field "legacy_shop.customer.travel_identifiers"`},
		{"legacy_quirks.yml:51:", `unknown key "x-owner"`},
		{"legacy_quirks.yml:57:", `unknown key "comment" in a reference`},
		{"legacy_quirks.yml:60:", `identity "email" on field "legacy_shop.customer.profile" is ignored`},
		{"legacy_quirks.yml:61:", `primary_key on field "legacy_shop.customer.profile" is ignored`},
		{"legacy_quirks.yml:72:", `"user.contact.street"`},
		{"legacy_quirks.yml:74:", `data category "user.derived"`},
		{"legacy_quirks.yml:77:", `has no field "mail"`},
		{"legacy_quirks.yml:79:", `top-level key "system"`},
	}
	if len(warnings) != len(want) {
		t.Errorf("got %d warnings, want %d:\n%s", len(warnings), len(want), strings.Join(warnings, "\n"))
	}
	for _, w := range want {
		found := false
		for _, got := range warnings {
			if strings.HasPrefix(got, w.pos) && strings.Contains(got, w.text) {
				found = true
			}
		}
		if !found {
			t.Errorf("no warning at %s containing %s", w.pos, w.text)
		}
	}
	// Everything warned about is still in the output, as a comment.
	for _, kept := range []string{
		"x-owner: billing-team",
		"comment: joins on the surrogate key",
		"(in fidesops_meta): data_categories: [system.operations]",
		"after: [legacy_shop.address]",
		"fides_key: shop_system",
		`Fidesops identity "email"`,
		"Fidesops read_only: true",
		"Fidesops organization_fides_key: default_organization",
		"Fidesops retention: 30 days after account deletion",
		"Fidesops third_country_transfers: [USA, CAN]",
		"#   email: privacy@example.com",
		"#   resource_id: shop_db",
		`Fidesops description: "Customers; \"quoted\" and ${not_a_template}"`,
		"Fidesops description: Surrogate key",
		"Fidesops data_qualifier: aggregated\n",
	} {
		if !strings.Contains(string(out), kept) {
			t.Errorf("output lost %q", kept)
		}
	}
	// Unknown categories stay on their fields.
	city := block(t, parseHCL(t, out), "dataset", "legacy_shop", "collection", "customer", "field", "city")
	if got := strs(attr(t, city, "categories")); !slices.Equal(got, []string{"user.contact.city"}) {
		t.Errorf("city categories = %v", got)
	}
}

// TestFidesopsKeepsComments: every YAML comment reaches the output, once.
func TestFidesopsKeepsComments(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yml")
	if len(files) < 3 {
		t.Fatalf("testdata has %d YAML files", len(files))
	}
	comment := regexp.MustCompile(`(?m)#\s*(.+)$`)
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := Fidesops(src, file, Options{Connection: "c"})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		want := map[string]int{}
		for _, m := range comment.FindAllStringSubmatch(string(src), -1) {
			want[strings.TrimSpace(m[1])]++
		}
		for text, n := range want {
			// Exactly as often as in the YAML: neither lost nor repeated.
			if got := strings.Count(string(out), "# "+text+"\n"); got != n {
				t.Errorf("%s: comment %q appears %d times in the output, %d in the YAML", file, text, got, n)
			}
		}
	}
}

func TestFidesopsEscapes(t *testing.T) {
	src := `dataset:
  - fides_key: esc
    description: "has \"quotes\", ${interpolation}, %{directives} and a\nnewline"
    collections:
      - name: "weird \"coll\""
        fields:
          - name: "${x}"
            data_categories: [user.name]
            fidesops_meta:
              identity: "e\\mail"
`
	out, _, err := Fidesops([]byte(src), "esc.yml", Options{Connection: "c"})
	if err != nil {
		t.Fatal(err)
	}
	ds := block(t, parseHCL(t, out), "dataset", "esc")
	if got := attr(t, ds, "description"); got != cty.StringVal("has \"quotes\", ${interpolation}, %{directives} and a\nnewline") {
		t.Errorf("description = %#v\n%s", got, out)
	}
	f := block(t, ds, "collection", `weird "coll"`, "field", "${x}")
	if got := attr(t, f, "identity"); got != cty.StringVal(`e\mail`) {
		t.Errorf("identity = %#v", got)
	}
}

func TestFidesopsMultipleDocuments(t *testing.T) {
	src := `dataset:
  - fides_key: one
    collections:
      - name: a
        fields:
          - name: email
            data_categories: [user.contact.email]
            fidesops_meta: {identity: email}
---
- fides_key: two
  collections:
    - name: b
      fields:
        - name: a_email
          fidesops_meta:
            references: [{dataset: one, field: a.email, direction: from}]
`
	dss, _, err := ParseFidesops([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(dss) != 2 || dss[0].Name != "one" || dss[1].Name != "two" {
		t.Fatalf("datasets = %s", dump(dss))
	}
}

func TestFidesopsErrors(t *testing.T) {
	head := "dataset:\n  - fides_key: ds\n    collections:\n      - name: c\n        fields:\n"
	field := func(meta string) string {
		return head + "          - name: f\n            fidesops_meta:\n" + meta
	}
	cases := []struct {
		name, src string
		line      int
		want      string
	}{
		{"unclosed flow list", "dataset: [\n", 1, "invalid YAML"},
		{"mapping on line 1", "dataset: a: b\n", 1, "invalid YAML: mapping values are not allowed"},
		{"tab indentation", "dataset:\n\t- fides_key: x\n", 2, "invalid YAML"},
		{"control character", "dataset:\n  - fides_key: x\x01\n", 2, "invalid YAML: control characters"},
		{"invalid UTF-8", "dataset:\n  - fides_key: ok\n  - fides_key: \xff\n", 3, "invalid YAML"},
		{"empty", "", 1, "no dataset found"},
		{"no dataset key", "datasets:\n  - fides_key: x\n", 1, "no `dataset:` key"},
		{"scalar document", "hello\n", 1, "expected a top-level `dataset:` list"},
		{"dataset not a list", "dataset: {fides_key: x}\n", 1, "must be a list"},
		{"missing fides_key", "dataset:\n  - name: x\n    collections: []\n", 2, "needs a fides_key"},
		{"bad fides_key", "dataset:\n  - fides_key: \"a b\"\n    collections: []\n", 2, "must only contain letters"},
		{"dotted fides_key", "dataset:\n  - fides_key: a.b\n    collections: []\n", 2, "contains a '.'"},
		{"missing collections", "dataset:\n  - fides_key: x\n", 2, "has no collections"},
		{"duplicate dataset", "dataset:\n  - fides_key: x\n    collections: []\n  - fides_key: x\n    collections: []\n", 4, `dataset "x" is declared twice (first on line 2)`},
		{"duplicate key", "dataset:\n  - fides_key: x\n    fides_key: y\n    collections: []\n", 3, `key "fides_key" appears twice`},
		{"collection without name", "dataset:\n  - fides_key: x\n    collections:\n      - fields: []\n", 4, "has no name"},
		{"collection without fields", "dataset:\n  - fides_key: x\n    collections:\n      - name: c\n", 4, "has no fields"},
		{"duplicate collection", "dataset:\n  - fides_key: x\n    collections:\n      - {name: c, fields: []}\n      - {name: c, fields: []}\n", 5, `collection "c" appears twice`},
		{"collection after form", "dataset:\n  - fides_key: x\n    collections:\n      - name: c\n        fidesops_meta: {after: [other]}\n        fields: []\n", 5, "must be written dataset.collection"},
		{"field without name", head + "          - data_categories: [user]\n", 6, "has no name"},
		{"duplicate field", head + "          - name: f\n          - name: f\n", 7, `field "f" appears twice`},
		{"bad data_type", field("              data_type: text\n"), 8, `the data type "text" of field "ds.c.f" is not supported`},
		{"double array", field("              data_type: string[][]\n"), 8, "is not supported"},
		{"zero length", field("              data_type: string\n              length: 0\n"), 9, "only positive non-zero values"},
		{"length not a number", field("              length: forty\n"), 8, "must be a whole number"},
		{"return_all_elements on scalar", field("              data_type: string\n              return_all_elements: true\n"), 9, "can only be given on array fields"},
		{"primary_key not boolean", field("              primary_key: maybe\n"), 8, "must be true or false"},
		{"bad direction", field("              references:\n                - {dataset: ds, field: c.g, direction: sideways}\n"), 9, `direction of a reference of field "ds.c.f" is "sideways"`},
		{"reference without collection", field("              references:\n                - {dataset: ds, field: g}\n"), 9, "must be written collection.field"},
		{"reference without dataset", field("              references:\n                - {field: c.g}\n"), 9, "has no dataset"},
		{"reference with empty part", field("              references:\n                - {dataset: ds, field: c..g}\n"), 9, "empty part"},
		{"sub-fields on a string", head + "          - name: f\n            fidesops_meta: {data_type: string}\n            fields:\n              - name: g\n", 8, "must be object or object[]"},
		{"categories on an object", head + "          - name: f\n            data_categories: [user]\n            fields:\n              - name: g\n", 7, "cannot have data_categories"},
		{"categories not a list", head + "          - name: f\n            data_categories: user\n", 7, "must be a list"},
		{"fields not a list", "dataset:\n  - fides_key: x\n    collections:\n      - name: c\n        fields: {a: b}\n", 5, "must be a list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := Fidesops([]byte(c.src), "in.yml", Options{})
			if err == nil {
				t.Fatalf("no error; output:\n%s", out)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, not *Error", err, err)
			}
			if e.File != "in.yml" || e.Line != c.line || !strings.Contains(e.Msg, c.want) {
				t.Errorf("error = %q (line %d), want line %d and %q", err, e.Line, c.line, c.want)
			}
			if out != nil {
				t.Errorf("output on error: %s", out)
			}
		})
	}
}

func TestFidesopsMergeKeysAndAliases(t *testing.T) {
	src := `common: &email
  data_categories: [user.contact.email]
  fidesops_meta: {identity: email, data_type: string}
dataset:
  - fides_key: m
    collections:
      - name: a
        fields:
          - <<: *email
            name: email
          - <<: *email
            name: alt_email
            data_categories: [user.contact]
`
	dss, warnings, err := ParseFidesops([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := dss[0].Collection("a")
	if f := a.Field(dataset.Path{"email"}); f.Identity != "email" || !slices.Equal(f.Categories, []string{"user.contact.email"}) {
		t.Errorf("email = %+v", f)
	}
	if f := a.Field(dataset.Path{"alt_email"}); f.Identity != "email" || !slices.Equal(f.Categories, []string{"user.contact"}) {
		t.Errorf("alt_email (own key wins over merged) = %+v", f)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `top-level key "common"`) {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestFidesopsAliasBomb(t *testing.T) {
	// Each level doubles the expansion: 2^40 nodes if walked naively.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x]\n")
	for i := 1; i <= 40; i++ {
		b.WriteString("a" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " [*a" + strconv.Itoa(i-1) + ", *a" + strconv.Itoa(i-1) + "]\n")
	}
	b.WriteString("dataset:\n  - fides_key: x\n    tags: *a40\n    collections: []\n")
	_, _, err := Fidesops([]byte(b.String()), "bomb.yml", Options{})
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("err = %v, want a size error", err)
	}
}

func TestFidesopsNameWarnings(t *testing.T) {
	src := "dataset:\n  - fides_key: n\n    collections:\n      - name: public.users\n        fields:\n          - name: \"cafe\u0301\"\n          - name: a.b\n"
	_, warnings, err := ParseFidesops([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`4:9: collection "n.public.users" has a '.' in its name`,
		"6:13: the name of field \"n.public.users.cafe\u0301\" is not in Unicode normalization form C; HCL will store it as \"caf\\u00e9\"",
		`7:13: field "n.public.users.a.b" has a '.' in its name`,
	}
	if len(warnings) != len(want) {
		t.Fatalf("warnings = %q", warnings)
	}
	for i, w := range want {
		if !strings.HasPrefix(warnings[i], "<input>:"+w[:strings.Index(w, " ")]) || !strings.Contains(warnings[i], w[strings.Index(w, " ")+1:]) {
			t.Errorf("warning %d = %q, want %q", i, warnings[i], w)
		}
	}
}

// TestFidesopsLetheRules: what Fidesops let pass but Lethe rejects is
// reported, and repetitions are collapsed.
func TestFidesopsLetheRules(t *testing.T) {
	src := `dataset:
  - fides_key: r
    collections:
      - name: a
        fields:
          - name: id
            fidesops_meta: {primary_key: true}
      - name: b
        fields:
          - name: email
            data_categories: [user.contact.email, user.contact.email]
            fidesops_meta:
              identity: email
              references:
                - {dataset: r, field: a.id, direction: to}
                - {dataset: r, field: a.id, direction: to}
          - name: a_id
            fidesops_meta:
              references:
                - {dataset: r, field: a.id, direction: to}
                - {dataset: r, field: a.id}
          - name: doc
            fidesops_meta:
              references: [{dataset: r, field: a.id}]
            fields:
              - name: x
`
	dss, warnings, err := ParseFidesops([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	b := dss[0].Collection("b")
	email := b.Field(dataset.Path{"email"})
	if !slices.Equal(email.Categories, []string{"user.contact.email"}) || len(email.References) != 1 {
		t.Errorf("email = %v, %v; want repetitions collapsed", email.Categories, email.References)
	}
	if got := b.Field(dataset.Path{"a_id"}).References; len(got) != 2 {
		t.Errorf("a_id references = %v; both directions are kept for the operator to choose", got)
	}
	want := []string{
		`<input>:11:30: data category "user.contact.email" is listed twice on field "r.b.email"`,
		`<input>:16:19: field "r.b.email" refers to "r.a.id" twice; the output keeps one`,
		`<input>:21:19: field "r.b.a_id" refers to "r.a.id" twice, with directions "to" and "either"`,
		`<input>:24:15: field "r.b.doc" is an object with references`,
	}
	if len(warnings) != len(want) {
		t.Fatalf("warnings:\n%s", strings.Join(warnings, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(warnings[i], w) {
			t.Errorf("warning %d = %q, want prefix %q", i, warnings[i], w)
		}
	}
}
