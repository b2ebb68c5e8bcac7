package config

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/dataset"
)

var (
	collectionBlock = hcl.BlockHeaderSchema{Type: "collection", LabelNames: []string{"name"}}
	fieldBlock      = hcl.BlockHeaderSchema{Type: "field", LabelNames: []string{"name"}}
	referenceBlock  = hcl.BlockHeaderSchema{Type: "reference", LabelNames: []string{"target"}}
)

func (l *loader) dataset(b *hcl.Block) *dataset.Dataset {
	bd := l.content(b, []string{"connection", "description", "after"}, []string{"connection"}, collectionBlock)
	ds := &dataset.Dataset{Name: b.Labels[0], Range: b.DefRange, Ranges: bd.ranges}
	ds.Connection, _ = bd.str("connection")
	ds.Description, _ = bd.str("description")
	ds.After, _ = bd.strings("after")
	for _, cb := range bd.blocks {
		cbd := l.content(cb, []string{"after", "erase_after"}, nil, fieldBlock)
		c := &dataset.Collection{Name: cb.Labels[0], Range: cb.DefRange, Ranges: cbd.ranges}
		c.After, _ = cbd.strings("after")
		c.EraseAfter, _ = cbd.strings("erase_after")
		c.Fields = l.fields(cbd.blocks)
		ds.Collections = append(ds.Collections, c)
	}
	return ds
}

func (l *loader) fields(blocks []*hcl.Block) []*dataset.Field {
	var out []*dataset.Field
	for _, fb := range blocks {
		bd := l.content(fb, []string{"type", "categories", "primary_key", "identity", "length", "return_all_elements"}, nil,
			fieldBlock, referenceBlock)
		f := &dataset.Field{Name: fb.Labels[0], Range: fb.DefRange, Ranges: bd.ranges}
		if v, ok := bd.str("type"); ok {
			f.Type, f.Array, _ = dataset.ParseType(v) // unknown types are reported by Validate
		}
		f.Categories, _ = bd.strings("categories")
		f.PrimaryKey, _ = bd.boolean("primary_key")
		f.Identity, _ = bd.str("identity")
		f.Length, _ = bd.integer("length", 1, 1<<20)
		f.ReturnAllElements, _ = bd.boolean("return_all_elements")
		var fieldBlocks []*hcl.Block
		for _, nb := range bd.blocks {
			switch nb.Type {
			case "field":
				fieldBlocks = append(fieldBlocks, nb)
			case "reference":
				if ref, ok := l.reference(nb); ok {
					f.References = append(f.References, ref)
				}
			}
		}
		f.Fields = l.fields(fieldBlocks)
		out = append(out, f)
	}
	return out
}

func (l *loader) reference(b *hcl.Block) (dataset.Reference, bool) {
	bd := l.content(b, []string{"direction", "shared"}, nil)
	target, err := dataset.ParseFieldAddress(b.Labels[0])
	if err != nil {
		l.errorf(b.LabelRanges[0], "Invalid reference", "The %s; write the referenced field as \"dataset.collection.field\" (sub-fields as dataset.collection.field.sub).", err)
		return dataset.Reference{}, false
	}
	ref := dataset.Reference{Target: target, Range: b.LabelRanges[0], Ranges: bd.ranges}
	if v, ok := bd.str("direction"); ok {
		ref.Direction = dataset.Direction(v) // checked by Validate
	}
	ref.Shared, _ = bd.boolean("shared")
	return ref, true
}
