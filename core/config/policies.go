package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/policy"
)

var (
	ruleBlock               = hcl.BlockHeaderSchema{Type: "rule", LabelNames: []string{"name"}}
	maskingBlock            = hcl.BlockHeaderSchema{Type: "masking"}
	formatPreservationBlock = hcl.BlockHeaderSchema{Type: "format_preservation"}
)

func (l *loader) policy(b *hcl.Block) *policy.Policy {
	bd := l.content(b, []string{"drp_action", "execution_timeframe"}, nil, ruleBlock)
	p := &policy.Policy{Name: b.Labels[0], Range: b.DefRange, Ranges: bd.ranges}
	p.DRPAction, _ = bd.str("drp_action")
	p.ExecutionTimeframe, _ = bd.duration("execution_timeframe", time.Hour, 3650*24*time.Hour)
	for _, rb := range bd.blocks {
		rbd := l.content(rb, []string{"action", "targets", "storage"}, []string{"action", "targets"}, maskingBlock)
		r := &policy.Rule{Name: rb.Labels[0], Range: rb.DefRange, Ranges: rbd.ranges}
		r.Action, _ = rbd.str("action")
		r.Targets, _ = rbd.strings("targets")
		r.Storage, _ = rbd.str("storage")
		for _, mb := range rbd.blocks {
			r.Masking = append(r.Masking, l.masking(mb))
		}
		p.Rules = append(p.Rules, r)
	}
	// The DRP action's underscore form and the masking defaults; both are
	// safe before validation, which accepts either spelling.
	p.Normalize()
	return p
}

func (l *loader) masking(b *hcl.Block) policy.Masking {
	bd := l.content(b, []string{"strategy", "rewrite_value", "length", "algorithm", "mode"}, []string{"strategy"}, formatPreservationBlock)
	m := policy.Masking{Range: b.DefRange, Ranges: bd.ranges}
	m.Strategy, _ = bd.str("strategy")
	m.RewriteValue, _ = bd.str("rewrite_value")
	m.Length, _ = bd.integer("length", 1, policy.MaxRandomLength)
	m.Algorithm, _ = bd.str("algorithm")
	m.Mode, _ = bd.str("mode")
	for i, fb := range bd.blocks {
		if i > 0 {
			l.errorf(fb.DefRange, "Duplicate format_preservation block", "A masking block takes one format_preservation block; the first is at %s.", pos(bd.blocks[0].DefRange))
			continue
		}
		fbd := l.content(fb, []string{"suffix"}, []string{"suffix"})
		if v, ok := fbd.str("suffix"); ok {
			m.Suffix = v
			m.Ranges["suffix"] = fbd.ranges["suffix"]
		}
	}
	return m
}
