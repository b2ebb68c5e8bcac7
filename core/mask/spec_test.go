package mask

import (
	"strings"
	"testing"
)

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		// want lists substrings of the error; nil means no error.
		want []string
	}{
		{"null_rewrite", Spec{Strategy: NullRewrite}, nil},
		{"string_rewrite", Spec{Strategy: StringRewrite, RewriteValue: "MASKED"}, nil},
		{"string_rewrite with suffix", Spec{Strategy: StringRewrite, RewriteValue: "x", FormatSuffix: "@example.com"}, nil},
		{"random default length", Spec{Strategy: RandomStringRewrite}, nil},
		{"random length 1", Spec{Strategy: RandomStringRewrite, Length: 1}, nil},
		{"random length max", Spec{Strategy: RandomStringRewrite, Length: MaxLength}, nil},
		{"hash default", Spec{Strategy: Hash}, nil},
		{"hash SHA-512", Spec{Strategy: Hash, Algorithm: SHA512}, nil},
		{"hmac SHA-256", Spec{Strategy: HMAC, Algorithm: SHA256}, nil},
		{"aes default", Spec{Strategy: AESEncrypt}, nil},
		{"aes GCM", Spec{Strategy: AESEncrypt, Mode: GCM, FormatSuffix: "=="}, nil},
		{"suffix at limit", Spec{Strategy: Hash, FormatSuffix: strings.Repeat("s", MaxSuffixLength)}, nil},

		{"missing strategy", Spec{}, []string{"missing", "null_rewrite, string_rewrite, random_string_rewrite, hash, hmac, aes_encrypt"}},
		{"unknown strategy", Spec{Strategy: "md5"}, []string{`"md5" does not exist`, "valid strategies are null_rewrite, string_rewrite, random_string_rewrite, hash, hmac, aes_encrypt"}},
		{"strategy is case sensitive", Spec{Strategy: "HMAC"}, []string{`"HMAC" does not exist`}},
		{"string_rewrite without value", Spec{Strategy: StringRewrite}, []string{"rewrite_value is required", "null_rewrite"}},
		{"random length too long", Spec{Strategy: RandomStringRewrite, Length: MaxLength + 1}, []string{"length 1001", "between 1 and 1000"}},
		{"random length negative", Spec{Strategy: RandomStringRewrite, Length: -1}, []string{"length -1", "between 1 and 1000"}},
		{"unknown algorithm", Spec{Strategy: Hash, Algorithm: "SHA-1"}, []string{`"SHA-1" is not supported`, "SHA-256, SHA-512"}},
		{"algorithm is case sensitive", Spec{Strategy: HMAC, Algorithm: "sha-256"}, []string{`"sha-256" is not supported`}},
		{"unknown mode", Spec{Strategy: AESEncrypt, Mode: "CBC"}, []string{`"CBC" is not supported`, "only mode is GCM"}},
		{"suffix too long", Spec{Strategy: HMAC, FormatSuffix: strings.Repeat("s", MaxSuffixLength+1)}, []string{"257 bytes", "limit is 256"}},
		{"suffix on null_rewrite", Spec{Strategy: NullRewrite, FormatSuffix: "x"}, []string{"format_preservation does not apply"}},
		{"rewrite_value on hash", Spec{Strategy: Hash, RewriteValue: "x"}, []string{"hash: parameter rewrite_value does not apply"}},
		{"length on hmac", Spec{Strategy: HMAC, Length: 5}, []string{"parameter length does not apply"}},
		{"algorithm on aes", Spec{Strategy: AESEncrypt, Algorithm: SHA256}, []string{"parameter algorithm does not apply"}},
		{"mode on hash", Spec{Strategy: Hash, Mode: GCM}, []string{"parameter mode does not apply"}},
		{"all problems reported", Spec{Strategy: StringRewrite, Length: 3, Algorithm: "x", Mode: "y"},
			[]string{"rewrite_value is required", "parameter length", "parameter algorithm", "parameter mode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestChainValidate(t *testing.T) {
	if err := (Chain{}).Validate(); err == nil || !strings.Contains(err.Error(), "at least one") {
		t.Errorf("empty chain: Validate() = %v, want an error asking for a strategy", err)
	}
	if err := (Chain{{Strategy: Hash}, {Strategy: HMAC, Algorithm: SHA512}}).Validate(); err != nil {
		t.Errorf("valid chain: Validate() = %v", err)
	}
	err := Chain{{Strategy: Hash}, {Strategy: "nope"}, {Strategy: StringRewrite}}.Validate()
	if err == nil {
		t.Fatal("invalid chain: Validate() = nil")
	}
	for _, w := range []string{"masking step 2", `"nope"`, "masking step 3", "rewrite_value"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() = %q, want it to contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "masking step 1") {
		t.Errorf("Validate() = %q blames the valid step 1", err)
	}
}

func TestNeedsString(t *testing.T) {
	for _, name := range StrategyNames() {
		if got, want := (Spec{Strategy: name}).NeedsString(), name != NullRewrite; got != want {
			t.Errorf("Spec{%s}.NeedsString() = %v, want %v", name, got, want)
		}
	}
	chains := []struct {
		c    Chain
		want bool
	}{
		{Chain{}, false},
		{Chain{{Strategy: NullRewrite}}, false},
		{Chain{{Strategy: NullRewrite}, {Strategy: Hash}}, false},
		{Chain{{Strategy: Hash}, {Strategy: NullRewrite}}, true},
		{Chain{{Strategy: AESEncrypt}}, true},
	}
	for _, tt := range chains {
		if got := tt.c.NeedsString(); got != tt.want {
			t.Errorf("%v.NeedsString() = %v, want %v", tt.c, got, tt.want)
		}
	}
}

// TestStrategiesCatalogue checks the catalogue against Validate: it lists
// every strategy once, and every parameter it lists is one Validate accepts
// for that strategy (and only required ones are marked non-optional).
func TestStrategiesCatalogue(t *testing.T) {
	cat := Strategies()
	if len(cat) != len(StrategyNames()) {
		t.Fatalf("Strategies() has %d entries, want %d", len(cat), len(StrategyNames()))
	}
	// set returns s with the parameter key set to a valid non-default value.
	set := func(s Spec, key string) Spec {
		switch key {
		case "rewrite_value":
			s.RewriteValue = "x"
		case "length":
			s.Length = 7
		case "algorithm":
			s.Algorithm = SHA512
		case "mode":
			s.Mode = GCM
		case "format_preservation":
			s.FormatSuffix = "@x"
		default:
			t.Fatalf("catalogue lists parameter %q that Spec does not have", key)
		}
		return s
	}
	for i, info := range cat {
		if info.Name != StrategyNames()[i] {
			t.Errorf("entry %d is %q, want %q", i, info.Name, StrategyNames()[i])
		}
		if info.Description == "" {
			t.Errorf("%s has no description", info.Name)
		}
		if info.Parameters == nil {
			t.Errorf("%s: Parameters is nil, want an empty list (JSON [])", info.Name)
		}
		base := Spec{Strategy: info.Name}
		for _, p := range info.Parameters {
			if !p.Optional {
				base = set(base, p.Key)
			}
		}
		if err := base.Validate(); err != nil {
			t.Errorf("%s with its required parameters: %v", info.Name, err)
		}
		for _, p := range info.Parameters {
			if p.Description == "" {
				t.Errorf("%s.%s has no description", info.Name, p.Key)
			}
			if err := set(base, p.Key).Validate(); err != nil {
				t.Errorf("%s lists %s but Validate rejects it: %v", info.Name, p.Key, err)
			}
		}
	}
	// Strategies returns a fresh copy each time.
	cat[0].Name = "changed"
	if Strategies()[0].Name != NullRewrite {
		t.Error("modifying the result of Strategies() changed the catalogue")
	}
}
