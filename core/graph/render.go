package graph

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteDOT writes the graph in Graphviz DOT: one cluster per dataset, one
// box per collection, identities as ellipses pointing at the collections
// they seed, references as edges labelled with their fields (an arrow for
// a declared direction, a dashed line without arrowhead when the direction
// is left to the traversal), and `after` as dotted edges. The output only
// depends on the graph.
func (g *Graph) WriteDOT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("digraph lethe {\n")
	p("  rankdir=LR;\n  compound=true;\n  node [shape=box];\n")
	for _, d := range g.datasets {
		p("\n  subgraph %s {\n", dotID("cluster_"+d.model.Name))
		p("    label=%s;\n", dotID(d.model.Name))
		for _, id := range d.nodes {
			n := g.nodes[id]
			p("    %s [label=%s];\n", dotID(n.Address.String()), dotID(n.Address.Collection))
		}
		p("  }\n")
	}
	if len(g.identities) > 0 {
		p("\n")
	}
	for _, name := range g.identities {
		p("  %s [label=%s, shape=ellipse];\n", dotID("identity:"+name), dotID(name))
	}
	for _, name := range g.identities {
		for _, n := range g.nodes {
			for _, s := range n.Seeds {
				if s.Identity == name {
					p("  %s -> %s [label=%s];\n", dotID("identity:"+name), dotID(n.Address.String()), dotID(s.Field.String()))
				}
			}
		}
	}
	if len(g.edges) > 0 {
		p("\n")
	}
	for _, e := range g.edges {
		from, to := dotID(g.nodes[e.from].Address.String()), dotID(g.nodes[e.to].Address.String())
		if e.Directed {
			p("  %s -> %s [label=%s];\n", from, to, dotID(e.From.Field.String()+" -> "+e.To.Field.String()))
		} else {
			p("  %s -> %s [label=%s, dir=none, style=dashed];\n", from, to, dotID(e.From.Field.String()+" -- "+e.To.Field.String()))
		}
	}
	after := g.afterEdges()
	if len(after) > 0 {
		p("\n")
	}
	for _, a := range after {
		attrs := "label=\"after\", style=dotted"
		from, to := a.from, a.to
		if a.fromDataset >= 0 {
			d := g.datasets[a.fromDataset]
			from = d.nodes[0]
			attrs += ", ltail=" + dotID("cluster_"+d.model.Name)
		}
		if a.toDataset >= 0 {
			d := g.datasets[a.toDataset]
			to = d.nodes[0]
			attrs += ", lhead=" + dotID("cluster_"+d.model.Name)
		}
		p("  %s -> %s [%s];\n", dotID(g.nodes[from].Address.String()), dotID(g.nodes[to].Address.String()), attrs)
	}
	p("}\n")
	return bw.Flush()
}

// WriteMermaid writes the graph as a Mermaid flowchart, with the same
// content as WriteDOT: subgraphs for datasets, stadium-shaped identities,
// "-->" for directed references, "---" for undirected ones, "-.->" for
// `after`.
func (g *Graph) WriteMermaid(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("flowchart LR\n")
	for di, d := range g.datasets {
		p("  subgraph d%d[%s]\n", di, mermaidText(d.model.Name))
		for _, id := range d.nodes {
			p("    n%d[%s]\n", id, mermaidText(g.nodes[id].Address.Collection))
		}
		p("  end\n")
	}
	for ii, name := range g.identities {
		p("  i%d([%s])\n", ii, mermaidText("identity: "+name))
	}
	for ii, name := range g.identities {
		for _, n := range g.nodes {
			for _, s := range n.Seeds {
				if s.Identity == name {
					p("  i%d -->|%s| n%d\n", ii, mermaidText(s.Field.String()), n.id)
				}
			}
		}
	}
	for _, e := range g.edges {
		if e.Directed {
			p("  n%d -->|%s| n%d\n", e.from, mermaidText(e.From.Field.String()+" -> "+e.To.Field.String()), e.to)
		} else {
			p("  n%d ---|%s| n%d\n", e.from, mermaidText(e.From.Field.String()+" -- "+e.To.Field.String()), e.to)
		}
	}
	for _, a := range g.afterEdges() {
		from, to := fmt.Sprintf("n%d", a.from), fmt.Sprintf("n%d", a.to)
		if a.fromDataset >= 0 {
			from = fmt.Sprintf("d%d", a.fromDataset)
		}
		if a.toDataset >= 0 {
			to = fmt.Sprintf("d%d", a.toDataset)
		}
		p("  %s -.->|after| %s\n", from, to)
	}
	return bw.Flush()
}

// afterEdge is one `after` entry drawn as an edge: from the collection or
// dataset waited for, to the collection or dataset that waits. A dataset
// end has its index in fromDataset / toDataset, else -1.
type afterEdge struct {
	from, to               int32
	fromDataset, toDataset int32
}

// afterEdges lists `after` entries in node order then dataset order,
// leaving out datasets without collections (nothing to draw).
func (g *Graph) afterEdges() []afterEdge {
	var out []afterEdge
	src := func(dep Dep) (afterEdge, bool) {
		if dep.Node != nil {
			return afterEdge{from: dep.Node.id, fromDataset: -1}, true
		}
		return afterEdge{fromDataset: dep.group}, len(g.datasets[dep.group].nodes) > 0
	}
	for _, n := range g.nodes {
		for _, dep := range n.After {
			if a, ok := src(dep); ok {
				a.to, a.toDataset = n.id, -1
				out = append(out, a)
			}
		}
	}
	for di, d := range g.datasets {
		if len(d.nodes) == 0 {
			continue
		}
		for _, dep := range d.after {
			if a, ok := src(dep); ok {
				a.toDataset = int32(di)
				out = append(out, a)
			}
		}
	}
	return out
}

// dotID quotes s as a DOT identifier.
func dotID(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// mermaidText quotes s as Mermaid label text; quotes and characters
// Mermaid would read as markup become entity codes.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "\n", " ", "|", "#124;", "<", "#lt;", ">", "#gt;")
	return `"` + r.Replace(s) + `"`
}
