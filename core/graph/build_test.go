package graph

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/dataset"
)

// shop is a small valid configuration used across tests.
func shop() []*dataset.Dataset {
	return []*dataset.Dataset{
		ds("app",
			coll("customer",
				fld("id"),
				fld("email", ident("email")),
				fld("address_id", ref("app.address.id", to)),
			),
			coll("address", fld("id")),
			coll("orders", fld("customer_id", ref("app.customer.id", from))),
			coll("login", fld("customer_id", ref("app.customer.id", either))),
		),
		ds("mongo",
			coll("details",
				fld("customer_id", ref("app.customer.id", from)),
				fld("contacts", sub(fld("phone", ident("phone_number")))),
			),
		),
	}
}

func TestBuildValid(t *testing.T) {
	g, diags := Build(shop())
	if diags.HasErrors() {
		t.Fatalf("unexpected diagnostics:\n%s", strings.Join(diagStrings(diags), "\n"))
	}
	if got, want := strings.Join(addrsOf(g.Nodes()), " "), "app.address app.customer app.login app.orders mongo.details"; got != want {
		t.Errorf("nodes = %s, want %s", got, want)
	}
	for i, n := range g.Nodes() {
		if n.ID() != i {
			t.Errorf("node %s has ID %d, want %d", n.Address, n.ID(), i)
		}
	}
	if got, want := strings.Join(g.Identities(), " "), "email phone_number"; got != want {
		t.Errorf("identities = %s, want %s", got, want)
	}
	var edges []string
	for _, e := range g.Edges() {
		edges = append(edges, e.From.String()+">"+e.To.String()+" "+string(e.Direction)+" directed="+map[bool]string{true: "y", false: "n"}[e.Directed])
	}
	want := []string{
		"app.customer.address_id>app.address.id to directed=y",
		"app.customer.id>app.login.customer_id  directed=n",
		"app.customer.id>app.orders.customer_id from directed=y",
		"app.customer.id>mongo.details.customer_id from directed=y",
	}
	if strings.Join(edges, "\n") != strings.Join(want, "\n") {
		t.Errorf("edges:\n%s\nwant:\n%s", strings.Join(edges, "\n"), strings.Join(want, "\n"))
	}
	details := g.Node(dataset.CollectionAddress{Dataset: "mongo", Collection: "details"})
	if len(details.Seeds) != 1 || details.Seeds[0].Field.String() != "contacts.phone" || details.Seeds[0].Identity != "phone_number" {
		t.Errorf("nested identity seed = %+v", details.Seeds)
	}
}

func TestBuildDeduplicatesEdges(t *testing.T) {
	// The same reference declared on both sides is one edge.
	g, diags := Build([]*dataset.Dataset{ds("a",
		coll("x", fld("id", ident("email"), ref("a.y.xid", to))),
		coll("y", fld("xid", ref("a.x.id", from), ref("a.x.id", from))),
	)})
	if diags.HasErrors() {
		t.Fatal(diagStrings(diags))
	}
	if len(g.Edges()) != 1 {
		t.Errorf("got %d edges, want 1", len(g.Edges()))
	}
}

func TestBuildDiagnostics(t *testing.T) {
	tests := []struct {
		name     string
		datasets []*dataset.Dataset
		// want: one entry per diagnostic, each "summary @ subject" plus
		// substrings of the detail separated by " | ".
		want []string
	}{
		{
			name: "unknown dataset in reference",
			datasets: []*dataset.Dataset{ds("app",
				coll("customer", fld("email", ident("email")), fld("x", ref("nope.address.id", to))))},
			want: []string{`Reference to an unknown dataset @ app.customer.x ref nope.address.id | references "nope.address.id", but no dataset "nope" is declared`},
		},
		{
			name: "unknown collection in reference",
			datasets: []*dataset.Dataset{ds("app",
				coll("customer", fld("email", ident("email")), fld("x", ref("app.adress.id", to))))},
			want: []string{`Reference to an unknown collection @ app.customer.x ref app.adress.id | dataset "app" has no collection "adress"`},
		},
		{
			name: "unknown field in reference",
			datasets: []*dataset.Dataset{ds("app",
				coll("customer", fld("email", ident("email")), fld("x", ref("app.address.nope", either))),
				coll("address", fld("id"), fld("email", ident("email"))))},
			want: []string{`Reference to an unknown field @ app.customer.x ref app.address.nope | collection app.address has no field "nope"`},
		},
		{
			name: "unknown nested field in reference",
			datasets: []*dataset.Dataset{ds("app",
				coll("customer", fld("email", ident("email")), fld("x", ref("app.address.geo.nope", either))),
				coll("address", fld("geo", sub(fld("lat"))), fld("email", ident("email"))))},
			want: []string{`Reference to an unknown field @ app.customer.x ref app.address.geo.nope | has no field "geo.nope"`},
		},
		{
			name: "self reference",
			datasets: []*dataset.Dataset{ds("app",
				coll("customer", fld("email", ident("email")), fld("parent", ref("app.customer.email", to))))},
			want: []string{`Reference from a collection to itself @ app.customer.parent ref app.customer.email | Remove the reference`},
		},
		{
			name: "invalid direction",
			datasets: []*dataset.Dataset{ds("app",
				coll("customer", fld("email", ident("email")), fld("a", ref("app.address.id", "both"))),
				coll("address", fld("id", ident("email"))))},
			want: []string{`Invalid reference direction @ app.customer.a ref app.address.id | direction "both"`},
		},
		{
			name: "unknown after entries",
			datasets: []*dataset.Dataset{
				dsAfter(ds("app", coll("customer", fld("email", ident("email")), after("app.nope", "ghost.x"), eraseAfter("ghost"))), "billing"),
			},
			want: []string{
				`Unknown dataset in after @ app | Dataset "app" lists "billing" in after, but no dataset "billing" is declared`,
				`Unknown collection in after @ app.customer | dataset "app" has no collection "nope"`,
				`Unknown collection in after @ app.customer | lists "ghost.x" in after, but no dataset "ghost" is declared`,
				`Unknown dataset in erase_after @ app.customer | lists "ghost" in erase_after`,
			},
		},
		{
			name: "after naming itself",
			datasets: []*dataset.Dataset{
				dsAfter(ds("app",
					coll("a", fld("email", ident("email")), after("app.a")),
					coll("b", fld("email", ident("email")), after("app"), eraseAfter("app.b"))), "app", "app.a"),
			},
			want: []string{
				`Dataset waits for itself @ app | Remove "app" from its after list`,
				`Dataset waits for its own collection @ app | Move "app.a" to the after list of the collections that must wait`,
				`Collection waits for itself in after @ app.a | Collection app.a lists itself in after`,
				`Collection waits for its own dataset in after @ app.b | lists its own dataset "app" in after`,
				`Collection waits for itself in erase_after @ app.b | lists itself in erase_after`,
			},
		},
		{
			name: "cycle through directed references",
			datasets: []*dataset.Dataset{ds("app",
				coll("a", fld("email", ident("email")), fld("b_id", ref("app.b.id", to))),
				coll("b", fld("id"), fld("c_id", ref("app.c.id", to))),
				coll("c", fld("id"), fld("a_email", ref("app.a.email", to))))},
			want: []string{
				`Dependency cycle: app.a -> app.b -> app.c -> app.a @ app.a.b_id ref app.b.id | app.a -> app.b: the values of app.a.b_id find rows of app.b.id (reference declared on app.a.b_id with direction "to") | app.c -> app.a: the values of app.c.a_email find rows of app.a.email | drop ` + "`direction`",
			},
		},
		{
			name: "cycle through after and a reference",
			datasets: []*dataset.Dataset{ds("app",
				coll("a", fld("email", ident("email")), fld("id"), after("app.b")),
				coll("b", fld("a_id", ref("app.a.id", from))))},
			want: []string{
				`Dependency cycle: app.a -> app.b -> app.a @ app.b.a_id ref app.a.id | app.b -> app.a: app.a lists "app.b" in after | remove one of these ` + "`after`",
			},
		},
		{
			name: "cycle through dataset-level after",
			datasets: []*dataset.Dataset{
				dsAfter(ds("app", coll("a", fld("email", ident("email")))), "billing"),
				ds("billing", coll("invoice", fld("email", ident("email"))), coll("payment", fld("email", ident("email")), after("app.a"))),
			},
			want: []string{
				`Dependency cycle: app.a -> billing.payment -> app.a @ billing.payment | billing.payment -> app.a: dataset "app" lists "billing" in after`,
			},
		},
		{
			name: "two independent cycles are both named",
			datasets: []*dataset.Dataset{ds("app",
				coll("a", fld("email", ident("email")), after("app.b")),
				coll("b", fld("email", ident("email")), after("app.a")),
				coll("c", fld("email", ident("email")), after("app.d")),
				coll("d", fld("email", ident("email")), after("app.c")))},
			want: []string{
				`Dependency cycle: app.a -> app.b -> app.a @ app.b`,
				`Dependency cycle: app.c -> app.d -> app.c @ app.d`,
			},
		},
		{
			name: "unreachable: reference pointing the wrong way",
			datasets: []*dataset.Dataset{ds("app",
				coll("customer", fld("id"), fld("email", ident("email"))),
				coll("orders", fld("customer_id", ref("app.customer.id", to))))},
			want: []string{
				`Collection not reachable from any identity @ app.orders | the reference between app.orders.customer_id and app.customer.id (declared on app.orders.customer_id with direction "to") only lets the values of app.orders.customer_id find rows of app.customer; omit its direction so the values of app.customer.id can also find rows of app.orders`,
			},
		},
		{
			name: "unreachable: field named like an identity, and a collection reached through it",
			datasets: []*dataset.Dataset{ds("app",
				coll("customer", fld("email", ident("email"))),
				coll("newsletter", fld("id"), fld("email")),
				coll("clicks", fld("newsletter_id", ref("app.newsletter.id", either))))},
			want: []string{
				`Collection not reachable from any identity @ app.clicks | declare identity = "<name>" on one of its fields | It would also be reached once app.newsletter is reachable.`,
				`Collection not reachable from any identity @ app.newsletter | declare identity = "email" on field app.newsletter.email | It would also be reached once app.clicks is reachable.`,
			},
		},
		{
			name:     "no identity at all",
			datasets: []*dataset.Dataset{ds("app", coll("customer", fld("email")))},
			want:     []string{`No identity declared @ app | No field of any dataset declares an identity`},
		},
		{
			name: "after on a collection reached only through the waiting one",
			datasets: []*dataset.Dataset{ds("app",
				coll("a", fld("email", ident("email")), fld("id"), after("app.c")),
				coll("c", fld("a_id", ref("app.a.id", either))))},
			want: []string{
				`Dependency cycle: app.a -> app.c -> app.a @ app.c.a_id ref app.a.id | Even with every identity supplied, the collections below wait for each other | app.a -> app.c: app.c is only reached through app.a | app.c -> app.a: app.a lists "app.c" in after | make the waited-for collection reachable`,
			},
		},
		{
			name: "erase_after cycle",
			datasets: []*dataset.Dataset{ds("app",
				coll("a", fld("email", ident("email")), eraseAfter("app.b")),
				coll("b", fld("email", ident("email")), eraseAfter("app.a")))},
			want: []string{
				`Erasure order cycle: app.a -> app.b -> app.a @ app.b | The collections below must each be erased before the next | app.a -> app.b: app.b lists "app.a" in erase_after | app.b -> app.a: app.a lists "app.b" in erase_after`,
			},
		},
		{
			name: "erase_after against the dependency order through a middle collection",
			datasets: []*dataset.Dataset{ds("app",
				coll("a", fld("email", ident("email")), fld("id")),
				coll("b", fld("a_id", ref("app.a.id", from)), fld("id")),
				coll("c", fld("b_id", ref("app.b.id", from)), eraseAfter("app.a")))},
			want: []string{
				`Erasure order cycle: app.a -> app.c -> app.b -> app.a @ app.c | app.c -> app.b: app.c depends on app.b, and is erased first | app.b -> app.a: app.b depends on app.a | add ` + "`erase_after`" + ` to the collections in between`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Build(tt.datasets)
			got := diagStrings(diags)
			if testing.Verbose() {
				for _, d := range diags {
					t.Logf("%s\n%s", d.Error(), d.Detail)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d diagnostics, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n---\n"))
			}
			for i, want := range tt.want {
				parts := strings.Split(want, " | ")
				head, detail, _ := strings.Cut(got[i], "\n")
				if head != parts[0] {
					t.Errorf("diagnostic %d: got %q, want %q", i, head, parts[0])
				}
				for _, p := range parts[1:] {
					if !strings.Contains(detail, p) {
						t.Errorf("diagnostic %d detail lacks %q:\n%s", i, p, detail)
					}
				}
				if diags[i].Severity != hcl.DiagError {
					t.Errorf("diagnostic %d is not an error", i)
				}
			}
		})
	}
}

// The order in which datasets and collections are given never changes the
// graph or the diagnostics.
func TestBuildIgnoresInputOrder(t *testing.T) {
	mk := func() []*dataset.Dataset {
		return append(shop(), ds("z",
			coll("a", fld("x", ref("z.b.y", to)), fld("email", ident("email"))),
			coll("b", fld("y"), fld("q", ref("z.a.x", to))),
			coll("lost", fld("id"))))
	}
	render := func(dss []*dataset.Dataset) string {
		g, diags := Build(dss)
		var sb strings.Builder
		_ = g.WriteDOT(&sb)
		return sb.String() + strings.Join(diagStrings(diags), "\n")
	}
	want := render(mk())
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 20; i++ {
		dss := mk()
		rng.Shuffle(len(dss), func(a, b int) { dss[a], dss[b] = dss[b], dss[a] })
		for _, d := range dss {
			rng.Shuffle(len(d.Collections), func(a, b int) { d.Collections[a], d.Collections[b] = d.Collections[b], d.Collections[a] })
		}
		if got := render(dss); got != want {
			t.Fatalf("shuffle %d changed the output:\n%s\nwant:\n%s", i, got, want)
		}
	}
}

func TestBuildNestedReference(t *testing.T) {
	g, diags := Build([]*dataset.Dataset{
		ds("app", coll("customer", fld("id"), fld("email", ident("email")))),
		ds("mongo", coll("details",
			fld("_id"),
			fld("owner", sub(fld("customer_id", ref("app.customer.id", from)))),
			fld("extra", sub(fld("meta", sub(fld("created"))))),
		), coll("audit", fld("created", ref("mongo.details.extra.meta.created", either)))),
	})
	if diags.HasErrors() {
		t.Fatal(diagStrings(diags))
	}
	var got []string
	for _, e := range g.Edges() {
		got = append(got, e.From.String()+" -> "+e.To.String())
	}
	// Declaration order over the node order: mongo.audit before mongo.details.
	want := "mongo.audit.created -> mongo.details.extra.meta.created\napp.customer.id -> mongo.details.owner.customer_id"
	if strings.Join(got, "\n") != want {
		t.Errorf("edges:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	tr, err := g.Traverse([]string{"email"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(linkStrings(tr.Links), "\n"); got != "mongo.details.extra.meta.created -> mongo.audit.created\napp.customer.id -> mongo.details.owner.customer_id" {
		t.Errorf("links:\n%s", got)
	}
}

// Diagnostics about `after` entries point at the entry when the loader
// recorded where it is written.
func TestBuildEntryRanges(t *testing.T) {
	a := coll("a", fld("email", ident("email")), after("d.b"))
	b := coll("b", fld("email", ident("email")), after("d.x", "d.a"))
	d := ds("d", a, b)
	b.Ranges = map[string]hcl.Range{"after[0]": rangeOf("b after[0]"), "after[1]": rangeOf("b after[1]")}
	a.Ranges = map[string]hcl.Range{"after": rangeOf("a after")}
	_, diags := Build([]*dataset.Dataset{d})
	got := diagStrings(diags)
	want := []string{"Unknown collection in after @ b after[0]", "Dependency cycle: d.a -> d.b -> d.a @ b after[1]"}
	if len(got) != len(want) {
		t.Fatalf("diagnostics:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if head, _, _ := strings.Cut(got[i], "\n"); head != want[i] {
			t.Errorf("diagnostic %d = %q, want %q", i, head, want[i])
		}
	}
}

func TestConflictingSharedDeclarations(t *testing.T) {
	a := fld("id", ref("d.b.a_id", either))
	b := fld("a_id", ref("d.a.id", either))
	b.References[0].Shared = true
	_, diags := Build([]*dataset.Dataset{ds("d",
		coll("a", a, fld("email", ident("email"))),
		coll("b", b),
	)})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Conflicting shared declarations") {
		t.Fatalf("want a conflict, got %v", diags)
	}
	b.References[0].Shared = false
	a.References[0].Shared = false
	if _, diags := Build([]*dataset.Dataset{ds("d", coll("a", a, fld("email", ident("email"))), coll("b", b))}); diags.HasErrors() {
		t.Fatalf("same declaration twice: %v", diags)
	}
}
