package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// A snapshot is a policy as it was when a request was submitted, kept with
// the request so that it runs the policy it was accepted under even when the
// policy is changed or removed afterwards.

type snapshot struct {
	Name               string         `json:"name"`
	DRPAction          string         `json:"drp_action,omitempty"`
	ExecutionTimeframe time.Duration  `json:"execution_timeframe,omitempty"`
	Rules              []ruleSnapshot `json:"rules"`
}

type ruleSnapshot struct {
	Name    string            `json:"name"`
	Action  string            `json:"action"`
	Targets []string          `json:"targets"`
	Storage string            `json:"storage,omitempty"`
	Masking []maskingSnapshot `json:"masking,omitempty"`
}

type maskingSnapshot struct {
	Strategy     string `json:"strategy"`
	RewriteValue string `json:"rewrite_value,omitempty"`
	Length       int    `json:"length,omitempty"`
	Algorithm    string `json:"algorithm,omitempty"`
	Mode         string `json:"mode,omitempty"`
	Suffix       string `json:"suffix,omitempty"`
}

// MarshalSnapshot encodes the policy's content (not where it was declared).
func (p *Policy) MarshalSnapshot() ([]byte, error) {
	s := snapshot{Name: p.Name, DRPAction: p.DRPAction, ExecutionTimeframe: p.ExecutionTimeframe, Rules: []ruleSnapshot{}}
	for _, r := range p.Rules {
		rs := ruleSnapshot{Name: r.Name, Action: r.Action, Targets: append([]string{}, r.Targets...), Storage: r.Storage}
		for _, m := range r.Masking {
			rs.Masking = append(rs.Masking, maskingSnapshot{Strategy: m.Strategy, RewriteValue: m.RewriteValue, Length: m.Length, Algorithm: m.Algorithm, Mode: m.Mode, Suffix: m.Suffix})
		}
		s.Rules = append(s.Rules, rs)
	}
	return json.Marshal(s)
}

// UnmarshalSnapshot decodes a snapshot made by MarshalSnapshot.
func UnmarshalSnapshot(data []byte) (*Policy, error) {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("read policy snapshot: %w", err)
	}
	if s.Name == "" {
		return nil, errors.New("read policy snapshot: no name")
	}
	p := &Policy{Name: s.Name, DRPAction: s.DRPAction, ExecutionTimeframe: s.ExecutionTimeframe}
	for _, rs := range s.Rules {
		r := &Rule{Name: rs.Name, Action: rs.Action, Targets: rs.Targets, Storage: rs.Storage}
		for _, m := range rs.Masking {
			r.Masking = append(r.Masking, Masking{Strategy: m.Strategy, RewriteValue: m.RewriteValue, Length: m.Length, Algorithm: m.Algorithm, Mode: m.Mode, Suffix: m.Suffix})
		}
		p.Rules = append(p.Rules, r)
	}
	return p, nil
}
