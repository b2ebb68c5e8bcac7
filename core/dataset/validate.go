package dataset

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/taxonomy"
)

// Types are the field types, each optionally declared with a "[]" suffix.
var Types = []string{"string", "integer", "float", "boolean", "object_id", "object"}

// ParseType splits a declared type such as "string[]" into its element type
// and whether it is an array, and reports whether the element type is known.
// "" is the undeclared type.
func ParseType(s string) (typ string, array bool, ok bool) {
	typ, array = strings.CutSuffix(s, "[]")
	if typ == "" {
		return "", array, !array
	}
	for _, t := range Types {
		if typ == t {
			return typ, array, true
		}
	}
	return typ, array, false
}

// ParseFieldAddress parses "dataset.collection.field[.subfield...]".
func ParseFieldAddress(s string) (FieldAddress, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 3 {
		return FieldAddress{}, fmt.Errorf("reference %q must name dataset.collection.field", s)
	}
	for _, p := range parts {
		if p == "" {
			return FieldAddress{}, fmt.Errorf("reference %q has an empty part between dots", s)
		}
	}
	return FieldAddress{Dataset: parts[0], Collection: parts[1], Field: Path(parts[2:])}, nil
}

// Severity of a Problem.
type Severity int

const (
	Error Severity = iota
	Warning
)

// Problem is one validation finding. Range is zero when the dataset did not
// come from HCL.
type Problem struct {
	Severity Severity
	Summary  string
	Detail   string
	Range    hcl.Range
}

func (p Problem) Error() string {
	if p.Detail == "" {
		return p.Summary
	}
	return p.Summary + ": " + p.Detail
}

// ValidateOptions says what datasets are checked against.
type ValidateOptions struct {
	// Taxonomy holds the known data categories; nil means taxonomy.Default().
	Taxonomy *taxonomy.Taxonomy
	// Connections holds the declared connection names; nil skips the check.
	Connections map[string]bool
}

// namePattern is the rule for dataset names: addresses are dotted, so a
// name cannot contain a dot.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Validate checks datasets on their own and against each other: names,
// field types, categories, references, identities and after/erase_after.
// Reachability and cycles are core/graph's.
func Validate(datasets []*Dataset, opts ValidateOptions) []Problem {
	if opts.Taxonomy == nil {
		opts.Taxonomy = taxonomy.Default()
	}
	v := &validator{opts: opts, byName: map[string]*Dataset{}}
	for _, ds := range datasets {
		if first := v.byName[ds.Name]; first != nil {
			v.errorf(ds.Range, "Duplicate dataset", "A dataset named %q is already declared%s; rename one of them or remove the duplicate.", ds.Name, at(first.Range))
			continue
		}
		v.byName[ds.Name] = ds
		v.list = append(v.list, ds)
	}
	for _, ds := range v.list {
		v.dataset(ds)
	}
	return v.out
}

type validator struct {
	opts   ValidateOptions
	byName map[string]*Dataset
	list   []*Dataset // without duplicates
	out    []Problem
}

func (v *validator) errorf(r hcl.Range, summary, format string, args ...any) {
	v.out = append(v.out, Problem{Severity: Error, Summary: summary, Detail: fmt.Sprintf(format, args...), Range: r})
}

func (v *validator) warnf(r hcl.Range, summary, format string, args ...any) {
	v.out = append(v.out, Problem{Severity: Warning, Summary: summary, Detail: fmt.Sprintf(format, args...), Range: r})
}

func (v *validator) dataset(ds *Dataset) {
	if !namePattern.MatchString(ds.Name) {
		v.errorf(ds.Range, "Invalid dataset name", "Dataset name %q may only contain letters, digits, '_' and '-' (addresses are dataset.collection.field).", ds.Name)
	}
	switch {
	case ds.Connection == "":
		v.errorf(ds.Range, "Dataset without connection", "Dataset %q needs connection = \"<name of a connection block>\".", ds.Name)
	case v.opts.Connections != nil && !v.opts.Connections[ds.Connection]:
		v.errorf(rangeOf(ds.Ranges, "connection", ds.Range), "Unknown connection",
			"Dataset %q uses connection %q, which is not declared%s; declare a connection block with that name or fix the name.",
			ds.Name, ds.Connection, suggest(ds.Connection, keys(v.opts.Connections)))
	}
	if len(ds.Collections) == 0 {
		v.errorf(ds.Range, "Dataset without collections", "Dataset %q has no collection; add a collection block with its fields.", ds.Name)
	}
	for i, a := range ds.After {
		v.after(ds, nil, "after", i, a)
	}
	seen := map[string]*Collection{}
	for _, c := range ds.Collections {
		addr := ds.Name + "." + c.Name
		if first := seen[c.Name]; first != nil {
			v.errorf(c.Range, "Duplicate collection", "Dataset %q already has a collection named %q%s; rename one of them or remove the duplicate.", ds.Name, c.Name, at(first.Range))
			continue
		}
		seen[c.Name] = c
		v.checkName(c.Range, "collection", addr, c.Name)
		if len(c.Fields) == 0 {
			v.errorf(c.Range, "Collection without fields", "Collection %q has no field; declare at least the fields that identify or reference rows.", addr)
		}
		for i, a := range c.After {
			v.after(ds, c, "after", i, a)
		}
		for i, a := range c.EraseAfter {
			v.after(ds, c, "erase_after", i, a)
		}
		v.fields(ds, c, nil, c.Fields)
	}
}

// checkName reports empty names, and warns about dots, which no address can
// reach.
func (v *validator) checkName(r hcl.Range, kind, addr, name string) {
	switch {
	case strings.TrimSpace(name) == "":
		v.errorf(r, "Empty "+kind+" name", "A %s of %s has an empty name; name it.", kind, strings.TrimSuffix(addr, "."))
	case strings.Contains(name, "."):
		v.warnf(r, "Dot in "+kind+" name", "%s %q has a '.' in its name: no reference or path can point at it, since addresses are dataset.collection.field.", capitalize(kind), addr)
	}
}

func (v *validator) fields(ds *Dataset, c *Collection, parent Path, fields []*Field) {
	seen := map[string]*Field{}
	for _, f := range fields {
		path := append(append(Path{}, parent...), f.Name)
		addr := ds.Name + "." + c.Name + "." + path.String()
		if first := seen[f.Name]; first != nil {
			v.errorf(f.Range, "Duplicate field", "Field %q is already declared%s; remove the duplicate.", addr, at(first.Range))
			continue
		}
		seen[f.Name] = f
		v.checkName(f.Range, "field", addr, f.Name)
		v.field(ds, c, path, addr, f)
		if len(f.Fields) > 0 {
			v.fields(ds, c, path, f.Fields)
		}
	}
}

func (v *validator) field(ds *Dataset, c *Collection, path Path, addr string, f *Field) {
	typeRange := rangeOf(f.Ranges, "type", f.Range)
	if _, array, ok := ParseType(f.Type); !ok || array {
		v.errorf(typeRange, "Unknown field type", "Field %q has type %q; use one of %s, optionally followed by [] for an array.", addr, typeName(f), strings.Join(Types, ", "))
	}
	if len(f.Fields) > 0 && f.Type != "" && f.Type != "object" {
		v.errorf(typeRange, "Sub-fields on a non-object field", "Field %q has sub-fields, so its type must be \"object\" or \"object[]\" (or left out), not %q.", addr, typeName(f))
	}
	if f.IsObject() {
		if len(f.Categories) > 0 {
			v.errorf(rangeOf(f.Ranges, "categories", f.Range), "Categories on an object field",
				"Field %q is an object, which carries no categories itself; put the categories on its sub-fields.", addr)
		}
		if f.Identity != "" {
			v.errorf(rangeOf(f.Ranges, "identity", f.Range), "Identity on an object field", "Field %q is an object and cannot be an identity; put identity on a scalar sub-field.", addr)
		}
		if f.PrimaryKey {
			v.errorf(rangeOf(f.Ranges, "primary_key", f.Range), "Primary key on an object field", "Field %q is an object and cannot be a primary key; mark scalar fields instead.", addr)
		}
		if len(f.References) > 0 {
			v.errorf(f.References[0].Range, "Reference on an object field", "Field %q is an object, whose values cannot find rows elsewhere; put the reference on a scalar sub-field.", addr)
		}
	}
	if f.Length < 0 {
		v.errorf(rangeOf(f.Ranges, "length", f.Range), "Invalid length", "Field %q has length %d; use a positive length, or leave it out for no limit.", addr, f.Length)
	}
	if f.ReturnAllElements && !f.Array {
		v.errorf(rangeOf(f.Ranges, "return_all_elements", f.Range), "return_all_elements on a non-array field",
			"Field %q is not an array: return_all_elements applies only to types ending in [], like \"string[]\".", addr)
	}
	if f.Identity != "" && strings.TrimSpace(f.Identity) != f.Identity {
		v.errorf(rangeOf(f.Ranges, "identity", f.Range), "Invalid identity name", "Field %q: identity %q has surrounding spaces; remove them.", addr, f.Identity)
	}
	seen := map[string]bool{}
	for i, cat := range f.Categories {
		r := rangeOf(f.Ranges, fmt.Sprintf("categories[%d]", i), rangeOf(f.Ranges, "categories", f.Range))
		if seen[cat] {
			v.errorf(r, "Duplicate category", "Field %q lists category %q twice; remove one.", addr, cat)
			continue
		}
		seen[cat] = true
		if !v.opts.Taxonomy.Has(cat) {
			hint := ""
			if s := v.opts.Taxonomy.Suggest(cat); len(s) > 0 {
				hint = fmt.Sprintf(" (did you mean %s?)", orList(s))
			}
			v.errorf(r, "Unknown data category", "Field %q has category %q, which is not in the taxonomy%s; use an existing category or declare it with a data_category block.", addr, cat, hint)
		}
	}
	refs := map[string]bool{}
	for _, ref := range f.References {
		key := ref.Target.String()
		if refs[key] {
			v.errorf(ref.Range, "Duplicate reference", "Field %q references %q twice; remove one.", addr, key)
			continue
		}
		refs[key] = true
		v.reference(ds, c, f, addr, ref)
	}
}

func (v *validator) reference(ds *Dataset, c *Collection, f *Field, addr string, ref Reference) {
	t := ref.Target
	switch ref.Direction {
	case DirectionTo, DirectionFrom, DirectionEither:
	default:
		v.errorf(rangeOf(ref.Ranges, "direction", ref.Range), "Invalid reference direction",
			"Reference from %q to %q has direction %q; use \"to\" (my values find rows there), \"from\" (their values find rows here), or leave it out.", addr, t.String(), string(ref.Direction))
	}
	if t.Dataset == "" || t.Collection == "" || len(t.Field) == 0 {
		v.errorf(ref.Range, "Incomplete reference", "Field %q has a reference without dataset, collection or field; write it as dataset.collection.field.", addr)
		return
	}
	tds := v.byName[t.Dataset]
	if tds == nil {
		v.errorf(ref.Range, "Reference to an unknown dataset", "Field %q references %q, but no dataset %q is declared%s.", addr, t.String(), t.Dataset, suggest(t.Dataset, keys(v.byName)))
		return
	}
	tc := tds.Collection(t.Collection)
	if tc == nil {
		names := make([]string, len(tds.Collections))
		for i, x := range tds.Collections {
			names[i] = x.Name
		}
		v.errorf(ref.Range, "Reference to an unknown collection", "Field %q references %q, but dataset %q has no collection %q%s.", addr, t.String(), t.Dataset, t.Collection, suggest(t.Collection, names))
		return
	}
	if tds == ds && tc == c {
		v.errorf(ref.Range, "Reference to its own collection", "Field %q references %q in the same collection; a collection cannot find its own rows. Remove the reference.", addr, t.String())
		return
	}
	fields := tc.Fields
	var target *Field
	for i, part := range t.Field {
		var found *Field
		names := make([]string, 0, len(fields))
		for _, f := range fields {
			names = append(names, f.Name)
			if f.Name == part {
				found = f
			}
		}
		if found == nil {
			missing := t.Dataset + "." + t.Collection + "." + t.Field[:i+1].String()
			v.errorf(ref.Range, "Reference to an unknown field", "Field %q references %q, but %q is not declared%s; declare it or fix the reference.", addr, t.String(), missing, suggest(part, names))
			return
		}
		fields = found.Fields
		target = found
	}
	if _, declared := ref.Ranges["shared"]; !declared && !ref.Shared {
		path := Path(strings.Split(strings.TrimPrefix(addr, ds.Name+"."+c.Name+"."), "."))
		if why := sharedHint(c, path, f, tc, t.Field, target); why != "" {
			v.warnf(ref.Range, "Reference may join two different people",
				"Field %q references %q, and %s. If the rows it reaches belong to someone else (an assignee, a referrer, a shared address), write shared = true in the reference block: those rows are then never erased, and access packages hold only the field that points at the subject. If they are the subject's own rows, write shared = false to silence this warning.",
				addr, t.String(), why)
		}
	}
}

// after checks one entry of a dataset's or collection's after/erase_after.
func (v *validator) after(ds *Dataset, c *Collection, attr string, i int, entry string) {
	ranges, fallback, owner := ds.Ranges, ds.Range, fmt.Sprintf("Dataset %q", ds.Name)
	if c != nil {
		ranges, fallback, owner = c.Ranges, c.Range, fmt.Sprintf("Collection %q", ds.Name+"."+c.Name)
	}
	r := rangeOf(ranges, fmt.Sprintf("%s[%d]", attr, i), rangeOf(ranges, attr, fallback))
	dsName, collName, hasColl := strings.Cut(entry, ".")
	if dsName == "" || (hasColl && (collName == "" || strings.Contains(collName, "."))) {
		v.errorf(r, "Invalid "+attr+" entry", "%s: %s entry %q must be a dataset name or dataset.collection.", owner, attr, entry)
		return
	}
	tds := v.byName[dsName]
	if tds == nil {
		v.errorf(r, "Unknown dataset in "+attr, "%s: %s names dataset %q, which is not declared%s.", owner, attr, dsName, suggest(dsName, keys(v.byName)))
		return
	}
	if !hasColl {
		if tds == ds {
			v.errorf(r, "Dataset waits for itself", "%s: %s names its own dataset %q; remove it.", owner, attr, dsName)
		}
		return
	}
	tc := tds.Collection(collName)
	if tc == nil {
		names := make([]string, len(tds.Collections))
		for i, x := range tds.Collections {
			names[i] = x.Name
		}
		v.errorf(r, "Unknown collection in "+attr, "%s: %s names %q, but dataset %q has no collection %q%s.", owner, attr, entry, dsName, collName, suggest(collName, names))
		return
	}
	if tc == c {
		v.errorf(r, "Collection waits for itself", "%s: %s names the collection itself; remove it.", owner, attr)
	}
}

func typeName(f *Field) string {
	if f.Array {
		return f.Type + "[]"
	}
	return f.Type
}

func rangeOf(ranges map[string]hcl.Range, key string, fallback hcl.Range) hcl.Range {
	if r, ok := ranges[key]; ok {
		return r
	}
	return fallback
}

func at(r hcl.Range) string {
	if r.Filename == "" {
		return ""
	}
	return fmt.Sprintf(" at %s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// suggest returns " (did you mean "x"?)" naming up to three close names, or
// "". names need not be sorted.
func suggest(name string, names []string) string {
	type cand struct {
		name string
		dist int
	}
	var cands []cand
	for _, n := range names {
		d := levenshtein.Distance(strings.ToLower(name), strings.ToLower(n), nil)
		if d <= max(1, len(name)/3) {
			cands = append(cands, cand{n, d})
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].dist != cands[j].dist {
			return cands[i].dist < cands[j].dist
		}
		return cands[i].name < cands[j].name
	})
	if len(cands) > 3 {
		cands = cands[:3]
	}
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = c.name
	}
	return fmt.Sprintf(" (did you mean %s?)", orList(out))
}

func orList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, " or ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
