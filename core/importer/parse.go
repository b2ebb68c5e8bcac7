package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/taxonomy"
)

// Bounds on what one document may expand to, so that a small file built
// from nested aliases cannot make the importer walk billions of nodes.
const (
	maxNodes     = 1 << 17
	maxDepth     = 64     // nested field levels
	maxKeptNodes = 10_000 // in one value kept as a comment
)

// fidesKey is the FidesKey pattern of the reference system.
var fidesKey = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// defaultTaxonomy tells which categories a deployment knows without
// declaring them.
var defaultTaxonomy = taxonomy.Default()

// dataTypes are the element types Fidesops accepts in data_type.
var dataTypes = map[string]bool{
	"string": true, "integer": true, "float": true, "boolean": true, "object_id": true, "object": true,
}

// Keys of the reference format that Lethe's model has no place for. They are
// kept as comments without a warning: the reference system did not use
// them either.
var (
	datasetInformational = map[string]bool{
		"organization_fides_key": true, "tags": true, "meta": true, "data_qualifier": true,
		"retention": true, "joint_controller": true, "third_country_transfers": true, "fidesctl_meta": true,
	}
	collectionInformational = map[string]bool{"description": true, "data_qualifier": true, "retention": true}
	fieldInformational      = map[string]bool{"description": true, "data_qualifier": true, "retention": true}
)

// notes is what the rendered HCL carries as comments, per model object.
// Each note is one or more lines of text.
type notes struct {
	file        []string
	datasets    map[*dataset.Dataset][]string
	collections map[*dataset.Collection][]string
	fields      map[*dataset.Field][]string
}

type parser struct {
	file     string
	budget   int
	warnings []string
	notes    *notes
}

type pair struct {
	name     string
	key, val *yaml.Node
}

func parse(src []byte, filename string) ([]*dataset.Dataset, *notes, []string, error) {
	p := &parser{
		file:   filename,
		budget: maxNodes,
		notes: &notes{
			datasets:    map[*dataset.Dataset][]string{},
			collections: map[*dataset.Collection][]string{},
			fields:      map[*dataset.Field][]string{},
		},
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var all []*dataset.Dataset
	seen := map[string]*dataset.Dataset{}
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, p.warnings, yamlError(src, filename, err)
		}
		dss, err := p.document(&doc)
		if err != nil {
			return nil, nil, p.warnings, err
		}
		for _, ds := range dss {
			if prev := seen[ds.Name]; prev != nil {
				return nil, nil, p.warnings, p.errAt(ds.Range.Start.Line, ds.Range.Start.Column,
					"dataset %q is declared twice (first on line %d); fides_key must be unique", ds.Name, prev.Range.Start.Line)
			}
			seen[ds.Name] = ds
		}
		all = append(all, dss...)
	}
	if len(all) == 0 {
		return nil, nil, p.warnings, &Error{File: filename, Line: 1,
			Msg: "no dataset found: expected a top-level `dataset:` list of datasets, each with a fides_key and collections"}
	}
	p.checkReferences(all)
	return all, p.notes, p.warnings, nil
}

// unknown warns about a key the reference format does not have and keeps
// it; in says where it was when that is not the block the note lands in.
func (p *parser) unknown(dst []string, kv pair, where, in string) ([]string, error) {
	p.warnf(kv.key, "unknown key %q in %s: it is not part of the Fidesops dataset format; kept as a comment in the output", kv.name, where)
	prefix := "Unknown to Fidesops, kept as written: "
	if in != "" {
		prefix = "Unknown to Fidesops, kept as written (in " + in + "): "
	}
	return p.keep(dst, kv, prefix)
}

// categories reads a data_categories list and warns about each category
// missing from the default taxonomy, adding a note to dst.
func (p *parser) categories(n *yaml.Node, where string, dst *[]string) ([]string, error) {
	cats, err := p.list(n, "data_categories of "+where)
	if err != nil {
		return nil, err
	}
	for i, c := range cats {
		if defaultTaxonomy.Has(c) {
			continue
		}
		at := n
		if r := resolve(n); i < len(r.Content) {
			at = r.Content[i] // the entry itself, for its column
		}
		hint := ""
		if s := defaultTaxonomy.Suggest(c); len(s) > 0 {
			hint = fmt.Sprintf(" (did you mean %s?)", quoteList(s))
		}
		p.warnf(at, "data category %q of %s is not in the default taxonomy%s: declare it with a data_category block or replace it", c, where, hint)
		*dst = append(*dst, fmt.Sprintf("Data category %q is not in the default taxonomy%s: declare it with a data_category block or replace it.", c, hint))
	}
	return cats, nil
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, " or ")
}

// document reads one YAML document.
func (p *parser) document(doc *yaml.Node) ([]*dataset.Dataset, error) {
	p.notes.file = own(p.notes.file, doc)
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if isNull(root) {
		p.notes.file = own(p.notes.file, root)
		return nil, nil
	}
	switch resolve(root).Kind {
	case yaml.SequenceNode:
		return p.datasets(root)
	case yaml.MappingNode:
	default:
		return nil, p.errorf(root, "expected a top-level `dataset:` list, found %s", kindName(root))
	}
	ps, err := p.mapping(root, "the document")
	if err != nil {
		return nil, err
	}
	for _, kv := range ps {
		if kv.name == "fides_key" { // a single dataset, as the API returns it
			ds, err := p.dataset(root)
			if err != nil {
				return nil, err
			}
			return []*dataset.Dataset{ds}, nil
		}
	}
	p.notes.file = own(p.notes.file, root)
	var out []*dataset.Dataset
	found := false
	for _, kv := range ps {
		if kv.name == "dataset" {
			found = true
			p.notes.file = own(p.notes.file, kv.key)
			dss, err := p.datasets(kv.val)
			if err != nil {
				return nil, err
			}
			out = append(out, dss...)
			continue
		}
		p.warnf(kv.key, "top-level key %q is not a Fidesops dataset list; kept as a comment in the output", kv.name)
		if p.notes.file, err = p.keep(p.notes.file, kv, "Not a dataset, kept as written: "); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, p.errorf(root, "no `dataset:` key: a Fidesops dataset file starts with `dataset:` followed by a list of datasets")
	}
	return out, nil
}

func (p *parser) datasets(n *yaml.Node) ([]*dataset.Dataset, error) {
	items, err := p.items(n, "dataset")
	if err != nil {
		return nil, err
	}
	p.notes.file = own(p.notes.file, resolve(n))
	var out []*dataset.Dataset
	for _, item := range items {
		ds, err := p.dataset(item)
		if err != nil {
			return nil, err
		}
		out = append(out, ds)
	}
	return out, nil
}

func (p *parser) dataset(n *yaml.Node) (*dataset.Dataset, error) {
	ps, err := p.mapping(n, "a dataset")
	if err != nil {
		return nil, err
	}
	ds := &dataset.Dataset{Range: p.rng(n)}
	for _, kv := range ps {
		if kv.name != "fides_key" {
			continue
		}
		s, ok, err := p.text(kv.val, "fides_key")
		if err != nil {
			return nil, err
		}
		if !ok || s == "" {
			return nil, p.errorf(kv.val, "fides_key is empty: give the dataset a key")
		}
		if err := p.checkKey(kv.val, s, "fides_key"); err != nil {
			return nil, err
		}
		ds.Name = s
	}
	if ds.Name == "" {
		return nil, p.errorf(n, "a dataset needs a fides_key")
	}
	where := fmt.Sprintf("dataset %q", ds.Name)
	nt := own(nil, resolve(n))
	var collections *pair
	for i, kv := range ps {
		switch {
		case kv.name == "fides_key":
			nt = own(nt, kv.key, resolve(kv.val))
		case kv.name == "name":
			nt = own(nt, kv.key, resolve(kv.val))
			s, ok, err := p.text(kv.val, "name of "+where)
			if err != nil {
				return nil, err
			}
			if ok {
				nt = append(nt, "Fidesops name: "+s)
			}
		case kv.name == "description":
			nt = own(nt, kv.key, resolve(kv.val))
			s, _, err := p.text(kv.val, "description of "+where)
			if err != nil {
				return nil, err
			}
			ds.Description = s
		case kv.name == "fidesops_meta":
			if nt, err = p.datasetMeta(ds, kv, nt); err != nil {
				return nil, err
			}
		case kv.name == "collections":
			collections = &ps[i]
		case kv.name == "data_categories":
			if _, err := p.categories(kv.val, where, &nt); err != nil {
				return nil, err
			}
			if nt, err = p.keep(nt, kv, "Fidesops "); err != nil {
				return nil, err
			}
		case datasetInformational[kv.name]:
			if nt, err = p.keep(nt, kv, "Fidesops "); err != nil {
				return nil, err
			}
		default:
			if nt, err = p.unknown(nt, kv, where, ""); err != nil {
				return nil, err
			}
		}
	}
	if collections == nil {
		return nil, p.errorf(n, "dataset %q has no collections: list them under `collections:`", ds.Name)
	}
	nt = own(nt, collections.key, resolve(collections.val))
	items, err := p.items(collections.val, "collections of "+where)
	if err != nil {
		return nil, err
	}
	byName := map[string]*dataset.Collection{}
	for _, item := range items {
		c, err := p.collection(ds, item)
		if err != nil {
			return nil, err
		}
		if prev := byName[c.Name]; prev != nil {
			return nil, p.errorf(item, "collection %q appears twice in dataset %q (first on line %d)", c.Name, ds.Name, prev.Range.Start.Line)
		}
		byName[c.Name] = c
		ds.Collections = append(ds.Collections, c)
	}
	p.notes.datasets[ds] = nt
	return ds, nil
}

// checkKey applies the FidesKey rule, and Lethe's: addresses are dotted, so
// a key with a dot in it could not be referred to.
func (p *parser) checkKey(n *yaml.Node, s, what string) error {
	if !fidesKey.MatchString(s) {
		return p.errorf(n, "%s %q must only contain letters, digits, '.', '_' or '-'", what, s)
	}
	if strings.Contains(s, ".") {
		return p.errorf(n, "%s %q contains a '.': Lethe addresses are dataset.collection.field, so rename it (for example with '_')", what, s)
	}
	return nil
}

// checkNFC warns about a name HCL cannot keep as it is: HCL strings are
// Unicode normalization form C, so a decomposed "é" comes back composed and
// may no longer match the database's name.
func (p *parser) checkNFC(n *yaml.Node, name, where string) {
	if nfc := cty.StringVal(name).AsString(); nfc != name {
		p.warnf(n, "the name of %s is not in Unicode normalization form C; HCL will store it as %+q, which may not match the name in the database", where, nfc)
	}
}

func (p *parser) datasetMeta(ds *dataset.Dataset, meta pair, nt []string) ([]string, error) {
	nt = own(nt, meta.key, resolve(meta.val))
	if isNull(meta.val) {
		return nt, nil
	}
	where := fmt.Sprintf("fidesops_meta of dataset %q", ds.Name)
	ps, err := p.mapping(meta.val, where)
	if err != nil {
		return nt, err
	}
	for _, kv := range ps {
		if kv.name != "after" {
			if nt, err = p.unknown(nt, kv, where, ""); err != nil {
				return nt, err
			}
			continue
		}
		nt = own(nt, kv.key)
		if nt, err = p.subtree(nt, kv.val); err != nil {
			return nt, err
		}
		after, err := p.list(kv.val, "after of "+where)
		if err != nil {
			return nt, err
		}
		for _, a := range after {
			if err := p.checkKey(kv.val, a, "after entry"); err != nil {
				return nt, err
			}
		}
		ds.After = after
	}
	return nt, nil
}

func (p *parser) collection(ds *dataset.Dataset, n *yaml.Node) (*dataset.Collection, error) {
	ps, err := p.mapping(n, fmt.Sprintf("a collection of dataset %q", ds.Name))
	if err != nil {
		return nil, err
	}
	c := &dataset.Collection{Range: p.rng(n)}
	for _, kv := range ps {
		if kv.name == "name" {
			s, ok, err := p.text(kv.val, "collection name")
			if err != nil {
				return nil, err
			}
			if !ok || s == "" {
				return nil, p.errorf(kv.val, "collection name is empty")
			}
			c.Name = s
		}
	}
	if c.Name == "" {
		return nil, p.errorf(n, "a collection of dataset %q has no name", ds.Name)
	}
	where := fmt.Sprintf("collection %q", ds.Name+"."+c.Name)
	if strings.Contains(c.Name, ".") {
		p.warnf(n, "%s has a '.' in its name: no reference can point at it, since addresses are dataset.collection.field", where)
	}
	p.checkNFC(n, c.Name, where)
	nt := own(nil, resolve(n))
	var fields *pair
	for i, kv := range ps {
		switch {
		case kv.name == "name":
			nt = own(nt, kv.key, resolve(kv.val))
		case kv.name == "fields":
			fields = &ps[i]
		case kv.name == "fidesops_meta":
			if nt, err = p.collectionMeta(c, where, kv, nt); err != nil {
				return nil, err
			}
		case kv.name == "after":
			p.warnf(kv.key, "`after` directly under %s is ignored by Fidesops, which reads only fidesops_meta.after; kept as a comment: move it into the collection's `after` attribute if the ordering is wanted", where)
			if nt, err = p.keep(nt, kv, "Ignored by Fidesops (outside fidesops_meta): "); err != nil {
				return nil, err
			}
		case kv.name == "data_categories":
			if _, err := p.categories(kv.val, where, &nt); err != nil {
				return nil, err
			}
			if nt, err = p.keep(nt, kv, "Fidesops "); err != nil {
				return nil, err
			}
		case collectionInformational[kv.name]:
			if nt, err = p.keep(nt, kv, "Fidesops "); err != nil {
				return nil, err
			}
		default:
			if nt, err = p.unknown(nt, kv, where, ""); err != nil {
				return nil, err
			}
		}
	}
	if fields == nil {
		return nil, p.errorf(n, "%s has no fields: list them under `fields:`", where)
	}
	nt = own(nt, fields.key, resolve(fields.val))
	c.Fields, err = p.fields(ds.Name+"."+c.Name, nil, fields.val, 0)
	if err != nil {
		return nil, err
	}
	p.notes.collections[c] = nt
	return c, nil
}

func (p *parser) collectionMeta(c *dataset.Collection, where string, meta pair, nt []string) ([]string, error) {
	nt = own(nt, meta.key, resolve(meta.val))
	if isNull(meta.val) {
		return nt, nil
	}
	mwhere := "fidesops_meta of " + where
	ps, err := p.mapping(meta.val, mwhere)
	if err != nil {
		return nt, err
	}
	for _, kv := range ps {
		if kv.name != "after" {
			if nt, err = p.unknown(nt, kv, mwhere, "fidesops_meta"); err != nil {
				return nt, err
			}
			continue
		}
		nt = own(nt, kv.key)
		if nt, err = p.subtree(nt, kv.val); err != nil {
			return nt, err
		}
		after, err := p.list(kv.val, "after of "+where)
		if err != nil {
			return nt, err
		}
		for _, a := range after {
			d, coll, ok := strings.Cut(a, ".")
			if !ok || strings.Contains(coll, ".") || !fidesKey.MatchString(d) || !fidesKey.MatchString(coll) {
				return nt, p.errorf(kv.val, "after entry %q of %s must be written dataset.collection", a, where)
			}
		}
		c.After = after
	}
	return nt, nil
}

func (p *parser) fields(coll string, parent dataset.Path, n *yaml.Node, depth int) ([]*dataset.Field, error) {
	where := "fields of " + coll
	if len(parent) > 0 {
		where = "fields of " + coll + "." + parent.String()
	}
	if depth >= maxDepth {
		return nil, p.errorf(n, "%s are nested more than %d levels deep", where, maxDepth)
	}
	items, err := p.items(n, where)
	if err != nil {
		return nil, err
	}
	var out []*dataset.Field
	byName := map[string]*dataset.Field{}
	for _, item := range items {
		f, err := p.field(coll, parent, item, depth)
		if err != nil {
			return nil, err
		}
		if prev := byName[f.Name]; prev != nil {
			return nil, p.errorf(item, "field %q appears twice in %s (first on line %d)", f.Name, where, prev.Range.Start.Line)
		}
		byName[f.Name] = f
		out = append(out, f)
	}
	return out, nil
}

// fieldMeta is what fidesops_meta says about one field, before checks.
type fieldMeta struct {
	dataType, identity          string
	dataTypeNode, identityNode  *yaml.Node
	primaryKey, returnAll       bool
	primaryKeyNode, returnNode  *yaml.Node
	length                      int
	lengthNode                  *yaml.Node
	references                  []dataset.Reference
	referencesNode              *yaml.Node
	readOnlyNode, readOnlyValue *yaml.Node
}

func (p *parser) field(coll string, parent dataset.Path, n *yaml.Node, depth int) (*dataset.Field, error) {
	ps, err := p.mapping(n, "a field of "+coll)
	if err != nil {
		return nil, err
	}
	f := &dataset.Field{Range: p.rng(n)}
	for _, kv := range ps {
		if kv.name == "name" {
			s, ok, err := p.text(kv.val, "field name")
			if err != nil {
				return nil, err
			}
			if !ok || s == "" {
				return nil, p.errorf(kv.val, "field name is empty")
			}
			f.Name = s
		}
	}
	if f.Name == "" {
		return nil, p.errorf(n, "a field of %s has no name", coll)
	}
	path := append(append(dataset.Path{}, parent...), f.Name)
	where := fmt.Sprintf("field %q", coll+"."+path.String())
	if strings.Contains(f.Name, ".") {
		p.warnf(n, "%s has a '.' in its name: it cannot be told apart from a nested field in references", where)
	}
	p.checkNFC(n, f.Name, where)
	nt := own(nil, resolve(n))
	var meta fieldMeta
	var sub *pair
	var catNode *yaml.Node
	for i, kv := range ps {
		switch {
		case kv.name == "name":
			nt = own(nt, kv.key, resolve(kv.val))
		case kv.name == "data_categories":
			nt = own(nt, kv.key)
			if nt, err = p.subtree(nt, kv.val); err != nil {
				return nil, err
			}
			if f.Categories, err = p.categories(kv.val, where, &nt); err != nil {
				return nil, err
			}
			f.Categories = p.dedupe(kv.val, f.Categories, "data category", where)
			catNode = kv.key
		case kv.name == "fields":
			sub = &ps[i]
		case kv.name == "fidesops_meta":
			if nt, err = p.fieldMeta(&meta, where, kv, nt); err != nil {
				return nil, err
			}
		case fieldInformational[kv.name]:
			if nt, err = p.keep(nt, kv, "Fidesops "); err != nil {
				return nil, err
			}
		default:
			if nt, err = p.unknown(nt, kv, where, ""); err != nil {
				return nil, err
			}
		}
	}

	if meta.dataType != "" {
		base, array := strings.CutSuffix(meta.dataType, "[]")
		if !dataTypes[base] {
			return nil, p.errorf(meta.dataTypeNode, "the data type %q of %s is not supported: use string, integer, float, boolean, object_id or object, optionally followed by []", meta.dataType, where)
		}
		f.Type, f.Array = base, array
	}
	if meta.lengthNode != nil {
		if meta.length <= 0 {
			return nil, p.errorf(meta.lengthNode, "length of %s is %d: only positive non-zero values are allowed", where, meta.length)
		}
		f.Length = meta.length
	}
	if meta.returnAll {
		if !f.Array {
			return nil, p.errorf(meta.returnNode, "return_all_elements on %s: it can only be given on array fields (data_type ending in [])", where)
		}
		f.ReturnAllElements = true
	}
	f.References = p.dedupeReferences(meta.references, where)

	if sub != nil {
		nt = own(nt, sub.key, resolve(sub.val))
		if f.Type != "" && f.Type != "object" {
			return nil, p.errorf(sub.key, "%s has sub-fields, so its data_type must be object or object[], not %q", where, meta.dataType)
		}
		if f.Fields, err = p.fields(coll, path, sub.val, depth+1); err != nil {
			return nil, err
		}
	}
	if len(f.Fields) > 0 && len(f.Categories) > 0 {
		return nil, p.errorf(catNode, "%s has sub-fields, so it cannot have data_categories: put the categories on its sub-fields", where)
	}
	if f.IsObject() {
		if len(f.References) > 0 {
			p.warnf(meta.referencesNode, "%s is an object with references; Lethe rejects references on objects (their values cannot find rows), so move them to a scalar sub-field", where)
		}
		if len(f.Categories) > 0 {
			p.warnf(catNode, "%s is an object but has data_categories; Lethe matches categories on the sub-fields of an object, so give it sub-fields and move the categories there", where)
		}
		if meta.identityNode != nil {
			p.warnf(meta.identityNode, "identity %q on %s is ignored: it is an object, and Fidesops drops identities on object fields; kept as a comment", meta.identity, where)
			nt = append(nt, fmt.Sprintf("Fidesops identity %q, ignored on an object field (by Fidesops too).", meta.identity))
		}
		if meta.primaryKey {
			p.warnf(meta.primaryKeyNode, "primary_key on %s is ignored: it is an object, and Fidesops drops primary keys on object fields; kept as a comment", where)
			nt = append(nt, "Fidesops primary_key: true, ignored on an object field (by Fidesops too).")
		}
	} else {
		f.Identity = meta.identity
		f.PrimaryKey = meta.primaryKey
	}
	if meta.readOnlyNode != nil {
		ro, err := p.boolean(meta.readOnlyValue, "read_only of "+where)
		if err != nil {
			return nil, err
		}
		if ro {
			p.warnf(meta.readOnlyNode, "read_only on %s has no equivalent in Lethe (Fidesops honoured it only for SaaS connectors): an erasure rule whose targets match it will mask it; kept as a comment", where)
		}
		nt = append(nt, fmt.Sprintf("Fidesops read_only: %t (Lethe has no per-field read_only; use a read-only connection or keep the field's categories out of erasure targets).", ro))
	}
	p.notes.fields[f] = nt
	return f, nil
}

func (p *parser) fieldMeta(m *fieldMeta, where string, meta pair, nt []string) ([]string, error) {
	nt = own(nt, meta.key, resolve(meta.val))
	if isNull(meta.val) {
		return nt, nil
	}
	mwhere := "fidesops_meta of " + where
	ps, err := p.mapping(meta.val, mwhere)
	if err != nil {
		return nt, err
	}
	for _, kv := range ps {
		if kv.name != "references" && kv.name != "read_only" && knownFieldMeta[kv.name] {
			nt = own(nt, kv.key)
			if nt, err = p.subtree(nt, kv.val); err != nil {
				return nt, err
			}
		}
		switch kv.name {
		case "data_type":
			s, ok, err := p.text(kv.val, "data_type of "+where)
			if err != nil {
				return nt, err
			}
			if ok {
				m.dataType, m.dataTypeNode = s, kv.val
			}
		case "identity":
			s, ok, err := p.text(kv.val, "identity of "+where)
			if err != nil {
				return nt, err
			}
			if ok && s == "" {
				return nt, p.errorf(kv.val, "identity of %s is empty: name the identity (email, phone_number, ...)", where)
			}
			if ok {
				m.identity, m.identityNode = s, kv.val
			}
		case "primary_key":
			if m.primaryKey, err = p.boolean(kv.val, "primary_key of "+where); err != nil {
				return nt, err
			}
			m.primaryKeyNode = kv.val
		case "return_all_elements":
			if m.returnAll, err = p.boolean(kv.val, "return_all_elements of "+where); err != nil {
				return nt, err
			}
			m.returnNode = kv.val
		case "length":
			n, ok, err := p.integer(kv.val, "length of "+where)
			if err != nil {
				return nt, err
			}
			if ok {
				m.length, m.lengthNode = n, kv.val
			}
		case "read_only":
			nt = own(nt, kv.key)
			if nt, err = p.subtree(nt, kv.val); err != nil {
				return nt, err
			}
			m.readOnlyNode, m.readOnlyValue = kv.key, kv.val
		case "references":
			m.referencesNode = kv.key
			nt = own(nt, kv.key, resolve(kv.val))
			items, err := p.items(kv.val, "references of "+where)
			if err != nil {
				return nt, err
			}
			for _, item := range items {
				ref, more, err := p.reference(item, where)
				nt = append(nt, more...)
				if err != nil {
					return nt, err
				}
				m.references = append(m.references, ref)
			}
		default:
			if nt, err = p.unknown(nt, kv, mwhere, "fidesops_meta"); err != nil {
				return nt, err
			}
		}
	}
	return nt, nil
}

var knownFieldMeta = map[string]bool{
	"references": true, "identity": true, "primary_key": true, "data_type": true,
	"length": true, "return_all_elements": true, "read_only": true,
}

// reference reads one {dataset, field, direction} entry. It returns the
// notes it produced (comments, unknown keys) for the field.
func (p *parser) reference(n *yaml.Node, where string) (dataset.Reference, []string, error) {
	ref := dataset.Reference{Range: p.rng(n)}
	rwhere := "a reference of " + where
	ps, err := p.mapping(n, rwhere)
	if err != nil {
		return ref, nil, err
	}
	nt := own(nil, resolve(n))
	var ds, field string
	for _, kv := range ps {
		switch kv.name {
		case "dataset", "field", "direction":
			nt = own(nt, kv.key)
			if nt, err = p.subtree(nt, kv.val); err != nil {
				return ref, nt, err
			}
			s, ok, err := p.text(kv.val, kv.name+" of "+rwhere)
			if err != nil {
				return ref, nt, err
			}
			switch kv.name {
			case "dataset":
				if ok {
					if err := p.checkKey(kv.val, s, "referenced dataset"); err != nil {
						return ref, nt, err
					}
				}
				ds = s
			case "field":
				field = s
			case "direction":
				switch s {
				case "to", "from":
					ref.Direction = dataset.Direction(s)
				case "":
					ref.Direction = dataset.DirectionEither
				default:
					return ref, nt, p.errorf(kv.val, "direction of %s is %q: use to, from, or leave it out", rwhere, s)
				}
			}
		default:
			if nt, err = p.unknown(nt, kv, rwhere, "a reference"); err != nil {
				return ref, nt, err
			}
		}
	}
	if ds == "" {
		return ref, nt, p.errorf(n, "%s has no dataset: name the dataset of the referenced field", rwhere)
	}
	if field == "" {
		return ref, nt, p.errorf(n, "%s has no field: write it as collection.field", rwhere)
	}
	parts := strings.Split(field, ".")
	if len(parts) < 2 {
		return ref, nt, p.errorf(n, "field %q of %s must be written collection.field (sub-fields as collection.field.sub)", field, rwhere)
	}
	for _, part := range parts {
		if part == "" {
			return ref, nt, p.errorf(n, "field %q of %s has an empty part between dots", field, rwhere)
		}
	}
	ref.Target = dataset.FieldAddress{Dataset: ds, Collection: parts[0], Field: dataset.Path(parts[1:])}
	return ref, nt, nil
}

// dedupe drops repeated entries of a list, with a warning: Lethe rejects
// them, and the repetition carries nothing.
func (p *parser) dedupe(n *yaml.Node, list []string, what, where string) []string {
	seen := map[string]bool{}
	out := list[:0:0]
	for _, s := range list {
		if seen[s] {
			p.warnf(n, "%s %q is listed twice on %s; the output lists it once", what, s, where)
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// dedupeReferences drops a reference repeated with the same direction
// (Fidesops collapsed those edges) and warns about one repeated with
// another direction, which Lethe rejects: the operator must pick one.
func (p *parser) dedupeReferences(refs []dataset.Reference, where string) []dataset.Reference {
	var out []dataset.Reference
	byTarget := map[string]dataset.Reference{}
	for _, r := range refs {
		key := r.Target.String()
		prev, dup := byTarget[key]
		switch {
		case !dup:
			byTarget[key] = r
			out = append(out, r)
		case prev.Direction == r.Direction:
			p.warnings = append(p.warnings, fmt.Sprintf("%s: %s refers to %q twice; the output keeps one reference",
				position(p.file, r.Range.Start.Line, r.Range.Start.Column), where, key))
		default:
			p.warnings = append(p.warnings, fmt.Sprintf("%s: %s refers to %q twice, with directions %q and %q; Lethe allows one reference per target: keep one, or leave the direction out to allow both",
				position(p.file, r.Range.Start.Line, r.Range.Start.Column), where, key, dirName(prev.Direction), dirName(r.Direction)))
			out = append(out, r)
		}
	}
	return out
}

func dirName(d dataset.Direction) string {
	if d == dataset.DirectionEither {
		return "either"
	}
	return string(d)
}

// checkReferences warns about references into datasets of this file that
// name a collection or field the file does not declare, and about
// self-references. References to other datasets are left to the loader.
func (p *parser) checkReferences(dss []*dataset.Dataset) {
	byName := map[string]*dataset.Dataset{}
	for _, ds := range dss {
		byName[ds.Name] = ds
	}
	var walk func(ds *dataset.Dataset, c *dataset.Collection, path dataset.Path, fields []*dataset.Field)
	walk = func(ds *dataset.Dataset, c *dataset.Collection, path dataset.Path, fields []*dataset.Field) {
		for _, f := range fields {
			fp := append(append(dataset.Path{}, path...), f.Name)
			from := ds.Name + "." + c.Name + "." + fp.String()
			for _, ref := range f.References {
				pos := position(p.file, ref.Range.Start.Line, ref.Range.Start.Column)
				if ref.Target.Dataset == ds.Name && ref.Target.Collection == c.Name {
					p.warnings = append(p.warnings, fmt.Sprintf("%s: field %q refers to %q in its own collection; Lethe rejects self-references", pos, from, ref.Target.String()))
					continue
				}
				target := byName[ref.Target.Dataset]
				if target == nil {
					continue
				}
				tc := target.Collection(ref.Target.Collection)
				if tc == nil {
					p.warnings = append(p.warnings, fmt.Sprintf("%s: field %q refers to %q, but dataset %q has no collection %q", pos, from, ref.Target.String(), target.Name, ref.Target.Collection))
					continue
				}
				if tc.Field(ref.Target.Field) == nil {
					p.warnings = append(p.warnings, fmt.Sprintf("%s: field %q refers to %q, but collection %q has no field %q", pos, from, ref.Target.String(), target.Name+"."+tc.Name, ref.Target.Field.String()))
				}
			}
			walk(ds, c, fp, f.Fields)
		}
	}
	for _, ds := range dss {
		for _, c := range ds.Collections {
			walk(ds, c, nil, c.Fields)
		}
	}
}
