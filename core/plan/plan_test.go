package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/graph"
)

func shop() []*dataset.Dataset {
	return []*dataset.Dataset{
		ds("app",
			coll("customer",
				fld("id"),
				fld("email", ident("email")),
				fld("address_id", ref("app.address.id", to)),
			),
			coll("address", fld("id")),
			coll("orders", fld("customer_id", ref("app.customer.id", from)), eraseAfter("app.login")),
			coll("login", fld("customer_id", ref("app.customer.id", either)), fld("ip", ident("ip_address"))),
		),
		dsAfter(ds("mongo",
			coll("details",
				fld("customer_id", ref("app.customer.id", from)),
				fld("contacts", sub(fld("phone", ident("phone_number")))),
			),
		), "app.address"),
		ds("sms", coll("log", fld("phone", ident("phone_number")))),
	}
}

func build(t testing.TB, dss []*dataset.Dataset) *graph.Graph {
	t.Helper()
	g, diags := graph.Build(dss)
	if diags.HasErrors() {
		t.Fatalf("Build: %s", diags.Error())
	}
	return g
}

func TestRender(t *testing.T) {
	g := build(t, shop())
	p, err := New(g, Options{Identities: []string{"email", "loyalty_id"}, Erasure: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Render(&buf); err != nil {
		t.Fatal(err)
	}
	want := `Identities: email
Ignored identities (no field declares them): loyalty_id

Access order (5 collections):
  1. app.customer
       seed    email <- identity email
  2. app.address
       after   app.customer
       input   id <- app.customer.address_id
  3. app.login
       after   app.customer
       input   customer_id <- app.customer.id
  4. app.orders
       after   app.customer
       input   customer_id <- app.customer.id
  5. mongo.details
       after   app.address, app.customer
       input   customer_id <- app.customer.id

Erasure order (5 collections):
  1. mongo.details
  2. app.login
  3. app.orders
       after   app.login
  4. app.address
       after   mongo.details
  5. app.customer
       after   app.address, app.login, app.orders, mongo.details

Skipped (1 collection not reached with these identities):
  sms.log  needs identity phone_number
`
	if buf.String() != want {
		t.Errorf("Render:\n%s\nwant:\n%s", buf.String(), want)
	}

	js, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{
  "identities": [
    "email"
  ],
  "unknown_identities": [
    "loyalty_id"
  ],
  "nodes": [
    {
      "address": "app.customer",
      "connection": "app_db",
      "dependencies": [],
      "seeds": [
        {
          "identity": "email",
          "field": "email"
        }
      ],
      "inputs": []
    },
    {
      "address": "app.address",
      "connection": "app_db",
      "dependencies": [
        "app.customer"
      ],
      "seeds": [],
      "inputs": [
        {
          "from": "app.customer.address_id",
          "to": "id"
        }
      ]
    },
    {
      "address": "app.login",
      "connection": "app_db",
      "dependencies": [
        "app.customer"
      ],
      "seeds": [],
      "inputs": [
        {
          "from": "app.customer.id",
          "to": "customer_id"
        }
      ]
    },
    {
      "address": "app.orders",
      "connection": "app_db",
      "dependencies": [
        "app.customer"
      ],
      "seeds": [],
      "inputs": [
        {
          "from": "app.customer.id",
          "to": "customer_id"
        }
      ]
    },
    {
      "address": "mongo.details",
      "connection": "mongo_db",
      "dependencies": [
        "app.address",
        "app.customer"
      ],
      "seeds": [],
      "inputs": [
        {
          "from": "app.customer.id",
          "to": "customer_id"
        }
      ]
    }
  ],
  "edges": [
    {
      "from": "app.customer.address_id",
      "to": "app.address.id",
      "direction": "to",
      "declared_on": "app.customer.address_id"
    },
    {
      "from": "app.customer.id",
      "to": "app.login.customer_id",
      "direction": "either",
      "declared_on": "app.login.customer_id"
    },
    {
      "from": "app.customer.id",
      "to": "app.orders.customer_id",
      "direction": "from",
      "declared_on": "app.orders.customer_id"
    },
    {
      "from": "app.customer.id",
      "to": "mongo.details.customer_id",
      "direction": "from",
      "declared_on": "mongo.details.customer_id"
    }
  ],
  "erasure": [
    {
      "address": "mongo.details",
      "after": []
    },
    {
      "address": "app.login",
      "after": []
    },
    {
      "address": "app.orders",
      "after": [
        "app.login"
      ]
    },
    {
      "address": "app.address",
      "after": [
        "mongo.details"
      ]
    },
    {
      "address": "app.customer",
      "after": [
        "app.address",
        "app.login",
        "app.orders",
        "mongo.details"
      ]
    }
  ],
  "skipped": [
    {
      "address": "sms.log",
      "identities": [
        "phone_number"
      ]
    }
  ],
  "shared": []
}`
	if string(js) != wantJSON {
		t.Errorf("JSON:\n%s\nwant:\n%s", js, wantJSON)
	}
}

func TestRenderAnnotated(t *testing.T) {
	p, err := New(build(t, shop()), Options{Identities: []string{"phone_number"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = p.RenderAnnotated(&buf, func(n *Node) []string {
		return []string{"query   SELECT * FROM " + n.Address.Collection}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `Identities: phone_number

Access order (2 collections):
  1. mongo.details
       seed    contacts.phone <- identity phone_number
       query   SELECT * FROM details
  2. sms.log
       seed    phone <- identity phone_number
       query   SELECT * FROM log

Skipped (4 collections not reached with these identities):
  app.address  needs one of the identities email, ip_address
  app.customer  needs one of the identities email, ip_address
  app.login  needs one of the identities email, ip_address
  app.orders  needs one of the identities email, ip_address
`
	if buf.String() != want {
		t.Errorf("RenderAnnotated:\n%s\nwant:\n%s", buf.String(), want)
	}
	if p.Erasure != nil {
		t.Errorf("erasure order without Options.Erasure: %v", p.Erasure)
	}
	js, _ := json.Marshal(p)
	if bytes.Contains(js, []byte(`"erasure"`)) {
		t.Errorf("JSON has an erasure order without Options.Erasure: %s", js)
	}
}

func TestNewErrors(t *testing.T) {
	g := build(t, shop())
	_, err := New(g, Options{Identities: []string{"loyalty_id"}})
	if !errors.Is(err, ErrNothingReached) {
		t.Fatalf("err = %v, want ErrNothingReached", err)
	}
	if want := "plan: no supplied identity reaches any collection: supplied loyalty_id; the datasets declare email, ip_address, phone_number"; err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
	if _, err := New(g, Options{}); !errors.Is(err, ErrNothingReached) {
		t.Errorf("no identities: err = %v", err)
	}
	if _, err := New(nil, Options{Identities: []string{"email"}}); err == nil {
		t.Error("nil graph: no error")
	}

	// A collection that must wait for one reached only through it.
	cyc := build(t, []*dataset.Dataset{ds("d",
		coll("a", fld("email", ident("email")), fld("id"), after("d.c")),
		coll("c", fld("phone", ident("phone_number")), fld("aid", ref("d.a.id", either))),
	)})
	_, err = New(cyc, Options{Identities: []string{"email"}})
	var ce *graph.CycleError
	if !errors.As(err, &ce) || ce.Erasure {
		t.Fatalf("err = %v, want an access *graph.CycleError", err)
	}
	if !strings.HasPrefix(err.Error(), "plan access order: dependency cycle: d.a -> d.c -> d.a (") {
		t.Errorf("err = %v", err)
	}
	if _, err := New(cyc, Options{Identities: []string{"email", "phone_number"}}); err != nil {
		t.Errorf("with phone_number too: %v", err)
	}
}

func TestNewErasureCycle(t *testing.T) {
	// b erase_after a contradicts "children first" through c.
	g, _ := graph.Build([]*dataset.Dataset{ds("d",
		coll("a", fld("email", ident("email")), fld("id")),
		coll("b", fld("aid", ref("d.a.id", from)), fld("id")),
		coll("c", fld("bid", ref("d.b.id", from)), eraseAfter("d.a")),
	)})
	if _, err := New(g, Options{Identities: []string{"email"}}); err != nil {
		t.Fatalf("access only: %v", err)
	}
	_, err := New(g, Options{Identities: []string{"email"}, Erasure: true})
	var ce *graph.CycleError
	if !errors.As(err, &ce) || !ce.Erasure {
		t.Fatalf("err = %v, want an erasure *graph.CycleError", err)
	}
	if !strings.HasPrefix(err.Error(), "plan erasure order: erasure order cycle: d.a -> d.c -> d.b -> d.a (") {
		t.Errorf("err = %v", err)
	}
}

// A graph is shared by concurrent requests: planning must not race, and
// every plan is the same.
func TestNewConcurrent(t *testing.T) {
	g := build(t, shop())
	want, err := New(g, Options{Identities: []string{"email", "phone_number"}, Erasure: true})
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := json.Marshal(want)
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			p, err := New(g, Options{Identities: []string{"phone_number", "email"}, Erasure: true})
			if err == nil {
				js, _ := json.Marshal(p)
				if !bytes.Equal(js, wantJSON) {
					err = errors.New("concurrent plan differs")
				}
			}
			errs <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
