package config

import (
	"fmt"
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/lethehq/lethe/core/policy"
)

func (l *loader) errorf(r hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  r.Ptr(),
	})
}

// remember records a value that no diagnostic may repeat.
func (l *loader) remember(v string) {
	if v != "" {
		l.cfg.secrets[v] = true
	}
}

// body decodes a block's body against its attributes (required ones
// reported missing at the block's header) and nested block types.
type body struct {
	l      *loader
	block  *hcl.Block
	attrs  map[string]*hcl.Attribute
	blocks []*hcl.Block
	ranges map[string]hcl.Range
	ok     bool
}

func (l *loader) content(b *hcl.Block, attrs []string, required []string, blocks ...hcl.BlockHeaderSchema) *body {
	schema := &hcl.BodySchema{Blocks: blocks}
	for _, a := range attrs {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: a})
	}
	content, diags := b.Body.Content(schema)
	l.diags = append(l.diags, diags...)
	bd := &body{l: l, block: b, attrs: content.Attributes, blocks: content.Blocks, ranges: map[string]hcl.Range{}, ok: !diags.HasErrors()}
	for name, a := range content.Attributes {
		bd.ranges[name] = a.Expr.Range()
	}
	for _, name := range required {
		if content.Attributes[name] == nil {
			l.errorf(b.DefRange, "Missing required argument", "The %s needs the argument %q.", describeBlock(b), name)
			bd.ok = false
		}
	}
	return bd
}

func describeBlock(b *hcl.Block) string {
	if len(b.Labels) > 0 {
		return fmt.Sprintf("%s %q", b.Type, b.Labels[0])
	}
	return b.Type + " block"
}

// value evaluates attribute name; present is false when it is absent, null
// or failed to evaluate (the failure is reported).
func (bd *body) value(name string) (cty.Value, *hcl.Attribute, bool) {
	a := bd.attrs[name]
	if a == nil {
		return cty.NilVal, nil, false
	}
	v, diags := a.Expr.Value(bd.l.ctx)
	for _, d := range diags {
		// No expression has variables to show; drop the evaluation context
		// so that nothing is rendered from it.
		d.Expression, d.EvalContext = nil, nil
	}
	bd.l.diags = append(bd.l.diags, diags...)
	if diags.HasErrors() {
		bd.ok = false
		return cty.NilVal, a, false
	}
	if v.IsNull() {
		return cty.NilVal, a, false
	}
	if !v.IsWhollyKnown() {
		bd.typeError(a, "a known value")
		return cty.NilVal, a, false
	}
	return v, a, true
}

func (bd *body) typeError(a *hcl.Attribute, want string) {
	bd.ok = false
	bd.l.diags = append(bd.l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Incorrect attribute value type",
		Detail:   fmt.Sprintf("The argument %q must be %s.", a.Name, want),
		Subject:  a.Expr.Range().Ptr(),
		Context:  a.Range.Ptr(),
	})
}

func (bd *body) invalid(name, format string, args ...any) {
	bd.ok = false
	bd.l.errorf(bd.ranges[name], "Invalid value for "+name, format, args...)
}

func (bd *body) str(name string) (string, bool) {
	v, a, ok := bd.value(name)
	if !ok {
		return "", false
	}
	if v.Type() != cty.String {
		bd.typeError(a, "a string, not "+friendlyType(v.Type()))
		return "", false
	}
	return v.AsString(), true
}

// secret reads a string whose value is remembered as a secret, literal or
// not.
func (bd *body) secret(name string) (Secret, bool) {
	s, ok := bd.str(name)
	if ok {
		bd.l.remember(s)
	}
	return Secret(s), ok
}

func (bd *body) boolean(name string) (bool, bool) {
	v, a, ok := bd.value(name)
	if !ok {
		return false, false
	}
	if v.Type() != cty.Bool {
		bd.typeError(a, "true or false, not "+friendlyType(v.Type()))
		return false, false
	}
	return v.True(), true
}

// integer reads a whole number within [min, max].
func (bd *body) integer(name string, min, max int) (int, bool) {
	v, a, ok := bd.value(name)
	if !ok {
		return 0, false
	}
	if v.Type() != cty.Number {
		bd.typeError(a, "a number, not "+friendlyType(v.Type()))
		return 0, false
	}
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact || n < int64(min) || n > int64(max) {
		bd.invalid(name, "The argument %q must be a whole number from %d to %d.", name, min, max)
		return 0, false
	}
	return int(n), true
}

// strings reads a list of strings, recording "name[i]" ranges.
func (bd *body) strings(name string) ([]string, bool) {
	v, a, ok := bd.value(name)
	if !ok {
		return nil, false
	}
	ty := v.Type()
	if !ty.IsTupleType() && !ty.IsListType() && !ty.IsSetType() {
		bd.typeError(a, "a list of strings, like [\"a\", \"b\"], not "+friendlyType(ty))
		return nil, false
	}
	var elems []hclsyntax.Expression
	if tup, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok {
		elems = tup.Exprs
	}
	out := make([]string, 0, v.LengthInt())
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, e := it.Element()
		r := a.Expr.Range()
		if i < len(elems) {
			r = elems[i].Range()
			bd.ranges[fmt.Sprintf("%s[%d]", name, i)] = r
		}
		if e.IsNull() || e.Type() != cty.String {
			bd.ok = false
			bd.l.errorf(r, "Incorrect attribute value type", "Element %d of %q must be a string.", i+1, name)
			return nil, false
		}
		out = append(out, e.AsString())
	}
	return out, true
}

// duration reads a duration string such as "45d" or "1h30m" within
// [min, max].
func (bd *body) duration(name string, min, max time.Duration) (time.Duration, bool) {
	s, ok := bd.str(name)
	if !ok {
		return 0, false
	}
	d, err := policy.ParseDuration(s)
	if err != nil {
		bd.invalid(name, "The argument %q must be a duration like \"45d\", \"36h\" or \"90m\".", name)
		return 0, false
	}
	if d < min || d > max {
		bd.invalid(name, "The argument %q must be between %s and %s.", name, fmtDuration(min), fmtDuration(max))
		return 0, false
	}
	return d, true
}

func fmtDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// object reads an object into loosely typed Go values, recording the range
// of each key's value when the expression is an object literal.
func (bd *body) object(name string) (map[string]any, map[string]hcl.Range, bool) {
	v, a, ok := bd.value(name)
	if !ok {
		return nil, nil, false
	}
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		bd.typeError(a, "an object, like { key = \"value\" }, not "+friendlyType(ty))
		return nil, nil, false
	}
	ranges := map[string]hcl.Range{}
	if obj, isObj := a.Expr.(*hclsyntax.ObjectConsExpr); isObj {
		first := map[string]hcl.Range{}
		for _, item := range obj.Items {
			kv, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || kv.IsNull() || kv.Type() != cty.String {
				continue
			}
			key := kv.AsString()
			if r, dup := first[key]; dup {
				bd.ok = false
				bd.l.errorf(item.KeyExpr.Range(), "Duplicate key", "The key %q is already set at %s; remove one of them.", key, pos(r))
				return nil, nil, false
			}
			first[key] = item.KeyExpr.Range()
			ranges[key] = item.ValueExpr.Range()
		}
	}
	out, err := goValue(v)
	if err != nil {
		bd.invalid(name, "The argument %q: %v.", name, err)
		return nil, nil, false
	}
	m, _ := out.(map[string]any)
	return m, ranges, true
}

// goValue converts a cty value into string, int64, float64, bool, []any,
// map[string]any or nil.
func goValue(v cty.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString(), nil
	case ty == cty.Bool:
		return v.True(), nil
	case ty == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			if n, acc := bf.Int64(); acc == big.Exact {
				return n, nil
			}
			return nil, fmt.Errorf("the number is too large")
		}
		f, _ := bf.Float64()
		return f, nil
	case ty.IsTupleType() || ty.IsListType() || ty.IsSetType():
		out := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			g, err := goValue(e)
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	case ty.IsObjectType() || ty.IsMapType():
		out := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			g, err := goValue(e)
			if err != nil {
				return nil, err
			}
			out[k.AsString()] = g
		}
		return out, nil
	}
	return nil, fmt.Errorf("values of type %s are not supported", friendlyType(ty))
}

func friendlyType(ty cty.Type) string {
	switch {
	case ty == cty.String:
		return "a string"
	case ty == cty.Number:
		return "a number"
	case ty == cty.Bool:
		return "a bool"
	case ty.IsTupleType() || ty.IsListType() || ty.IsSetType():
		return "a list"
	case ty.IsObjectType() || ty.IsMapType():
		return "an object"
	case ty == cty.DynamicPseudoType:
		return "null"
	}
	return ty.FriendlyName()
}
