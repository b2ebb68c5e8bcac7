package graph

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/dataset"
)

// Small builders for datasets in tests. Ranges name what they belong to
// (Filename), so tests can check where a diagnostic points.

type fieldOpt func(*dataset.Field)

type collOpt func(*dataset.Collection)

func rangeOf(name string) hcl.Range {
	return hcl.Range{Filename: name, Start: hcl.Pos{Line: 1, Column: 1, Byte: 0}, End: hcl.Pos{Line: 1, Column: 2, Byte: 1}}
}

func ds(name string, colls ...*dataset.Collection) *dataset.Dataset {
	d := &dataset.Dataset{Name: name, Connection: name + "_db", Collections: colls, Range: rangeOf(name)}
	for _, c := range colls {
		c.Range = rangeOf(name + "." + c.Name)
		for _, f := range c.Fields {
			setRanges(name+"."+c.Name, f)
		}
	}
	return d
}

func setRanges(prefix string, f *dataset.Field) {
	f.Range = rangeOf(prefix + "." + f.Name)
	for i := range f.References {
		f.References[i].Range = rangeOf(prefix + "." + f.Name + " ref " + f.References[i].Target.String())
	}
	for _, sub := range f.Fields {
		setRanges(prefix+"."+f.Name, sub)
	}
}

func dsAfter(d *dataset.Dataset, after ...string) *dataset.Dataset {
	d.After = after
	return d
}

func coll(name string, parts ...any) *dataset.Collection {
	c := &dataset.Collection{Name: name}
	for _, p := range parts {
		switch p := p.(type) {
		case *dataset.Field:
			c.Fields = append(c.Fields, p)
		case collOpt:
			p(c)
		default:
			panic("coll: unexpected part")
		}
	}
	return c
}

func after(entries ...string) collOpt {
	return func(c *dataset.Collection) { c.After = append(c.After, entries...) }
}

func eraseAfter(entries ...string) collOpt {
	return func(c *dataset.Collection) { c.EraseAfter = append(c.EraseAfter, entries...) }
}

func fld(name string, opts ...fieldOpt) *dataset.Field {
	f := &dataset.Field{Name: name, Type: "string"}
	for _, o := range opts {
		o(f)
	}
	return f
}

func ident(name string) fieldOpt { return func(f *dataset.Field) { f.Identity = name } }

func sub(fields ...*dataset.Field) fieldOpt {
	return func(f *dataset.Field) { f.Type, f.Fields = "object", fields }
}

// ref adds a reference to "dataset.collection.field[.sub]".
func ref(target string, dir dataset.Direction) fieldOpt {
	parts := strings.Split(target, ".")
	return func(f *dataset.Field) {
		f.References = append(f.References, dataset.Reference{
			Target:    dataset.FieldAddress{Dataset: parts[0], Collection: parts[1], Field: dataset.Path(parts[2:])},
			Direction: dir,
		})
	}
}

const (
	to     = dataset.DirectionTo
	from   = dataset.DirectionFrom
	either = dataset.DirectionEither
)

func addrsOf(nodes []*Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Address.String()
	}
	return out
}

func stepAddrs(steps []Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Node.Address.String()
	}
	return out
}

func linkStrings(links []Link) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.From().String() + " -> " + l.To().String()
	}
	return out
}

func diagStrings(diags hcl.Diagnostics) []string {
	out := make([]string, len(diags))
	for i, d := range diags {
		subj := "-"
		if d.Subject != nil {
			subj = d.Subject.Filename
		}
		out[i] = d.Summary + " @ " + subj + "\n" + d.Detail
	}
	return out
}
