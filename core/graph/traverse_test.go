package graph

import (
	"errors"
	"strings"
	"testing"

	"github.com/lethehq/lethe/core/dataset"
)

func mustBuild(t *testing.T, dss ...*dataset.Dataset) *Graph {
	t.Helper()
	g, diags := Build(dss)
	if diags.HasErrors() {
		t.Fatalf("Build: %s", strings.Join(diagStrings(diags), "\n"))
	}
	return g
}

func TestTraverse(t *testing.T) {
	type want struct {
		order     string            // step addresses, space separated
		links     []string          // "from -> to" field addresses, edge order
		deps      map[string]string // step -> its dependencies, space separated
		unreached string
	}
	tests := []struct {
		name       string
		datasets   []*dataset.Dataset
		identities []string
		want       want
	}{
		{
			name:       "directions from one root",
			datasets:   shop(),
			identities: []string{"email"},
			want: want{
				order: "app.customer app.address app.login app.orders mongo.details",
				links: []string{
					"app.customer.address_id -> app.address.id",
					"app.customer.id -> app.login.customer_id",
					"app.customer.id -> app.orders.customer_id",
					"app.customer.id -> mongo.details.customer_id",
				},
				deps: map[string]string{"app.customer": "", "app.orders": "app.customer"},
			},
		},
		{
			name:       "a root waits for its parent through a directed reference",
			datasets:   shop(),
			identities: []string{"email", "phone_number"},
			want: want{
				order: "app.customer mongo.details app.address app.login app.orders",
				links: []string{
					"app.customer.address_id -> app.address.id",
					"app.customer.id -> app.login.customer_id",
					"app.customer.id -> app.orders.customer_id",
					"app.customer.id -> mongo.details.customer_id",
				},
				deps: map[string]string{"mongo.details": "app.customer"},
			},
		},
		{
			name:       "a directed reference is only followed forwards",
			datasets:   shop(),
			identities: []string{"phone_number"},
			want:       want{order: "mongo.details", unreached: "app.address app.customer app.login app.orders"},
		},
		{
			name: "undirected between two roots: address order breaks the tie",
			datasets: []*dataset.Dataset{
				ds("b", coll("y", fld("v", ident("email"), ref("a.x.v", either)))),
				ds("a", coll("x", fld("v", ident("email")))),
			},
			identities: []string{"email"},
			want:       want{order: "a.x b.y", links: []string{"a.x.v -> b.y.v"}, deps: map[string]string{"b.y": "a.x"}},
		},
		{
			name: "undirected: the side reached first in the search wins over address order",
			datasets: []*dataset.Dataset{
				ds("a",
					coll("root", fld("id", ident("phone"))),
					coll("mid", fld("root_id", ref("a.root.id", either)), fld("t", ref("m.target.t", either)))),
				ds("m", coll("target", fld("t"), fld("zid", ref("z.root.id", either)))),
				ds("z", coll("root", fld("id", ident("email")))),
			},
			identities: []string{"email", "phone"},
			want: want{
				order: "a.root z.root a.mid m.target",
				links: []string{
					"a.root.id -> a.mid.root_id",
					"a.mid.t -> m.target.t", // both at distance 1: address order
					"z.root.id -> m.target.zid",
				},
				deps: map[string]string{"m.target": "a.mid z.root"},
			},
		},
		{
			name: "dataset-level after orients an undirected reference and waits for the whole dataset",
			datasets: []*dataset.Dataset{
				dsAfter(ds("app",
					coll("customer", fld("id"), fld("email", ident("email"))),
					coll("orders", fld("cid", ref("app.customer.id", from)), fld("inv", ref("billing.invoice.no", either)))), "billing"),
				ds("billing",
					coll("account", fld("id"), fld("email", ident("email"))),
					coll("invoice", fld("no"), fld("aid", ref("billing.account.id", from)))),
			},
			identities: []string{"email"},
			want: want{
				order: "billing.account billing.invoice app.customer app.orders",
				links: []string{
					"app.customer.id -> app.orders.cid",
					"billing.invoice.no -> app.orders.inv",
					"billing.account.id -> billing.invoice.aid",
				},
				deps: map[string]string{
					"app.customer": "billing.account billing.invoice",
					"app.orders":   "app.customer billing.account billing.invoice",
				},
			},
		},
		{
			name: "after ignores collections the request skips",
			datasets: []*dataset.Dataset{
				dsAfter(ds("app", coll("a", fld("email", ident("email")))), "sms"),
				ds("sms", coll("log", fld("phone", ident("phone_number"))), coll("other", fld("email", ident("email")))),
			},
			identities: []string{"email"},
			want: want{
				order:     "sms.other app.a",
				deps:      map[string]string{"app.a": "sms.other"},
				unreached: "sms.log",
			},
		},
		{
			name: "every parent is awaited, however far",
			datasets: []*dataset.Dataset{ds("d",
				coll("a", fld("id", ident("email"))),
				coll("b", fld("aid", ref("d.a.id", from)), fld("id")),
				coll("c", fld("bid", ref("d.b.id", from)), fld("id")),
				coll("n", fld("aid", ref("d.a.id", from)), fld("cid", ref("d.c.id", from))),
			)},
			identities: []string{"email"},
			want: want{
				order: "d.a d.b d.c d.n",
				deps:  map[string]string{"d.n": "d.a d.c", "d.c": "d.b"},
				links: []string{"d.a.id -> d.b.aid", "d.b.id -> d.c.bid", "d.a.id -> d.n.aid", "d.c.id -> d.n.cid"},
			},
		},
		{
			name: "collection-level after delays a node reached early",
			datasets: []*dataset.Dataset{ds("d",
				coll("a", fld("id", ident("email"))),
				coll("b", fld("aid", ref("d.a.id", either)), after("d.z")),
				coll("z", fld("aid", ref("d.a.id", either)), fld("q", ref("d.b.aid", either))),
			)},
			identities: []string{"email"},
			want: want{
				order: "d.a d.z d.b",
				links: []string{"d.a.id -> d.b.aid", "d.a.id -> d.z.aid", "d.z.q -> d.b.aid"},
				deps:  map[string]string{"d.b": "d.a d.z"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustBuild(t, tt.datasets...)
			tr, err := g.Traverse(tt.identities)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(stepAddrs(tr.Steps), " "); got != tt.want.order {
				t.Errorf("order = %s, want %s", got, tt.want.order)
			}
			if tt.want.links != nil {
				if got := linkStrings(tr.Links); strings.Join(got, "\n") != strings.Join(tt.want.links, "\n") {
					t.Errorf("links:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want.links, "\n"))
				}
			}
			for _, s := range tr.Steps {
				if want, ok := tt.want.deps[s.Node.Address.String()]; ok {
					if got := strings.Join(addrsOf(s.Dependencies), " "); got != want {
						t.Errorf("dependencies of %s = %q, want %q", s.Node.Address, got, want)
					}
				}
				// Inputs are exactly the links into the step.
				for _, in := range s.Inputs {
					if in.To().CollectionAddress() != s.Node.Address || tr.Position(in.FromNode(g)) >= tr.Position(s.Node) {
						t.Errorf("bad input %s -> %s of %s", in.From(), in.To(), s.Node.Address)
					}
				}
			}
			if got := strings.Join(addrsOf(tr.Unreached), " "); got != tt.want.unreached {
				t.Errorf("unreached = %q, want %q", got, tt.want.unreached)
			}
		})
	}
}

func TestTraverseCycleDependsOnIdentities(t *testing.T) {
	// a waits for c; c is reached through a, unless phone_number seeds it.
	g := mustBuild(t, ds("d",
		coll("a", fld("email", ident("email")), fld("id"), after("d.c")),
		coll("c", fld("phone", ident("phone_number")), fld("aid", ref("d.a.id", either))),
	))
	tr, err := g.Traverse([]string{"email", "phone_number"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(stepAddrs(tr.Steps), " "); got != "d.c d.a" {
		t.Errorf("order = %s", got)
	}
	_, err = g.Traverse([]string{"email"})
	var ce *CycleError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *CycleError", err)
	}
	if got := strings.Join(addrsOf(ce.Cycle), " -> "); got != "d.a -> d.c -> d.a" || ce.Erasure {
		t.Errorf("cycle = %s (erasure %v)", got, ce.Erasure)
	}
	want := `dependency cycle: d.a -> d.c -> d.a (d.a -> d.c: d.c is only reached through d.a (reference declared on d.c.aid); d.c -> d.a: d.a lists "d.c" in after)`
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
}

func TestTraverseIdentities(t *testing.T) {
	g := mustBuild(t, shop()...)
	tr, err := g.Traverse([]string{"zip", "email", "email", "age"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tr.Supplied, " "); got != "email" {
		t.Errorf("supplied = %q", got)
	}
	if got := strings.Join(tr.Unknown, " "); got != "age zip" {
		t.Errorf("unknown = %q", got)
	}
	for _, s := range tr.Steps {
		if s.Node.Address.Collection == "customer" && (len(s.Seeds) != 1 || s.Seeds[0].Identity != "email") {
			t.Errorf("customer seeds = %+v", s.Seeds)
		}
	}
}

func TestNeeds(t *testing.T) {
	g := mustBuild(t, append(shop(), ds("sms",
		coll("log", fld("phone", ident("phone_number")), fld("ip", ident("ip_address"))),
		coll("reply", fld("log_phone", ref("sms.log.phone", from)))))...)
	tr, err := g.Traverse([]string{"email"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, need := range tr.Needs() {
		got = append(got, tr.Unreached[i].Address.String()+":"+strings.Join(need, ","))
	}
	want := "sms.log:ip_address,phone_number sms.reply:ip_address,phone_number"
	if strings.Join(got, " ") != want {
		t.Errorf("needs = %s\nwant    %s", strings.Join(got, " "), want)
	}
}

func TestErasure(t *testing.T) {
	tests := []struct {
		name  string
		extra func(dss []*dataset.Dataset)
		order string
		after map[string]string
	}{
		{
			name:  "reverse of the access order",
			order: "app.orders app.login app.address mongo.details app.customer",
			after: map[string]string{"app.customer": "app.address app.login app.orders mongo.details", "app.orders": ""},
		},
		{
			name: "erase_after overrides a direct dependency",
			extra: func(dss []*dataset.Dataset) {
				dss[0].Collection("orders").EraseAfter = []string{"app.customer"}
			},
			order: "app.login app.address mongo.details app.customer app.orders",
			after: map[string]string{"app.customer": "app.address app.login mongo.details", "app.orders": "app.customer"},
		},
		{
			name: "erase_after between unrelated collections",
			extra: func(dss []*dataset.Dataset) {
				dss[0].Collection("login").EraseAfter = []string{"app.address"}
			},
			order: "app.orders app.address app.login mongo.details app.customer",
			after: map[string]string{"app.login": "app.address"},
		},
		{
			name: "erase_after naming a dataset",
			extra: func(dss []*dataset.Dataset) {
				dss[0].Collection("address").EraseAfter = []string{"mongo"}
				dss[1].Collections[0].EraseAfter = []string{"app.login"}
			},
			order: "app.orders app.login mongo.details app.address app.customer",
			after: map[string]string{"app.address": "mongo.details", "mongo.details": "app.login"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dss := shop()
			if tt.extra != nil {
				tt.extra(dss)
			}
			g := mustBuild(t, dss...)
			tr, err := g.Traverse([]string{"email", "phone_number"})
			if err != nil {
				t.Fatal(err)
			}
			steps, err := tr.Erasure()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range steps {
				got = append(got, s.Node.Address.String())
				if want, ok := tt.after[s.Node.Address.String()]; ok {
					if a := strings.Join(addrsOf(s.After), " "); a != want {
						t.Errorf("%s erased after %q, want %q", s.Node.Address, a, want)
					}
				}
			}
			if strings.Join(got, " ") != tt.order {
				t.Errorf("erasure order = %s\nwant            %s", strings.Join(got, " "), tt.order)
			}
		})
	}
}
