package graph

import (
	"strings"
	"testing"
)

// renderGraph: shop, plus `after` at both levels and a quote in a name.
func renderGraph(t *testing.T) *Graph {
	dss := shop()
	dss[0].Collection("orders").After = []string{"app.login"}
	dss[1].After = []string{"app"}
	return mustBuild(t, dss...)
}

func TestWriteDOT(t *testing.T) {
	var sb strings.Builder
	if err := renderGraph(t).WriteDOT(&sb); err != nil {
		t.Fatal(err)
	}
	want := `digraph lethe {
  rankdir=LR;
  compound=true;
  node [shape=box];

  subgraph "cluster_app" {
    label="app";
    "app.address" [label="address"];
    "app.customer" [label="customer"];
    "app.login" [label="login"];
    "app.orders" [label="orders"];
  }

  subgraph "cluster_mongo" {
    label="mongo";
    "mongo.details" [label="details"];
  }

  "identity:email" [label="email", shape=ellipse];
  "identity:phone_number" [label="phone_number", shape=ellipse];
  "identity:email" -> "app.customer" [label="email"];
  "identity:phone_number" -> "mongo.details" [label="contacts.phone"];

  "app.customer" -> "app.address" [label="address_id -> id"];
  "app.customer" -> "app.login" [label="id -- customer_id", dir=none, style=dashed];
  "app.customer" -> "app.orders" [label="id -> customer_id"];
  "app.customer" -> "mongo.details" [label="id -> customer_id"];

  "app.login" -> "app.orders" [label="after", style=dotted];
  "app.address" -> "mongo.details" [label="after", style=dotted, ltail="cluster_app", lhead="cluster_mongo"];
}
`
	if sb.String() != want {
		t.Errorf("DOT:\n%s\nwant:\n%s", sb.String(), want)
	}
}

func TestWriteMermaid(t *testing.T) {
	var sb strings.Builder
	if err := renderGraph(t).WriteMermaid(&sb); err != nil {
		t.Fatal(err)
	}
	want := `flowchart LR
  subgraph d0["app"]
    n0["address"]
    n1["customer"]
    n2["login"]
    n3["orders"]
  end
  subgraph d1["mongo"]
    n4["details"]
  end
  i0(["identity: email"])
  i1(["identity: phone_number"])
  i0 -->|"email"| n1
  i1 -->|"contacts.phone"| n4
  n1 -->|"address_id -#gt; id"| n0
  n1 ---|"id -- customer_id"| n2
  n1 -->|"id -#gt; customer_id"| n3
  n1 -->|"id -#gt; customer_id"| n4
  n2 -.->|after| n3
  d0 -.->|after| d1
`
	if sb.String() != want {
		t.Errorf("Mermaid:\n%s\nwant:\n%s", sb.String(), want)
	}
}

func TestRenderQuoting(t *testing.T) {
	if got := dotID(`a"b\c`); got != `"a\"b\\c"` {
		t.Errorf("dotID = %s", got)
	}
	if got := mermaidText(`a"b|c<d>`); got != `"a#quot;b#124;c#lt;d#gt;"` {
		t.Errorf("mermaidText = %s", got)
	}
	// An empty graph is still a valid document.
	g := mustBuild(t)
	var sb strings.Builder
	_ = g.WriteDOT(&sb)
	if sb.String() != "digraph lethe {\n  rankdir=LR;\n  compound=true;\n  node [shape=box];\n}\n" {
		t.Errorf("empty DOT = %q", sb.String())
	}
	sb.Reset()
	_ = g.WriteMermaid(&sb)
	if sb.String() != "flowchart LR\n" {
		t.Errorf("empty Mermaid = %q", sb.String())
	}
}
