package importer

import (
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/lethehq/lethe/core/dataset"
)

// render writes the datasets as HCL, with their notes as comments.
func render(filename string, dss []*dataset.Dataset, nt *notes) []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	source := "a Fidesops dataset file"
	if filename != "" {
		source = filepath.Base(filename)
	}
	comment(body, "Converted from "+source+" by `lethe import fidesops`.\n"+
		"Names, descriptions and keys Lethe has no attribute for are kept as comments.")
	if len(nt.file) > 0 {
		body.AppendNewline()
		for _, n := range nt.file {
			comment(body, n)
		}
	}
	for _, ds := range dss {
		body.AppendNewline()
		renderDataset(body, ds, nt)
	}
	return hclwrite.Format(f.Bytes())
}

func renderDataset(parent *hclwrite.Body, ds *dataset.Dataset, nt *notes) {
	b := parent.AppendNewBlock("dataset", []string{ds.Name}).Body()
	for _, n := range nt.datasets[ds] {
		comment(b, n)
	}
	b.SetAttributeValue("connection", cty.StringVal(ds.Connection))
	if ds.Description != "" {
		b.SetAttributeValue("description", cty.StringVal(ds.Description))
	}
	if len(ds.After) > 0 {
		b.SetAttributeValue("after", strings2cty(ds.After))
	}
	for _, c := range ds.Collections {
		b.AppendNewline()
		cb := b.AppendNewBlock("collection", []string{c.Name}).Body()
		for _, n := range nt.collections[c] {
			comment(cb, n)
		}
		if len(c.After) > 0 {
			cb.SetAttributeValue("after", strings2cty(c.After))
		}
		if len(c.EraseAfter) > 0 {
			cb.SetAttributeValue("erase_after", strings2cty(c.EraseAfter))
		}
		renderFields(cb, c.Fields, nt, len(c.After) > 0 || len(c.EraseAfter) > 0 || len(nt.collections[c]) > 0)
	}
}

// renderFields appends field blocks; gap says whether the body already has
// content that a blank line should separate from the first block.
func renderFields(b *hclwrite.Body, fields []*dataset.Field, nt *notes, gap bool) {
	for i, f := range fields {
		if gap || i > 0 {
			b.AppendNewline()
		}
		fb := b.AppendNewBlock("field", []string{f.Name}).Body()
		for _, n := range nt.fields[f] {
			comment(fb, n)
		}
		if f.Type != "" {
			t := f.Type
			if f.Array {
				t += "[]"
			}
			fb.SetAttributeValue("type", cty.StringVal(t))
		}
		if len(f.Categories) > 0 {
			fb.SetAttributeValue("categories", strings2cty(f.Categories))
		}
		if f.PrimaryKey {
			fb.SetAttributeValue("primary_key", cty.True)
		}
		if f.Identity != "" {
			fb.SetAttributeValue("identity", cty.StringVal(f.Identity))
		}
		if f.Length > 0 {
			fb.SetAttributeValue("length", cty.NumberIntVal(int64(f.Length)))
		}
		if f.ReturnAllElements {
			fb.SetAttributeValue("return_all_elements", cty.True)
		}
		for _, ref := range f.References {
			rb := fb.AppendNewBlock("reference", []string{ref.Target.String()}).Body()
			if ref.Direction != dataset.DirectionEither {
				rb.SetAttributeValue("direction", cty.StringVal(string(ref.Direction)))
			}
		}
		renderFields(fb, f.Fields, nt, len(fb.Attributes()) > 0 || len(f.References) > 0 || len(nt.fields[f]) > 0)
	}
}

func strings2cty(ss []string) cty.Value {
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// comment appends text as # comment lines.
func comment(b *hclwrite.Body, text string) {
	var toks hclwrite.Tokens
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(commentSafe(line), " \t")
		if line == "" {
			toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComment, Bytes: []byte("#\n")})
			continue
		}
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComment, Bytes: []byte("# " + line + "\n")})
	}
	b.AppendUnstructuredTokens(toks)
}

// commentSafe keeps a comment on its line: invalid UTF-8 and control
// characters (a carriage return would end the comment) become U+FFFD.
func commentSafe(s string) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	return strings.Map(func(r rune) rune {
		if r != '\t' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029') {
			return utf8.RuneError
		}
		return r
	}, s)
}
