package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/identity"
)

// Identity is an identity block: what is done to an identity's value when
// a request is submitted. Identities need no block; without one, values
// are matched exactly as given.
type Identity struct {
	Name string
	// Normalize lists the normalizations applied to the value at intake,
	// in order (see core/identity); empty means exact match.
	Normalize []string
	Range     hcl.Range
	Ranges    map[string]hcl.Range
}

func (l *loader) identity(b *hcl.Block) {
	bd := l.content(b, []string{"normalize"}, nil)
	id := &Identity{Name: b.Labels[0], Range: b.DefRange, Ranges: bd.ranges}
	id.Normalize, _ = bd.strings("normalize")
	if !bd.ok {
		return
	}
	l.cfg.Identities = append(l.cfg.Identities, id)
}

// Identity returns the named identity block, or nil.
func (c *Config) Identity(name string) *Identity {
	for _, x := range c.Identities {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// Normalizations returns, by identity name, the normalizations declared
// for it; identities without any are left out.
func (c *Config) Normalizations() map[string][]string {
	out := map[string][]string{}
	for _, x := range c.Identities {
		if len(x.Normalize) > 0 {
			out[x.Name] = x.Normalize
		}
	}
	return out
}

// checkIdentities checks identity blocks: known normalizations, each once,
// and an identity some dataset field declares.
func (c *Config) checkIdentities() hcl.Diagnostics {
	var diags hcl.Diagnostics
	declared := map[string]bool{}
	for _, ds := range c.Datasets {
		for _, coll := range ds.Collections {
			walkIdentities(coll.Fields, declared)
		}
	}
	for _, id := range c.Identities {
		seen := map[string]bool{}
		for i, step := range id.Normalize {
			r := rangeOr(id.Ranges, fmt.Sprintf("normalize[%d]", i), rangeOr(id.Ranges, "normalize", id.Range))
			switch {
			case !identity.Known(step):
				diags = append(diags, problem(false, "Unknown normalization",
					fmt.Sprintf("Identity %q: %q is not a normalization; use %s (or leave normalize out to match values exactly).",
						id.Name, step, strings.Join(identity.Steps, ", ")), r))
			case seen[step]:
				diags = append(diags, problem(false, "Duplicate normalization",
					fmt.Sprintf("Identity %q lists %q twice; remove one.", id.Name, step), r))
			}
			seen[step] = true
		}
		if seen[identity.Lowercase] && seen[identity.CaseFold] {
			diags = append(diags, problem(true, "Lowercase and casefold together",
				fmt.Sprintf("Identity %q lists both lowercase and casefold; casefold already lowers the case, so keep one of them.", id.Name),
				rangeOr(id.Ranges, "normalize", id.Range)))
		}
		if len(c.Datasets) > 0 && !declared[id.Name] {
			diags = append(diags, problem(true, "Identity not declared by any field",
				fmt.Sprintf("The identity block %q applies to no field: no dataset field has identity = %q. Fix the name, or declare the identity on a field.", id.Name, id.Name),
				id.Range))
		}
	}
	return diags
}

func walkIdentities(fields []*dataset.Field, out map[string]bool) {
	for _, f := range fields {
		if f.Identity != "" {
			out[f.Identity] = true
		}
		walkIdentities(f.Fields, out)
	}
}
