package dataset

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Direction orients a reference between two fields.
type Direction string

const (
	// DirectionTo: my values find rows in the referenced collection.
	DirectionTo Direction = "to"
	// DirectionFrom: the referenced collection's values find rows here.
	DirectionFrom Direction = "from"
	// DirectionEither: oriented by whichever side is reached first.
	DirectionEither Direction = ""
)

// Path is a dotted path inside a collection's row: ["address", "city"].
type Path []string

func (p Path) String() string { return strings.Join(p, ".") }

// FieldAddress names a field globally: dataset.collection.field[.subfield...].
type FieldAddress struct {
	Dataset    string
	Collection string
	Field      Path
}

func (a FieldAddress) String() string {
	return a.Dataset + "." + a.Collection + "." + a.Field.String()
}

// CollectionAddress returns "dataset.collection".
func (a FieldAddress) CollectionAddress() CollectionAddress {
	return CollectionAddress{Dataset: a.Dataset, Collection: a.Collection}
}

// CollectionAddress names a collection globally.
type CollectionAddress struct {
	Dataset    string
	Collection string
}

func (a CollectionAddress) String() string { return a.Dataset + "." + a.Collection }

// Reference links a field to a field of another collection.
type Reference struct {
	Target    FieldAddress
	Direction Direction
	// Shared says that the rows the reference reaches are not the data
	// subject's own (an assignee, a referrer, a shared household address):
	// rows reached only through shared references are never erased, give
	// the access package only the fields that point at the subject, and
	// find no further rows.
	Shared bool
	Range  hcl.Range
	// Ranges holds where attributes were declared ("direction", "shared");
	// nil when the reference did not come from HCL.
	Ranges map[string]hcl.Range
}

// Field is one field; a field with Fields is an object (nested document).
type Field struct {
	Name       string
	Type       string // "string", "integer", "float", "boolean", "object_id", "object"; "" when undeclared
	Array      bool   // declared with a "[]" suffix
	Categories []string
	PrimaryKey bool
	Identity   string // identity name seeding this field, "" when none
	Length     int    // masked strings are truncated to this length; 0 means no limit
	// ReturnAllElements: for an array entry point, keep (access) or mask
	// (erasure) the whole array, not only the matched elements.
	ReturnAllElements bool
	References        []Reference
	Fields            []*Field // nested fields, in declaration order
	Range             hcl.Range
	// Ranges holds where attributes were declared ("type", "categories",
	// and "categories[i]" for the i-th element); nil when the field did not
	// come from HCL.
	Ranges map[string]hcl.Range
}

// IsObject reports whether the field is a nested document.
func (f *Field) IsObject() bool { return len(f.Fields) > 0 || f.Type == "object" }

// Collection is one table or document collection.
type Collection struct {
	Name       string
	Fields     []*Field // in declaration order
	After      []string // dataset keys or dataset.collection
	EraseAfter []string
	Range      hcl.Range
	// Ranges holds where attributes were declared ("after", "after[i]",
	// "erase_after[i]"); nil when the collection did not come from HCL.
	Ranges map[string]hcl.Range
}

// Field returns the field at path, or nil.
func (c *Collection) Field(path Path) *Field {
	fields := c.Fields
	var found *Field
	for _, part := range path {
		found = nil
		for _, f := range fields {
			if f.Name == part {
				found = f
				break
			}
		}
		if found == nil {
			return nil
		}
		fields = found.Fields
	}
	return found
}

// Dataset is one named group of collections behind one connection.
type Dataset struct {
	Name        string
	Connection  string
	Description string
	After       []string      // dataset keys or dataset.collection
	Collections []*Collection // in declaration order
	Range       hcl.Range
	// Ranges holds where attributes were declared ("connection", "after[i]");
	// nil when the dataset did not come from HCL.
	Ranges map[string]hcl.Range
}

// Collection returns the named collection, or nil.
func (d *Dataset) Collection(name string) *Collection {
	for _, c := range d.Collections {
		if c.Name == name {
			return c
		}
	}
	return nil
}
