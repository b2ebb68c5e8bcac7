package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/taxonomy"
)

func access(name, storage string, targets ...string) *Rule {
	return &Rule{Name: name, Action: ActionAccess, Targets: targets, Storage: storage}
}

func erase(name string, m []Masking, targets ...string) *Rule {
	return &Rule{Name: name, Action: ActionErasure, Targets: targets, Masking: m}
}

var null = []Masking{{Strategy: StrategyNullRewrite}}

// Policies built in Go (as the JSON API will) validate without ranges.
func TestValidateWithoutHCL(t *testing.T) {
	storages := map[string]bool{"results": true}
	cases := []struct {
		name     string
		policies []*Policy
		want     []string // substrings of problems, in order; nil means valid
	}{
		{"valid", []*Policy{
			{Name: "download", DRPAction: "access", Rules: []*Rule{access("all", "results", "user")}},
			{Name: "delete", DRPAction: "deletion", Rules: []*Rule{
				erase("a", []Masking{{Strategy: StrategyHMAC}}, "user.contact"),
				erase("b", []Masking{{Strategy: StrategyStringRewrite, RewriteValue: "MASKED", Suffix: "@x.org"}}, "user.name"),
			}},
		}, nil},
		{"drp spellings collide", []*Policy{
			{Name: "a", DRPAction: "sale:opt-in"},
			{Name: "b", DRPAction: "sale:opt_in"},
		}, []string{`Policies "a" and "b" both declare drp_action "sale:opt_in"`}},
		{"consent policy with rules", []*Policy{
			{Name: "optout", DRPAction: "sale:opt_out", Rules: []*Rule{access("r", "results", "user")}},
		}, []string{`Policy "optout" serves sale:opt_out: it records the requester's preference and runs no rules; remove its rule blocks.`}},
		{"consent policy without rules", []*Policy{{Name: "optin", DRPAction: "sale:opt_in"}}, nil},
		{"duplicate policy name", []*Policy{
			{Name: "a", Rules: []*Rule{access("r", "results", "user")}},
			{Name: "a", Rules: []*Rule{access("r", "results", "user")}},
		}, []string{`A policy named "a" is already declared; rename one of them.`}},
		{"overlap names both rules", []*Policy{
			{Name: "p", Rules: []*Rule{erase("x", null, "user"), erase("y", null, "user.name.first")}},
		}, []string{`target "user" of erasure rule "x" covers target "user.name.first" of erasure rule "y"`}},
		{"access rules may overlap", []*Policy{
			{Name: "p", Rules: []*Rule{access("x", "results", "user"), access("y", "results", "user.name")}},
		}, nil},
		{"siblings do not overlap", []*Policy{
			{Name: "p", Rules: []*Rule{erase("x", null, "user.contact"), erase("y", null, "user.contact_x")}},
		}, []string{`targets "user.contact_x", which is not a data category`}},
		{"storage unknown", []*Policy{
			{Name: "p", Rules: []*Rule{access("x", "resultz", "user")}},
		}, []string{`names storage "resultz", which is not declared (did you mean "results"?)`}},
		{"masking parameters", []*Policy{
			{Name: "p", Rules: []*Rule{
				erase("a", []Masking{{Strategy: StrategyRandomStringRewrite, Length: MaxRandomLength + 1}}, "user.name"),
				erase("b", []Masking{{Strategy: StrategyHash, Algorithm: "sha256"}}, "user.contact"),
				erase("c", []Masking{{Strategy: StrategyAESEncrypt, Suffix: strings.Repeat("x", MaxSuffixLength+1)}}, "user.location"),
				erase("d", []Masking{{Strategy: StrategyHMAC, RewriteValue: "x"}}, "user.account"),
				erase("e", []Masking{{}}, "user.device"),
			}},
		}, []string{
			"length must be between 1 and 1000",
			`algorithm "sha256" is not "SHA-256" or "SHA-512"`,
			"suffix is longer than 256 bytes",
			`rewrite_value does not apply to strategy "hmac"`,
			"set strategy to one of null_rewrite",
		}},
		{"rule without action", []*Policy{
			{Name: "p", Rules: []*Rule{{Name: "r", Targets: []string{"user"}}}},
		}, []string{`needs action = "access" or action = "erasure"`}},
		{"names", []*Policy{
			{Name: "a b", Rules: []*Rule{access("r/1", "results", "user")}},
		}, []string{`Policy name "a b" may only contain`, `Rule name "r/1" may only contain`}},
		{"negative timeframe", []*Policy{
			{Name: "p", ExecutionTimeframe: -time.Hour, Rules: []*Rule{access("r", "results", "user")}},
		}, []string{"execution_timeframe must be positive"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			probs := ValidateAll(tc.policies, taxonomy.Default(), storages)
			var errs []Problem
			for _, p := range probs {
				if p.Severity == Error {
					errs = append(errs, p)
				}
				if p.Range != (hcl.Range{}) {
					t.Errorf("problem %q has a range without HCL", p.Error())
				}
			}
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tc.want), errs)
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i].Error(), w)
				}
			}
		})
	}
}

func TestStorageNotCheckedWithoutList(t *testing.T) {
	p := &Policy{Name: "p", Rules: []*Rule{access("r", "anything", "user")}}
	if probs := p.Validate(nil, nil); len(probs) != 0 {
		t.Fatalf("got %v", probs)
	}
}

func TestNormalize(t *testing.T) {
	p := &Policy{Name: "p", DRPAction: "access:specific", Rules: []*Rule{
		erase("a", []Masking{{Strategy: StrategyRandomStringRewrite}, {Strategy: StrategyHash}, {Strategy: StrategyAESEncrypt}, {Strategy: StrategyHMAC, Algorithm: AlgorithmSHA512}}, "user"),
	}}
	p.DRPAction = "sale:opt-out"
	p.Normalize()
	if p.DRPAction != DRPSaleOptOut {
		t.Fatalf("DRP action %q", p.DRPAction)
	}
	m := p.Rules[0].Masking
	if m[0].Length != DefaultRandomLength || m[1].Algorithm != AlgorithmSHA256 || m[2].Mode != ModeGCM || m[3].Algorithm != AlgorithmSHA512 {
		t.Fatalf("defaults not applied: %+v", m)
	}
	if got, ok := NormalizeDRPAction("deletion"); !ok || got != "deletion" {
		t.Fatal("deletion")
	}
	if _, ok := NormalizeDRPAction("delete"); ok {
		t.Fatal("delete is not a DRP action")
	}
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"45d", 45 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"36h", 36 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{" 2d ", 48 * time.Hour, false},
		{"", 0, true},
		{"d", 0, true},
		{"45 days", 0, true},
		{"-1d", 0, true},
		{"1d-1h", 0, true},
		{"1.5d", 0, true},
		{"99999999d", 0, true},
		{"45", 0, true},
	}
	for _, c := range cases {
		got, err := ParseDuration(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.err)
		}
	}
}
