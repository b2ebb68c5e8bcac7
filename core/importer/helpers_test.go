package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/lethehq/lethe/core/dataset"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseHCL parses importer output; any diagnostic fails the test.
func parseHCL(t testing.TB, src []byte) *hclsyntax.Body {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(src, "out.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("output does not parse as HCL: %s\n%s", diags.Error(), src)
	}
	return f.Body.(*hclsyntax.Body)
}

// block returns the nested block reached by (type, label) steps, or fails.
func block(t testing.TB, body *hclsyntax.Body, steps ...string) *hclsyntax.Body {
	t.Helper()
	for i := 0; i+1 < len(steps); i += 2 {
		var found *hclsyntax.Block
		for _, b := range body.Blocks {
			if b.Type == steps[i] && len(b.Labels) == 1 && b.Labels[0] == steps[i+1] {
				if found != nil {
					t.Fatalf("two %s %q blocks", steps[i], steps[i+1])
				}
				found = b
			}
		}
		if found == nil {
			t.Fatalf("no %s %q block under %v", steps[i], steps[i+1], steps[:i])
		}
		body = found.Body
	}
	return body
}

// attr evaluates a literal attribute; cty.NilVal when absent.
func attr(t testing.TB, body *hclsyntax.Body, name string) cty.Value {
	t.Helper()
	a, ok := body.Attributes[name]
	if !ok {
		return cty.NilVal
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("attribute %s: %s", name, diags.Error())
	}
	return v
}

func strs(v cty.Value) []string {
	if v == cty.NilVal || v.IsNull() {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e.AsString())
	}
	return out
}

// decodeHCL reads importer output back into the model, independently of
// core/config: it proves the HCL carries everything the model holds.
func decodeHCL(t testing.TB, src []byte) []*dataset.Dataset {
	t.Helper()
	body := parseHCL(t, src)
	var out []*dataset.Dataset
	for _, b := range body.Blocks {
		if b.Type != "dataset" {
			t.Fatalf("unexpected top-level block %s", b.Type)
		}
		ds := &dataset.Dataset{Name: b.Labels[0]}
		if v := attr(t, b.Body, "connection"); v != cty.NilVal {
			ds.Connection = v.AsString()
		}
		if v := attr(t, b.Body, "description"); v != cty.NilVal {
			ds.Description = v.AsString()
		}
		ds.After = strs(attr(t, b.Body, "after"))
		for _, cb := range b.Body.Blocks {
			c := &dataset.Collection{Name: cb.Labels[0]}
			c.After = strs(attr(t, cb.Body, "after"))
			c.EraseAfter = strs(attr(t, cb.Body, "erase_after"))
			c.Fields = decodeFields(t, cb.Body)
			ds.Collections = append(ds.Collections, c)
		}
		out = append(out, ds)
	}
	return out
}

func decodeFields(t testing.TB, body *hclsyntax.Body) []*dataset.Field {
	var out []*dataset.Field
	for _, fb := range body.Blocks {
		if fb.Type != "field" {
			continue
		}
		f := &dataset.Field{Name: fb.Labels[0]}
		if v := attr(t, fb.Body, "type"); v != cty.NilVal {
			f.Type, f.Array = strings.CutSuffix(v.AsString(), "[]")
		}
		f.Categories = strs(attr(t, fb.Body, "categories"))
		f.PrimaryKey = attr(t, fb.Body, "primary_key") == cty.True
		if v := attr(t, fb.Body, "identity"); v != cty.NilVal {
			f.Identity = v.AsString()
		}
		if v := attr(t, fb.Body, "length"); v != cty.NilVal {
			n, _ := v.AsBigFloat().Int64()
			f.Length = int(n)
		}
		f.ReturnAllElements = attr(t, fb.Body, "return_all_elements") == cty.True
		for _, rb := range fb.Body.Blocks {
			if rb.Type != "reference" {
				continue
			}
			parts := strings.Split(rb.Labels[0], ".")
			ref := dataset.Reference{Target: dataset.FieldAddress{Dataset: parts[0], Collection: parts[1], Field: dataset.Path(parts[2:])}}
			if v := attr(t, rb.Body, "direction"); v != cty.NilVal {
				ref.Direction = dataset.Direction(v.AsString())
			}
			f.References = append(f.References, ref)
		}
		f.Fields = decodeFields(t, fb.Body)
		out = append(out, f)
	}
	return out
}

// normalize zeroes every hcl.Range and turns empty slices into nil, so that
// models built from YAML and from HCL compare with reflect.DeepEqual.
func normalize(dss []*dataset.Dataset) []*dataset.Dataset {
	out := make([]*dataset.Dataset, len(dss))
	for i, ds := range dss {
		cp := *ds
		cp.Range = hcl.Range{}
		cp.Name, cp.Connection, cp.Description = nfc(cp.Name), nfc(cp.Connection), nfc(cp.Description)
		cp.After = nilIfEmpty(nfcAll(cp.After))
		cp.Collections = nil
		for _, c := range ds.Collections {
			cc := *c
			cc.Range = hcl.Range{}
			cc.Name = nfc(cc.Name)
			cc.After = nilIfEmpty(nfcAll(cc.After))
			cc.EraseAfter = nilIfEmpty(nfcAll(cc.EraseAfter))
			cc.Fields = normalizeFields(c.Fields)
			cp.Collections = append(cp.Collections, &cc)
		}
		out[i] = &cp
	}
	return out
}

func normalizeFields(fields []*dataset.Field) []*dataset.Field {
	var out []*dataset.Field
	for _, f := range fields {
		cp := *f
		cp.Range = hcl.Range{}
		cp.Name, cp.Type, cp.Identity = nfc(cp.Name), nfc(cp.Type), nfc(cp.Identity)
		cp.Categories = nilIfEmpty(nfcAll(cp.Categories))
		cp.References = nil
		for _, r := range f.References {
			r.Range = hcl.Range{}
			r.Target.Dataset, r.Target.Collection = nfc(r.Target.Dataset), nfc(r.Target.Collection)
			r.Target.Field = dataset.Path(nfcAll(r.Target.Field))
			cp.References = append(cp.References, r)
		}
		cp.Fields = normalizeFields(f.Fields)
		out = append(out, &cp)
	}
	return out
}

// nfc normalizes as HCL (cty) strings are: Unicode normalization form C.
func nfc(s string) string { return cty.StringVal(s).AsString() }

func nfcAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = nfc(s)
	}
	return out
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// dump renders a model one line per field, for readable test failures.
func dump(dss []*dataset.Dataset) string {
	var b strings.Builder
	var fields func(prefix string, fs []*dataset.Field)
	fields = func(prefix string, fs []*dataset.Field) {
		for _, f := range fs {
			fmt.Fprintf(&b, "  %s%s type=%q array=%t cats=%v pk=%t id=%q len=%d all=%t refs=%v\n",
				prefix, f.Name, f.Type, f.Array, f.Categories, f.PrimaryKey, f.Identity, f.Length, f.ReturnAllElements, f.References)
			fields(prefix+f.Name+".", f.Fields)
		}
	}
	for _, ds := range dss {
		fmt.Fprintf(&b, "dataset %s conn=%q desc=%q after=%v\n", ds.Name, ds.Connection, ds.Description, ds.After)
		for _, c := range ds.Collections {
			fmt.Fprintf(&b, " collection %s after=%v erase_after=%v\n", c.Name, c.After, c.EraseAfter)
			fields("", c.Fields)
		}
	}
	return b.String()
}

func assertSameModel(t testing.TB, want, got []*dataset.Dataset) {
	t.Helper()
	w, g := normalize(want), normalize(got)
	if !reflect.DeepEqual(w, g) {
		t.Fatalf("models differ\nwant:\n%s\ngot:\n%s", dump(w), dump(g))
	}
}
