package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/policy"
	"github.com/lethehq/lethe/core/taxonomy"
)

// Validate checks the loaded declarations against each other: datasets
// (types, categories, references, after, connections), policies (rules,
// targets, masking, storages, one policy per DRP action), and warns where an
// erasure policy cannot work as written. Reachability and cycles of the
// dataset graph are core/graph's (graph.Build). Call it only when Load
// reported no errors: a partly decoded configuration gives misleading
// diagnostics.
func (c *Config) Validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	tax := c.Taxonomy
	if tax == nil {
		tax = taxonomy.Default()
	}
	connections := map[string]bool{}
	for _, x := range c.Connections {
		connections[x.Name] = true
	}
	storages := map[string]bool{}
	for _, x := range c.Storages {
		storages[x.Name] = true
	}
	for _, p := range dataset.Validate(c.Datasets, dataset.ValidateOptions{Taxonomy: tax, Connections: connections}) {
		diags = append(diags, problem(p.Severity == dataset.Warning, p.Summary, p.Detail, p.Range))
	}
	for _, p := range policy.ValidateAll(c.Policies, tax, storages) {
		diags = append(diags, problem(p.Severity == policy.Warning, p.Summary, p.Detail, p.Range))
	}
	diags = append(diags, c.checkIdentities()...)
	diags = append(diags, c.checkErasure()...)
	diags = append(diags, c.checkDRP()...)
	return c.sanitize(diags)
}

func problem(warning bool, summary, detail string, r hcl.Range) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
	if warning {
		d.Severity = hcl.DiagWarning
	}
	if r.Filename != "" {
		d.Subject = r.Ptr()
	}
	return d
}

// checkErasure warns where an erasure rule targets fields it cannot mask as
// the operator expects: a non-null strategy on a field of undeclared or
// non-string type (erasure of that node fails on a non-string value), a
// collection without primary key (never erased), or a dataset whose
// connection is read-only (erasure refused).
func (c *Config) checkErasure() hcl.Diagnostics {
	var diags hcl.Diagnostics
	warn := func(r hcl.Range, summary, format string, args ...any) {
		diags = append(diags, problem(true, summary, fmt.Sprintf(format, args...), r))
	}
	for _, p := range c.Policies {
		for _, r := range p.Rules {
			if r.Action != policy.ActionErasure || len(r.Targets) == 0 {
				continue
			}
			rule := fmt.Sprintf("erasure rule %q of policy %q", r.Name, p.Name)
			strategy := ""
			for _, m := range r.Masking {
				if m.Strategy != policy.StrategyNullRewrite {
					strategy = m.Strategy
					break
				}
			}
			for _, ds := range c.Datasets {
				var readOnly bool
				if conn := c.Connection(ds.Connection); conn != nil && conn.Access == AccessRead {
					readOnly = true
				}
				datasetHit := false
				for _, coll := range ds.Collections {
					collHit := false
					walkFields(coll.Fields, nil, func(path dataset.Path, f *dataset.Field) {
						if !matchesAny(r.Targets, f.Categories) {
							return
						}
						collHit = true
						addr := ds.Name + "." + coll.Name + "." + path.String()
						switch {
						case strategy == "":
						case f.Type == "":
							warn(f.Range, "Masked field without type",
								"Field %q has no declared type, but %s masks it with %q, which works only on strings; "+
									"declare type = \"string\" if it holds strings, or use null_rewrite.", addr, rule, strategy)
						case f.Type != "string":
							warn(rangeOr(f.Ranges, "type", f.Range), "Masked field is not a string",
								"Field %q has type %q, but %s masks it with %q, which works only on strings, so erasure of %s would fail; "+
									"use null_rewrite for this category or change the targets.", addr, typeString(f), rule, strategy, ds.Name+"."+coll.Name)
						}
					})
					if collHit {
						datasetHit = true
						if !hasPrimaryKey(coll.Fields) {
							warn(coll.Range, "Erasure target without primary key",
								"Collection %q has fields that %s masks, but no field with primary_key = true, so its rows cannot be updated; mark its primary key.",
								ds.Name+"."+coll.Name, rule)
						}
					}
				}
				if datasetHit && readOnly {
					warn(rangeOr(ds.Ranges, "connection", ds.Range), "Erasure on a read-only connection",
						"Dataset %q has fields that %s masks, but its connection %q has access = \"read\", so erasure will be refused for its collections; "+
							"set access = \"write\" or change the targets.", ds.Name, rule, ds.Connection)
				}
			}
		}
	}
	return diags
}

// checkDRP warns when the drp block is set but no policy serves a DRP
// action, and when a DRP agent's secret is shared by the drp block only.
func (c *Config) checkDRP() hcl.Diagnostics {
	if c.DRP.Range.Filename == "" {
		return nil
	}
	for _, p := range c.Policies {
		if p.DRPAction != "" {
			return nil
		}
	}
	return hcl.Diagnostics{problem(true, "No policy serves DRP",
		"The drp block is set, but no policy has a drp_action, so every DRP exercise request would be refused; set drp_action on the policies that serve them.",
		c.DRP.Range)}
}

func walkFields(fields []*dataset.Field, parent dataset.Path, fn func(dataset.Path, *dataset.Field)) {
	for _, f := range fields {
		path := append(append(dataset.Path{}, parent...), f.Name)
		fn(path, f)
		walkFields(f.Fields, path, fn)
	}
}

func matchesAny(targets, categories []string) bool {
	for _, t := range targets {
		for _, cat := range categories {
			if taxonomy.Match(t, cat) {
				return true
			}
		}
	}
	return false
}

func hasPrimaryKey(fields []*dataset.Field) bool {
	for _, f := range fields {
		if f.PrimaryKey || hasPrimaryKey(f.Fields) {
			return true
		}
	}
	return false
}

func typeString(f *dataset.Field) string {
	if f.Array {
		return f.Type + "[]"
	}
	return f.Type
}
