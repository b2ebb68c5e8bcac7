package plan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/lethehq/lethe/core/dataset"
)

func sharedRef(target string, dir dataset.Direction) fieldOpt {
	return func(f *dataset.Field) {
		ref(target, dir)(f)
		f.References[len(f.References)-1].Shared = true
	}
}

// TestSharedInputs: which collections the plan lists as shared, not erased,
// and with which fields, for collections with one or several incoming
// references, seeded or not.
func TestSharedInputs(t *testing.T) {
	cases := []struct {
		name string
		dss  []*dataset.Dataset
		want []Shared
	}{{
		name: "seeded collection with a shared input",
		dss: []*dataset.Dataset{ds("d",
			coll("staff", fld("id"), fld("email", ident("email"))),
			coll("tickets", fld("id"), fld("requester", ident("email")), fld("assignee_id", sharedRef("d.staff.id", from))),
		)},
		want: []Shared{{Address: dataset.CollectionAddress{Dataset: "d", Collection: "tickets"}, Fields: []dataset.Path{{"assignee_id"}}}},
	}, {
		name: "reached only through a shared reference",
		dss: []*dataset.Dataset{ds("d",
			coll("users", fld("id"), fld("email", ident("email"))),
			coll("referrals", fld("id"), fld("referrer_id", sharedRef("d.users.id", from))),
		)},
		want: []Shared{{Address: dataset.CollectionAddress{Dataset: "d", Collection: "referrals"}, Fields: []dataset.Path{{"referrer_id"}}, All: true}},
	}, {
		name: "shared and normal inputs",
		dss: []*dataset.Dataset{ds("d",
			coll("users", fld("id"), fld("email", ident("email"))),
			coll("accounts", fld("id"), fld("owner_id", ref("d.users.id", from)), fld("referrer_id", sharedRef("d.users.id", from))),
		)},
		want: []Shared{{Address: dataset.CollectionAddress{Dataset: "d", Collection: "accounts"}, Fields: []dataset.Path{{"referrer_id"}}}},
	}, {
		name: "shared reference oriented towards the declaring side's target",
		dss: []*dataset.Dataset{ds("d",
			coll("users", fld("id"), fld("email", ident("email")), fld("household_id", sharedRef("d.households.id", to))),
			coll("households", fld("id"), fld("street")),
		)},
		want: []Shared{{Address: dataset.CollectionAddress{Dataset: "d", Collection: "households"}, Fields: []dataset.Path{{"id"}}, All: true}},
	}, {
		name: "no shared reference",
		dss: []*dataset.Dataset{ds("d",
			coll("users", fld("id"), fld("email", ident("email"))),
			coll("orders", fld("id"), fld("user_id", ref("d.users.id", from))),
		)},
		want: nil,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(build(t, tc.dss), Options{Identities: []string{"email"}, Erasure: true})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Shared, tc.want) {
				t.Fatalf("shared %+v, want %+v", p.Shared, tc.want)
			}
			var buf bytes.Buffer
			if err := p.Render(&buf); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(buf.String(), "Shared, not erased"); got != (len(tc.want) > 0) {
				t.Errorf("text plan lists shared rows: %v, want %v:\n%s", got, len(tc.want) > 0, buf.String())
			}
			js, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var out struct {
				Shared []struct {
					Address string   `json:"address"`
					Fields  []string `json:"fields"`
					All     bool     `json:"all"`
				} `json:"shared"`
			}
			if err := json.Unmarshal(js, &out); err != nil || len(out.Shared) != len(tc.want) {
				t.Fatalf("JSON shared %+v (%v), want %d entries", out.Shared, err, len(tc.want))
			}
		})
	}
}

func TestNormalizeShownForSuppliedIdentities(t *testing.T) {
	g := build(t, []*dataset.Dataset{ds("d",
		coll("users", fld("id"), fld("email", ident("email")), fld("phone", ident("phone_number"))),
	)})
	p, err := New(g, Options{Identities: []string{"email"}, Normalize: map[string][]string{"email": {"trim", "lowercase"}, "phone_number": {"trim"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"email": {"trim", "lowercase"}}; !reflect.DeepEqual(p.Normalize, want) {
		t.Fatalf("normalize %v, want %v", p.Normalize, want)
	}
	var buf bytes.Buffer
	if err := p.Render(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "email is normalized at intake: trim, lowercase") {
		t.Errorf("text plan:\n%s", buf.String())
	}
}
