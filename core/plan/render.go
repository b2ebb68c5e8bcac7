package plan

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/lethehq/lethe/core/dataset"
)

type jsonPlan struct {
	Identities        []string      `json:"identities"`
	UnknownIdentities []string      `json:"unknown_identities"`
	Nodes             []jsonNode    `json:"nodes"`
	Edges             []jsonEdge    `json:"edges"`
	Erasure           []jsonErasure `json:"erasure,omitempty"`
	Skipped           []jsonSkipped `json:"skipped"`
	Shared            []jsonShared  `json:"shared"`
	// Normalize: identity name -> normalizations applied at intake.
	Normalize map[string][]string `json:"normalize,omitempty"`
}

type jsonShared struct {
	Address string   `json:"address"`
	Fields  []string `json:"fields"`
	All     bool     `json:"all"`
}

type jsonNode struct {
	Address      string      `json:"address"`
	Connection   string      `json:"connection"`
	Dependencies []string    `json:"dependencies"`
	Seeds        []jsonSeed  `json:"seeds"`
	Inputs       []jsonInput `json:"inputs"`
}

type jsonSeed struct {
	Identity string `json:"identity"`
	Field    string `json:"field"`
}

type jsonInput struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Shared bool   `json:"shared,omitempty"`
}

type jsonEdge struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Direction string `json:"direction"` // "to", "from", or "either" (oriented by the traversal)
	Declared  string `json:"declared_on"`
	Shared    bool   `json:"shared,omitempty"`
}

type jsonErasure struct {
	Address string   `json:"address"`
	After   []string `json:"after"`
}

type jsonSkipped struct {
	Address    string   `json:"address"`
	Identities []string `json:"identities"`
}

// MarshalJSON writes the plan with addresses as strings and empty lists as
// [] (never null), so the shape is stable. Identity values are not part of
// a plan.
func (p *Plan) MarshalJSON() ([]byte, error) {
	out := jsonPlan{
		Identities:        nonNil(p.Identities),
		UnknownIdentities: nonNil(p.UnknownIdentities),
		Nodes:             make([]jsonNode, len(p.Nodes)),
		Edges:             make([]jsonEdge, len(p.Edges)),
		Skipped:           make([]jsonSkipped, len(p.Skipped)),
		Shared:            make([]jsonShared, len(p.Shared)),
		Normalize:         p.Normalize,
	}
	for i, s := range p.Shared {
		fields := make([]string, len(s.Fields))
		for k, f := range s.Fields {
			fields[k] = f.String()
		}
		out.Shared[i] = jsonShared{Address: s.Address.String(), Fields: fields, All: s.All}
	}
	for i, n := range p.Nodes {
		j := jsonNode{
			Address:      n.Address.String(),
			Dependencies: addrs(n.Dependencies),
			Seeds:        make([]jsonSeed, len(n.Seeds)),
			Inputs:       make([]jsonInput, len(n.Inputs)),
		}
		if n.Dataset != nil {
			j.Connection = n.Dataset.Connection
		}
		for k, s := range n.Seeds {
			j.Seeds[k] = jsonSeed{Identity: s.Identity, Field: s.Field.String()}
		}
		for k, in := range n.Inputs {
			j.Inputs[k] = jsonInput{From: in.From.String(), To: in.To.String(), Shared: in.Shared}
		}
		out.Nodes[i] = j
	}
	for i, e := range p.Edges {
		out.Edges[i] = jsonEdge{From: e.From.String(), To: e.To.String(), Direction: direction(e.Direction), Declared: e.Declared.String(), Shared: e.Shared}
	}
	if p.Erasure != nil {
		out.Erasure = make([]jsonErasure, len(p.Erasure))
		for i, e := range p.Erasure {
			out.Erasure[i] = jsonErasure{Address: e.Address.String(), After: addrs(e.After)}
		}
	}
	for i, s := range p.Skipped {
		out.Skipped[i] = jsonSkipped{Address: s.Address.String(), Identities: nonNil(s.Identities)}
	}
	return json.Marshal(out)
}

func direction(d dataset.Direction) string {
	if d == dataset.DirectionEither {
		return "either"
	}
	return string(d)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func addrs(as []dataset.CollectionAddress) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// Render writes the plan as text for people: the access order with each
// collection's dependencies, seeds and inputs, the erasure order when there
// is one, and the skipped collections with the identities that would reach
// them.
func (p *Plan) Render(w io.Writer) error { return p.RenderAnnotated(w, nil) }

// RenderAnnotated is Render with extra lines under each collection of the
// access order, from note (which may be nil): for example the query a
// connector would run.
func (p *Plan) RenderAnnotated(w io.Writer, note func(n *Node) []string) error {
	bw := bufio.NewWriter(w)
	pr := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	pr("Identities: %s\n", listOrNone(p.Identities))
	for _, name := range p.Identities {
		if steps := p.Normalize[name]; len(steps) > 0 {
			pr("  %s is normalized at intake: %s\n", name, strings.Join(steps, ", "))
		}
	}
	if len(p.UnknownIdentities) > 0 {
		pr("Ignored identities (no field declares them): %s\n", strings.Join(p.UnknownIdentities, ", "))
	}
	pr("\nAccess order (%d %s):\n", len(p.Nodes), plural(len(p.Nodes), "collection", "collections"))
	width := len(fmt.Sprint(len(p.Nodes)))
	for i := range p.Nodes {
		n := &p.Nodes[i]
		pr("  %*d. %s\n", width, i+1, n.Address)
		if len(n.Dependencies) > 0 {
			pr("  %*s    after   %s\n", width, "", joinAddrs(n.Dependencies))
		}
		for _, s := range n.Seeds {
			pr("  %*s    seed    %s <- identity %s\n", width, "", s.Field, s.Identity)
		}
		for _, in := range n.Inputs {
			if in.Shared {
				pr("  %*s    input   %s <- %s  (shared)\n", width, "", in.To, in.From)
				continue
			}
			pr("  %*s    input   %s <- %s\n", width, "", in.To, in.From)
		}
		if note != nil {
			for _, line := range note(n) {
				pr("  %*s    %s\n", width, "", line)
			}
		}
	}
	if p.Erasure != nil {
		pr("\nErasure order (%d %s):\n", len(p.Erasure), plural(len(p.Erasure), "collection", "collections"))
		width := len(fmt.Sprint(len(p.Erasure)))
		for i, e := range p.Erasure {
			pr("  %*d. %s\n", width, i+1, e.Address)
			if len(e.After) > 0 {
				pr("  %*s    after   %s\n", width, "", joinAddrs(e.After))
			}
		}
	}
	if len(p.Shared) > 0 {
		pr("\nShared, not erased (rows reached only through a shared reference belong to someone else):\n")
		for _, s := range p.Shared {
			fields := make([]string, len(s.Fields))
			for k, f := range s.Fields {
				fields[k] = f.String()
			}
			scope := "rows found only by " + strings.Join(fields, " or ")
			if s.All {
				scope = "every row (found only by " + strings.Join(fields, " or ") + ")"
			}
			pr("  %s  %s: never erased, packaged as %s only, feed no other collection\n", s.Address, scope, strings.Join(fields, ", "))
		}
	}
	if len(p.Skipped) > 0 {
		pr("\nSkipped (%d %s not reached with these identities):\n", len(p.Skipped), plural(len(p.Skipped), "collection", "collections"))
		for _, s := range p.Skipped {
			if len(s.Identities) == 0 {
				pr("  %s  (no declared identity reaches it)\n", s.Address)
				continue
			}
			pr("  %s  needs %s %s\n", s.Address, plural(len(s.Identities), "identity", "one of the identities"), strings.Join(s.Identities, ", "))
		}
	}
	return bw.Flush()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func joinAddrs(as []dataset.CollectionAddress) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}
