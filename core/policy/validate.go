package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/taxonomy"
)

// namePattern is the FidesKey rule for policy and rule names.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// Summaries of the problems of a policy still being assembled (through the
// API, rules and targets come in later calls).
const (
	SummaryNoRules   = "Policy without rules"
	SummaryNoTargets = "Rule without targets"
)

// ValidateAll validates every policy and the rules that span policies:
// unique names, and at most one policy per DRP action. storages holds the
// declared storage names; nil skips the storage check.
func ValidateAll(policies []*Policy, tax *taxonomy.Taxonomy, storages map[string]bool) []Problem {
	var out []Problem
	byName := map[string]*Policy{}
	byAction := map[string]*Policy{}
	for _, p := range policies {
		if first := byName[p.Name]; first != nil && p.Name != "" {
			out = append(out, Problem{
				Summary: "Duplicate policy",
				Detail:  fmt.Sprintf("A policy named %q is already declared%s; rename one of them.", p.Name, at(first.Range)),
				Range:   p.Range,
			})
			continue
		}
		byName[p.Name] = p
		out = append(out, p.Validate(tax, storages)...)
		if p.DRPAction == "" {
			continue
		}
		action, ok := NormalizeDRPAction(p.DRPAction)
		if !ok {
			continue // reported by Validate
		}
		if first := byAction[action]; first != nil {
			out = append(out, Problem{
				Summary: "DRP action served twice",
				Detail: fmt.Sprintf("Policies %q%s and %q both declare drp_action %q; a DRP action selects exactly one policy, so remove drp_action from one of them.",
					first.Name, at(first.Range), p.Name, action),
				Range: rangeOf(p.Ranges, "drp_action", p.Range),
			})
			continue
		}
		byAction[action] = p
	}
	return out
}

// Validate checks one policy: its rules' actions, targets (known categories,
// no overlap between erasure targets), storage and masking. storages holds
// the declared storage names; nil skips the storage check.
func (p *Policy) Validate(tax *taxonomy.Taxonomy, storages map[string]bool) []Problem {
	if tax == nil {
		tax = taxonomy.Default()
	}
	var out []Problem
	add := func(sev Severity, r hcl.Range, summary, format string, args ...any) {
		out = append(out, Problem{Severity: sev, Summary: summary, Detail: fmt.Sprintf(format, args...), Range: r})
	}
	if !namePattern.MatchString(p.Name) {
		add(Error, p.Range, "Invalid policy name", "Policy name %q may only contain letters, digits, '.', '_' and '-'.", p.Name)
	}
	if p.DRPAction != "" {
		if _, ok := NormalizeDRPAction(p.DRPAction); !ok {
			add(Error, rangeOf(p.Ranges, "drp_action", p.Range), "Unknown DRP action",
				"drp_action %q is not a DRP action; use one of %s.", p.DRPAction, strings.Join(DRPActions, ", "))
		}
	}
	if p.ExecutionTimeframe < 0 {
		add(Error, rangeOf(p.Ranges, "execution_timeframe", p.Range), "Invalid execution timeframe",
			"execution_timeframe must be positive, like \"45d\".")
	}
	if IsConsent(p.DRPAction) {
		// A consent policy records the preference; it reads and masks nothing.
		if len(p.Rules) > 0 {
			add(Error, p.Rules[0].Range, "Rules on a consent policy",
				"Policy %q serves %s: it records the requester's preference and runs no rules; remove its rule blocks.", p.Name, p.DRPAction)
		}
		return out
	}
	if len(p.Rules) == 0 {
		add(Error, p.Range, SummaryNoRules,
			"Policy %q has no rule, so a request would do nothing; add an access or erasure rule block.", p.Name)
	}
	rules := map[string]*Rule{}
	for _, r := range p.Rules {
		if first := rules[r.Name]; first != nil {
			add(Error, r.Range, "Duplicate rule",
				"Policy %q already has a rule named %q%s; rename one of them.", p.Name, r.Name, at(first.Range))
			continue
		}
		rules[r.Name] = r
		out = append(out, r.validate(p, tax, storages)...)
	}
	out = append(out, p.overlaps()...)
	return out
}

func (r *Rule) validate(p *Policy, tax *taxonomy.Taxonomy, storages map[string]bool) []Problem {
	var out []Problem
	add := func(r hcl.Range, summary, format string, args ...any) {
		out = append(out, Problem{Severity: Error, Summary: summary, Detail: fmt.Sprintf(format, args...), Range: r})
	}
	name := fmt.Sprintf("rule %q of policy %q", r.Name, p.Name)
	if !namePattern.MatchString(r.Name) {
		add(r.Range, "Invalid rule name", "Rule name %q may only contain letters, digits, '.', '_' and '-'.", r.Name)
	}
	actionRange := rangeOf(r.Ranges, "action", r.Range)
	switch r.Action {
	case ActionAccess, ActionErasure:
	case "consent", "update":
		add(actionRange, "Unsupported rule action", "%s: %s rules are not supported; use \"access\" or \"erasure\".", name, r.Action)
	case "":
		add(actionRange, "Missing rule action", "%s needs action = \"access\" or action = \"erasure\".", name)
	default:
		add(actionRange, "Unknown rule action", "%s: action %q is not \"access\" or \"erasure\".", name, r.Action)
	}
	if len(r.Targets) == 0 {
		add(rangeOf(r.Ranges, "targets", r.Range), SummaryNoTargets,
			"%s has no targets; list the data categories it applies to, like targets = [\"user\"].", name)
	}
	seen := map[string]int{}
	for i, t := range r.Targets {
		tr := rangeOf(r.Ranges, fmt.Sprintf("targets[%d]", i), rangeOf(r.Ranges, "targets", r.Range))
		if j, dup := seen[t]; dup {
			add(tr, "Duplicate target", "%s lists %q twice (elements %d and %d); remove one.", name, t, j+1, i+1)
			continue
		}
		seen[t] = i
		if !tax.Has(t) {
			msg := fmt.Sprintf("%s targets %q, which is not a data category", name, t)
			if s := tax.Suggest(t); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %s?)", orList(s))
			}
			add(tr, "Unknown data category", "%s; use a category of the taxonomy or declare it with a data_category block.", msg)
		}
	}
	switch r.Action {
	case ActionAccess:
		if r.Storage == "" {
			add(r.Range, "Access rule without storage",
				"%s is an access rule: name the storage destination its results go to, like storage = \"results\".", name)
		} else if storages != nil && !storages[r.Storage] {
			add(rangeOf(r.Ranges, "storage", r.Range), "Unknown storage",
				"%s names storage %q, which is not declared%s; declare a storage block with that name or fix the name.",
				name, r.Storage, suggestName(r.Storage, storages))
		}
		if len(r.Masking) > 0 {
			add(r.Masking[0].Range, "Masking on an access rule",
				"%s is an access rule and cannot mask data; remove the masking block or make it an erasure rule.", name)
		}
	case ActionErasure:
		if r.Storage != "" {
			add(rangeOf(r.Ranges, "storage", r.Range), "Storage on an erasure rule",
				"%s is an erasure rule and has no storage destination; remove storage.", name)
		}
		if len(r.Masking) == 0 {
			add(r.Range, "Erasure rule without masking",
				"%s is an erasure rule: add at least one masking block, like masking { strategy = \"null_rewrite\" }.", name)
		}
		for i, m := range r.Masking {
			out = append(out, m.validate(name)...)
			if m.Strategy == StrategyNullRewrite && i < len(r.Masking)-1 {
				out = append(out, Problem{
					Severity: Warning,
					Summary:  "Masking after null_rewrite",
					Detail:   fmt.Sprintf("%s: null_rewrite sets values to NULL and every strategy leaves NULL as it is, so the masking blocks after it do nothing; remove them.", name),
					Range:    r.Masking[i+1].Range,
				})
			}
		}
	}
	return out
}

func (m Masking) validate(rule string) []Problem {
	var out []Problem
	add := func(key, summary, format string, args ...any) {
		out = append(out, Problem{Severity: Error, Summary: summary, Detail: fmt.Sprintf(format, args...), Range: rangeOf(m.Ranges, key, m.Range)})
	}
	notFor := func(key, param string) {
		add(key, "Inapplicable masking parameter", "%s: %s does not apply to strategy %q; remove it.", rule, param, m.Strategy)
	}
	switch m.Strategy {
	case StrategyNullRewrite, StrategyStringRewrite, StrategyRandomStringRewrite, StrategyHash, StrategyHMAC, StrategyAESEncrypt:
	case "":
		add("strategy", "Missing masking strategy", "%s: set strategy to one of %s.", rule, strings.Join(Strategies, ", "))
		return out
	default:
		add("strategy", "Unknown masking strategy", "%s: strategy %q is not one of %s.", rule, m.Strategy, strings.Join(Strategies, ", "))
		return out
	}
	if m.Strategy == StrategyStringRewrite {
		if m.RewriteValue == "" {
			add("rewrite_value", "Missing rewrite_value", "%s: string_rewrite needs rewrite_value, the non-empty string values are replaced with (use null_rewrite to clear values).", rule)
		}
	} else if m.RewriteValue != "" {
		notFor("rewrite_value", "rewrite_value")
	}
	if m.Strategy == StrategyRandomStringRewrite {
		if m.Length < 0 || m.Length > MaxRandomLength {
			add("length", "Invalid length", "%s: length must be between 1 and %d (default %d).", rule, MaxRandomLength, DefaultRandomLength)
		}
	} else if m.Length != 0 {
		notFor("length", "length")
	}
	if m.Strategy == StrategyHash || m.Strategy == StrategyHMAC {
		switch m.Algorithm {
		case "", AlgorithmSHA256, AlgorithmSHA512:
		default:
			add("algorithm", "Unknown algorithm", "%s: algorithm %q is not %q or %q.", rule, m.Algorithm, AlgorithmSHA256, AlgorithmSHA512)
		}
	} else if m.Algorithm != "" {
		notFor("algorithm", "algorithm")
	}
	if m.Strategy == StrategyAESEncrypt {
		if m.Mode != "" && m.Mode != ModeGCM {
			add("mode", "Unknown AES mode", "%s: mode %q is not supported; aes_encrypt supports only %q.", rule, m.Mode, ModeGCM)
		}
	} else if m.Mode != "" {
		notFor("mode", "mode")
	}
	if m.Suffix != "" {
		if m.Strategy == StrategyNullRewrite {
			notFor("suffix", "format_preservation")
		} else if len(m.Suffix) > MaxSuffixLength {
			add("suffix", "Suffix too long", "%s: the format_preservation suffix is longer than %d bytes.", rule, MaxSuffixLength)
		}
	}
	return out
}

// overlaps reports erasure targets of the policy that cover each other: the
// same category in two rules, or a category and one of its ancestors. Either
// way a field would be masked by two rules. Duplicates within one rule are
// reported by the rule.
func (p *Policy) overlaps() []Problem {
	type target struct {
		rule *Rule
		idx  int
	}
	var seen []target
	var out []Problem
	for _, r := range p.Rules {
		if r.Action != ActionErasure {
			continue
		}
		for i, t := range r.Targets {
			for _, s := range seen {
				st := s.rule.Targets[s.idx]
				if s.rule == r && st == t {
					continue
				}
				var detail string
				switch {
				case st == t:
					detail = fmt.Sprintf("Erasure rules %q and %q of policy %q both target %q", s.rule.Name, r.Name, p.Name, t)
				case taxonomy.Match(st, t):
					detail = fmt.Sprintf("In policy %q, target %q of erasure rule %q covers target %q of erasure rule %q", p.Name, st, s.rule.Name, t, r.Name)
				case taxonomy.Match(t, st):
					detail = fmt.Sprintf("In policy %q, target %q of erasure rule %q covers target %q of erasure rule %q", p.Name, t, r.Name, st, s.rule.Name)
				default:
					continue
				}
				out = append(out, Problem{
					Severity: Error,
					Summary:  "Overlapping erasure targets",
					Detail:   detail + ", so a field would be masked twice; keep only one of them.",
					Range:    rangeOf(r.Ranges, fmt.Sprintf("targets[%d]", i), r.Range),
				})
			}
			seen = append(seen, target{r, i})
		}
	}
	return out
}

func at(r hcl.Range) string {
	if w := where(r); w != "" {
		return " at " + w
	}
	return ""
}

func orList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, " or ")
}

// suggestName returns " (did you mean "x"?)" when a declared name is close.
func suggestName(name string, names map[string]bool) string {
	best, bestD := "", 0
	for n := range names {
		d := levenshtein.Distance(name, n, nil)
		if d <= max(1, len(name)/3) && (best == "" || d < bestD || (d == bestD && n < best)) {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
