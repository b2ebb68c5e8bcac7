package policy

import (
	"fmt"
	"github.com/lethehq/lethe/core/mask"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Rule actions.
const (
	ActionAccess  = "access"
	ActionErasure = "erasure"
)

// Masking strategies.
const (
	StrategyNullRewrite         = "null_rewrite"
	StrategyStringRewrite       = "string_rewrite"
	StrategyRandomStringRewrite = "random_string_rewrite"
	StrategyHash                = "hash"
	StrategyHMAC                = "hmac"
	StrategyAESEncrypt          = "aes_encrypt"
)

// Strategies lists the masking strategies in a stable order.
var Strategies = []string{
	StrategyNullRewrite, StrategyStringRewrite, StrategyRandomStringRewrite,
	StrategyHash, StrategyHMAC, StrategyAESEncrypt,
}

// Masking parameters and their defaults.
const (
	AlgorithmSHA256 = "SHA-256"
	AlgorithmSHA512 = "SHA-512"
	ModeGCM         = "GCM"

	// DefaultRandomLength is random_string_rewrite's length when unset.
	DefaultRandomLength = mask.DefaultLength
	// MaxRandomLength bounds random_string_rewrite's length; the same bound
	// as core/mask, so a policy that validates always masks.
	MaxRandomLength = mask.MaxLength
	// MaxSuffixLength bounds format_preservation's suffix.
	MaxSuffixLength = mask.MaxSuffixLength
)

// DRP actions (Data Rights Protocol 0.5), in their normal (underscore) form.
const (
	DRPAccess           = "access"
	DRPDeletion         = "deletion"
	DRPSaleOptOut       = "sale:opt_out"
	DRPSaleOptIn        = "sale:opt_in"
	DRPAccessCategories = "access:categories"
	DRPAccessSpecific   = "access:specific"
)

// DRPActions lists the DRP actions in a stable order.
var DRPActions = []string{DRPAccess, DRPDeletion, DRPSaleOptOut, DRPSaleOptIn, DRPAccessCategories, DRPAccessSpecific}

// NormalizeDRPAction returns the underscore form of a DRP action
// ("sale:opt-out" -> "sale:opt_out"), and whether it is one.
// IsConsent reports whether a DRP action records a consent preference
// (sale:opt_out, sale:opt_in) rather than reading or masking data.
func IsConsent(action string) bool {
	a, _ := NormalizeDRPAction(action)
	return a == DRPSaleOptOut || a == DRPSaleOptIn
}

func NormalizeDRPAction(s string) (string, bool) {
	n := strings.ReplaceAll(s, "-", "_")
	for _, a := range DRPActions {
		if n == a {
			return a, true
		}
	}
	return s, false
}

// Policy is a named set of rules a privacy request runs.
type Policy struct {
	Name string
	// DRPAction is the DRP action this policy serves, in underscore form, or
	// "" when none. At most one policy serves each action.
	DRPAction string
	// ExecutionTimeframe sets a request's due date (received + timeframe);
	// 0 when none.
	ExecutionTimeframe time.Duration
	Rules              []*Rule
	// Range is where the policy is declared (zero when it came from JSON);
	// Ranges holds attribute ranges by name ("drp_action", ...).
	Range  hcl.Range
	Ranges map[string]hcl.Range
}

// Rule is one access or erasure rule.
type Rule struct {
	Name    string
	Action  string   // ActionAccess or ActionErasure
	Targets []string // data categories, matched hierarchically
	Storage string   // access rules: the storage destination's name
	Masking []Masking
	// Range is the rule's declaration; Ranges holds attribute ranges, with
	// "targets[i]" for the i-th target when known.
	Range  hcl.Range
	Ranges map[string]hcl.Range
}

// Masking is one masking step of an erasure rule. Steps apply in order,
// each to the previous one's output. Byte formats are those of the
// reference system (Fidesops).
type Masking struct {
	Strategy string
	// RewriteValue replaces the value (string_rewrite; required).
	RewriteValue string
	// Length of the random string (random_string_rewrite; default 30).
	Length int
	// Algorithm of hash and hmac: "SHA-256" (default) or "SHA-512".
	Algorithm string
	// Mode of aes_encrypt: "GCM" (the only mode, default).
	Mode string
	// Suffix is format_preservation's suffix, appended to the masked value
	// (every strategy but null_rewrite).
	Suffix string
	Range  hcl.Range
	Ranges map[string]hcl.Range
}

// WithDefaults returns m with unset parameters set to the strategy's
// defaults.
func (m Masking) WithDefaults() Masking {
	switch m.Strategy {
	case StrategyRandomStringRewrite:
		if m.Length == 0 {
			m.Length = DefaultRandomLength
		}
	case StrategyHash, StrategyHMAC:
		if m.Algorithm == "" {
			m.Algorithm = AlgorithmSHA256
		}
	case StrategyAESEncrypt:
		if m.Mode == "" {
			m.Mode = ModeGCM
		}
	}
	return m
}

// Normalize rewrites p in place to its normal form: the DRP action in
// underscore form and masking parameters with their defaults. Call it after
// Validate reported no errors.
func (p *Policy) Normalize() {
	if a, ok := NormalizeDRPAction(p.DRPAction); ok {
		p.DRPAction = a
	}
	for _, r := range p.Rules {
		for i := range r.Masking {
			r.Masking[i] = r.Masking[i].WithDefaults()
		}
	}
}

// Rule returns the named rule, or nil.
func (p *Policy) Rule(name string) *Rule {
	for _, r := range p.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Severity of a Problem.
type Severity int

const (
	Error Severity = iota
	Warning
)

// Problem is one validation finding. Range is zero when the policy did not
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

// rangeOf returns ranges[key], else fallback.
func rangeOf(ranges map[string]hcl.Range, key string, fallback hcl.Range) hcl.Range {
	if r, ok := ranges[key]; ok {
		return r
	}
	return fallback
}

// where formats a range for messages ("a.hcl:3,5"), or "" when zero.
func where(r hcl.Range) string {
	if r.Filename == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}
