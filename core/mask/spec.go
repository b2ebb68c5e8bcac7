package mask

import (
	"errors"
	"fmt"
	"strings"
)

// Strategy names.
const (
	NullRewrite         = "null_rewrite"
	StringRewrite       = "string_rewrite"
	RandomStringRewrite = "random_string_rewrite"
	Hash                = "hash"
	HMAC                = "hmac"
	AESEncrypt          = "aes_encrypt"
)

// Parameter values and bounds.
const (
	SHA256 = "SHA-256"
	SHA512 = "SHA-512"
	GCM    = "GCM"

	// DefaultLength is random_string_rewrite's length when Length is 0.
	DefaultLength = 30
	// MaxLength bounds random_string_rewrite's length.
	MaxLength = 1000
	// MaxSuffixLength bounds format_preservation's suffix, in bytes.
	MaxSuffixLength = 256
)

// strategyNames lists the strategies in a stable order.
var strategyNames = []string{NullRewrite, StringRewrite, RandomStringRewrite, Hash, HMAC, AESEncrypt}

// StrategyNames returns the strategy names in a stable order.
func StrategyNames() []string {
	return append([]string(nil), strategyNames...)
}

func knownStrategy(name string) bool {
	for _, n := range strategyNames {
		if n == name {
			return true
		}
	}
	return false
}

// Spec is one masking step: a strategy and its parameters. The zero value of
// a parameter means its default.
type Spec struct {
	Strategy string
	// RewriteValue replaces every value (string_rewrite; required).
	RewriteValue string
	// Length of the random string (random_string_rewrite; 0 means
	// DefaultLength; 1..MaxLength).
	Length int
	// Algorithm of hash and hmac: SHA256 (default when "") or SHA512.
	Algorithm string
	// Mode of aes_encrypt: GCM, the only mode (default when "").
	Mode string
	// FormatSuffix is format_preservation.suffix, appended to the masked
	// value (every strategy but null_rewrite).
	FormatSuffix string
}

// NeedsString reports whether the strategy needs its input to be a string:
// every strategy except null_rewrite.
func (s Spec) NeedsString() bool {
	return s.Strategy != NullRewrite
}

// Validate reports every problem with s, joined, or nil. Messages say what
// to fix.
func (s Spec) Validate() error {
	switch {
	case s.Strategy == "":
		return fmt.Errorf("masking strategy is missing; set it to one of %s", strings.Join(strategyNames, ", "))
	case !knownStrategy(s.Strategy):
		return fmt.Errorf("masking strategy %q does not exist; valid strategies are %s", s.Strategy, strings.Join(strategyNames, ", "))
	}
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{s.Strategy}, args...)...))
	}
	notFor := func(param string) {
		add("parameter %s does not apply to this strategy; remove it", param)
	}

	if s.Strategy == StringRewrite {
		if s.RewriteValue == "" {
			add("rewrite_value is required: the non-empty string every value is replaced with (use null_rewrite to clear values)")
		}
	} else if s.RewriteValue != "" {
		notFor("rewrite_value")
	}

	if s.Strategy == RandomStringRewrite {
		if s.Length < 0 || s.Length > MaxLength {
			add("length %d is out of range; it must be between 1 and %d (default %d)", s.Length, MaxLength, DefaultLength)
		}
	} else if s.Length != 0 {
		notFor("length")
	}

	if s.Strategy == Hash || s.Strategy == HMAC {
		switch s.Algorithm {
		case "", SHA256, SHA512:
		default:
			add("algorithm %q is not supported; valid algorithms are %s, %s (default %s)", s.Algorithm, SHA256, SHA512, SHA256)
		}
	} else if s.Algorithm != "" {
		notFor("algorithm")
	}

	if s.Strategy == AESEncrypt {
		if s.Mode != "" && s.Mode != GCM {
			add("mode %q is not supported; the only mode is %s", s.Mode, GCM)
		}
	} else if s.Mode != "" {
		notFor("mode")
	}

	if s.FormatSuffix != "" {
		if s.Strategy == NullRewrite {
			notFor("format_preservation")
		} else if len(s.FormatSuffix) > MaxSuffixLength {
			add("format_preservation suffix is %d bytes long; the limit is %d", len(s.FormatSuffix), MaxSuffixLength)
		}
	}
	return errors.Join(errs...)
}

// Chain is a sequence of masking steps; each step masks the previous one's
// output.
type Chain []Spec

// Validate reports the problems of every step, each prefixed with its
// position, or nil. An empty chain is an error.
func (c Chain) Validate() error {
	if len(c) == 0 {
		return errors.New("no masking strategy given; give at least one, like null_rewrite")
	}
	var errs []error
	for i, s := range c {
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("masking step %d: %w", i+1, err))
		}
	}
	return errors.Join(errs...)
}

// NeedsString reports whether masking with c needs non-NULL inputs to be
// strings: whether its first step is not null_rewrite (after null_rewrite
// every value is NULL, which every strategy leaves alone).
func (c Chain) NeedsString() bool {
	return len(c) > 0 && c[0].NeedsString()
}

// StrategyInfo describes a strategy for GET /api/v1/masking/strategy. The
// JSON shape is the reference's: {name, description, configurations:[{key,
// optional, description}]}.
type StrategyInfo struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  []ParameterInfo `json:"configurations"`
}

// ParameterInfo describes one parameter of a strategy.
type ParameterInfo struct {
	Key         string `json:"key"`
	Optional    bool   `json:"optional"`
	Description string `json:"description"`
}

var formatParam = ParameterInfo{
	Key:         "format_preservation",
	Optional:    true,
	Description: "Object with a suffix string that is appended to the masked value, e.g. {\"suffix\": \"@masked.example.com\"}.",
}

// Strategies returns the catalogue of strategies in a stable order. The
// caller may modify the result.
func Strategies() []StrategyInfo {
	algorithm := ParameterInfo{
		Key:         "algorithm",
		Optional:    true,
		Description: "Hash algorithm: " + SHA256 + " or " + SHA512 + ". Default " + SHA256 + ".",
	}
	return []StrategyInfo{
		{
			Name:        NullRewrite,
			Description: "Masks the value with NULL. Works on fields of any type.",
			Parameters:  []ParameterInfo{},
		},
		{
			Name:        StringRewrite,
			Description: "Masks the value with a fixed string.",
			Parameters: []ParameterInfo{
				{Key: "rewrite_value", Optional: false, Description: "The non-empty string that replaces every value."},
				formatParam,
			},
		},
		{
			Name:        RandomStringRewrite,
			Description: "Masks the value with a random string of lowercase letters and digits, drawn from a cryptographic random source.",
			Parameters: []ParameterInfo{
				{Key: "length", Optional: true, Description: fmt.Sprintf("Length of the random string, 1 to %d. Default %d.", MaxLength, DefaultLength)},
				formatParam,
			},
		},
		{
			Name:        Hash,
			Description: "Masks the value with the lowercase hex digest of the value followed by a per-request salt. The same value gives the same result within one privacy request.",
			Parameters:  []ParameterInfo{algorithm, formatParam},
		},
		{
			Name:        HMAC,
			Description: "Masks the value with the lowercase hex HMAC, under a per-request secret key, of the value followed by a per-request salt. The same value gives the same result within one privacy request.",
			Parameters:  []ParameterInfo{algorithm, formatParam},
		},
		{
			Name:        AESEncrypt,
			Description: "Masks the value with its base64 AES-256-GCM encryption under a per-request key, with a nonce derived from the value (convergent encryption): the same value gives the same result within one privacy request.",
			Parameters: []ParameterInfo{
				{Key: "mode", Optional: true, Description: "Cipher mode; " + GCM + " is the only one and the default."},
				formatParam,
			},
		},
	}
}
