package mask

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// knownSecrets are fixed secrets for the reference test vectors.
func knownSecrets() Secrets {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	return Secrets{
		Hash: &HashSecrets{Salt: "adobo"},
		HMAC: &HMACSecrets{Key: "test_key", Salt: "test_salt"},
		AES:  &AESSecrets{Key: key, KeyHMAC: "test_key_hmac", SaltHMAC: "test_salt_hmac"},
	}
}

func mustMask(t *testing.T, c Chain, v any, sec Secrets, fieldLength int) any {
	t.Helper()
	out, err := c.Mask(v, sec, fieldLength)
	if err != nil {
		t.Fatalf("Mask(%v): %v", c, err)
	}
	return out
}

// TestReferenceVectors checks the test vectors of the reference's hash and
// hmac tests (in Fidesops), and AES-GCM outputs
// computed with the reference's algorithm in Python (cryptography's AESGCM,
// encrypt(nonce, value, nonce), nonce = HMAC-SHA256(key_hmac,
// value+salt_hmac)[:12], base64) for the secrets of knownSecrets.
func TestReferenceVectors(t *testing.T) {
	sec := knownSecrets()
	tests := []struct {
		name string
		spec Spec
		in   string
		want string
	}{
		{"hash SHA-256 default", Spec{Strategy: Hash}, "monkey",
			"1c015e801323afa54bde5e4d510809e6b5f14ad9b9961c48cbd7143106b6e596"},
		{"hash SHA-256", Spec{Strategy: Hash, Algorithm: SHA256}, "monkey",
			"1c015e801323afa54bde5e4d510809e6b5f14ad9b9961c48cbd7143106b6e596"},
		{"hash SHA-512", Spec{Strategy: Hash, Algorithm: SHA512}, "monkey",
			"527ca44f5c95400d161c503e6ddad7be01941ec9e7a03c2201338a16ba8a36bb765a430bd6b276a590661154f3f743a3a91efecd056645b4ea13b4b8cf39e8e3"},
		{"hmac SHA-256 default", Spec{Strategy: HMAC}, "my_data",
			"df1e66dc2262ae3336f36294811f795b075900287e0a1add7974eacea8a52970"},
		{"hmac SHA-256 other", Spec{Strategy: HMAC, Algorithm: SHA256}, "my_other_data",
			"fdc1f6389fbbb07174d4f15a4bbf0c0e2226a32ef2b288aa9a490e9fb91ce4bf"},
		{"hmac SHA-512", Spec{Strategy: HMAC, Algorithm: SHA512}, "my_data",
			"0b4b968fa95510640bff35404ca89c146769e0a88cd4a6c15843176735a0820eec0f6580a21fd2b6b30f130cef01ccb4c5ab1d63387c4153ce8fc507e52efbaf"},
		{"aes ascii", Spec{Strategy: AESEncrypt}, "jane@example.com",
			"LNog2ocRjX/Prw+r1UOCareUa8iXFTk2hfZ0GElesFQ="},
		{"aes multi-byte", Spec{Strategy: AESEncrypt, Mode: GCM}, "Zoë Ångström 東京",
			"xn0WBFxiwggFRyf1MDCAAY1STlQvg7scQtgT/ed5E8kZ5Eq0EIQ="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustMask(t, Chain{tt.spec}, tt.in, sec, 0)
			if got != tt.want {
				t.Errorf("Mask(%q) = %v, want %s", tt.in, got, tt.want)
			}
		})
	}
	// The document gives the SHA-512 vector as prefix…suffix and the
	// HMAC-SHA512 one as a prefix; check those as given, too.
	h512 := mustMask(t, Chain{{Strategy: Hash, Algorithm: SHA512}}, "monkey", sec, 0).(string)
	if !strings.HasPrefix(h512, "527ca44f") || !strings.HasSuffix(h512, "39e8e3") || len(h512) != 128 {
		t.Errorf("SHA-512 = %s, want 527ca44f…39e8e3 (128 hex digits)", h512)
	}
	m512 := mustMask(t, Chain{{Strategy: HMAC, Algorithm: SHA512}}, "my_data", sec, 0).(string)
	if !strings.HasPrefix(m512, "0b4b968fa95510640bff35404ca89c146769e0a8") {
		t.Errorf("HMAC-SHA512 = %s, want prefix 0b4b968fa95510640bff35404ca89c146769e0a8", m512)
	}
}

// TestAESDecrypts decrypts aes_encrypt's output with the key and the
// recomputed nonce, which is not part of the output.
func TestAESDecrypts(t *testing.T) {
	fresh, err := NewSecrets([]Spec{{Strategy: AESEncrypt}})
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []Secrets{knownSecrets(), fresh} {
		for _, plain := range []string{"", "a", "jane@example.com", "Zoë Ångström 東京 🙂", strings.Repeat("x", 1000)} {
			out := mustMask(t, Chain{{Strategy: AESEncrypt}}, plain, sec, 0).(string)
			ct, err := base64.StdEncoding.DecodeString(out)
			if err != nil {
				t.Fatalf("output is not standard base64: %v", err)
			}
			if len(ct) != len(plain)+16 {
				t.Fatalf("output is %d bytes, want ciphertext‖tag = %d (no nonce)", len(ct), len(plain)+16)
			}
			mac := hmac.New(sha256.New, []byte(sec.AES.KeyHMAC))
			mac.Write([]byte(plain + sec.AES.SaltHMAC))
			nonce := mac.Sum(nil)[:12]
			block, err := aes.NewCipher(sec.AES.Key)
			if err != nil {
				t.Fatal(err)
			}
			gcm, err := cipher.NewGCM(block)
			if err != nil {
				t.Fatal(err)
			}
			got, err := gcm.Open(nil, nonce, ct, nonce)
			if err != nil {
				t.Fatalf("decrypt with aad = nonce: %v", err)
			}
			if string(got) != plain {
				t.Errorf("decrypted %q, want %q", got, plain)
			}
			if _, err := gcm.Open(nil, nonce, ct, nil); err == nil && len(plain) > 0 {
				t.Error("decrypts without the nonce as aad; the reference authenticates the nonce")
			}
		}
	}
}

func TestDeterminism(t *testing.T) {
	specs := []Spec{{Strategy: Hash}, {Strategy: Hash, Algorithm: SHA512}, {Strategy: HMAC}, {Strategy: HMAC, Algorithm: SHA512}, {Strategy: AESEncrypt}}
	a, err := NewSecrets(specs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecrets(specs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		t.Run(s.Strategy+s.Algorithm, func(t *testing.T) {
			c := Chain{s}
			a1 := mustMask(t, c, "jane@example.com", a, 0)
			a2 := mustMask(t, c, "jane@example.com", a, 0)
			if a1 != a2 {
				t.Errorf("same value, same secrets: %v != %v", a1, a2)
			}
			if other := mustMask(t, c, "john@example.com", a, 0); other == a1 {
				t.Errorf("two values mask to the same %v", a1)
			}
			if b1 := mustMask(t, c, "jane@example.com", b, 0); b1 == a1 {
				t.Errorf("two requests' secrets mask to the same %v", a1)
			}
		})
	}
}

func TestNullStaysNull(t *testing.T) {
	sec := knownSecrets()
	for _, s := range allSpecs() {
		for _, fieldLength := range []int{0, 5} {
			got, err := Chain{s}.Mask(nil, sec, fieldLength)
			if err != nil || got != nil {
				t.Errorf("%s on NULL (length %d) = %v, %v; want nil, nil", s.Strategy, fieldLength, got, err)
			}
		}
		// And with no secrets at all: NULL never needs them.
		if got, err := (Chain{s}).Mask(nil, Secrets{}, 0); err != nil || got != nil {
			t.Errorf("%s on NULL without secrets = %v, %v; want nil, nil", s.Strategy, got, err)
		}
	}
}

func allSpecs() []Spec {
	return []Spec{
		{Strategy: NullRewrite},
		{Strategy: StringRewrite, RewriteValue: "MASKED"},
		{Strategy: RandomStringRewrite},
		{Strategy: Hash},
		{Strategy: HMAC},
		{Strategy: AESEncrypt},
	}
}

func TestNonStringValues(t *testing.T) {
	sec := knownSecrets()
	values := []struct {
		v      any
		goType string
	}{
		{int64(4242), "int64"},
		{3.25, "float64"},
		{true, "bool"},
		{map[string]any{"street": "1 Main St"}, "map[string]interface {}"},
		{[]byte("bytes-value"), "[]uint8"},
		{[]any{"a"}, "[]interface {}"},
	}
	for _, s := range allSpecs() {
		for _, tt := range values {
			t.Run(fmt.Sprintf("%s/%s", s.Strategy, tt.goType), func(t *testing.T) {
				got, err := Chain{s}.Mask(tt.v, sec, 10)
				if !s.NeedsString() {
					if err != nil || got != nil {
						t.Fatalf("null_rewrite = %v, %v; want nil, nil", got, err)
					}
					return
				}
				var te *TypeError
				if !errors.As(err, &te) {
					t.Fatalf("Mask = %v, %v; want a *TypeError", got, err)
				}
				if got != nil {
					t.Errorf("Mask returned %v with the error", got)
				}
				if te.Strategy != s.Strategy || te.GoType != tt.goType {
					t.Errorf("TypeError{%q, %q}, want {%q, %q}", te.Strategy, te.GoType, s.Strategy, tt.goType)
				}
				msg := err.Error()
				for _, w := range []string{s.Strategy, tt.goType, `type = "string"`, "null_rewrite"} {
					if !strings.Contains(msg, w) {
						t.Errorf("message %q does not contain %q", msg, w)
					}
				}
				for _, leak := range []string{"4242", "3.25", "Main St", "bytes-value"} {
					if strings.Contains(msg, leak) {
						t.Errorf("message %q contains the value", msg)
					}
				}
			})
		}
	}
}

func TestChains(t *testing.T) {
	sec := knownSecrets()
	hashed := mustMask(t, Chain{{Strategy: Hash}}, "monkey", sec, 0).(string)
	tests := []struct {
		name  string
		chain Chain
		in    any
		want  any
	}{
		{"hash then hmac feeds the hash to hmac", Chain{{Strategy: Hash}, {Strategy: HMAC}}, "monkey",
			mustMask(t, Chain{{Strategy: HMAC}}, hashed, sec, 0)},
		{"string_rewrite then hash", Chain{{Strategy: StringRewrite, RewriteValue: "monkey"}, {Strategy: Hash}}, "anything", hashed},
		{"suffix is part of the next step's input", Chain{{Strategy: StringRewrite, RewriteValue: "mon", FormatSuffix: "key"}, {Strategy: Hash}}, "x", hashed},
		{"null_rewrite then hash is NULL", Chain{{Strategy: NullRewrite}, {Strategy: Hash}}, "monkey", nil},
		{"null_rewrite then hash on an integer is NULL", Chain{{Strategy: NullRewrite}, {Strategy: Hash}}, int64(1), nil},
		{"hash then null_rewrite is NULL", Chain{{Strategy: Hash}, {Strategy: NullRewrite}}, "monkey", nil},
		{"string_rewrite then null_rewrite then string_rewrite is NULL", Chain{{Strategy: StringRewrite, RewriteValue: "a"}, {Strategy: NullRewrite}, {Strategy: StringRewrite, RewriteValue: "b"}}, "v", nil},
		{"two rewrites: the last wins", Chain{{Strategy: StringRewrite, RewriteValue: "a"}, {Strategy: StringRewrite, RewriteValue: "b"}}, "v", "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustMask(t, tt.chain, tt.in, sec, 0); got != tt.want {
				t.Errorf("Mask = %v, want %v", got, tt.want)
			}
		})
	}
	var te *TypeError
	if _, err := (Chain{{Strategy: Hash}, {Strategy: NullRewrite}}).Mask(int64(1), sec, 0); !errors.As(err, &te) || te.Strategy != Hash {
		t.Errorf("hash then null_rewrite on an integer: error = %v, want a *TypeError from hash", err)
	}
	if _, err := (Chain{}).Mask("v", sec, 0); err == nil {
		t.Error("an empty chain masked a value")
	}
	if _, err := (Chain{{Strategy: "rot13"}}).Mask("v", sec, 0); err == nil || !strings.Contains(err.Error(), "rot13") {
		t.Errorf("unknown strategy: error = %v", err)
	}
	if _, err := (Chain{{Strategy: Hash, Algorithm: "MD5"}}).Mask("v", sec, 0); err == nil || !strings.Contains(err.Error(), "MD5") {
		t.Errorf("unknown algorithm: error = %v", err)
	}
	if _, err := (Chain{{Strategy: AESEncrypt, Mode: "CBC"}}).Mask("v", sec, 0); err == nil || !strings.Contains(err.Error(), "CBC") {
		t.Errorf("unknown mode: error = %v", err)
	}
}

var lowerHex = regexp.MustCompile(`^[0-9a-f]+$`)

func TestFormatSuffix(t *testing.T) {
	sec := knownSecrets()
	const suffix = "@masked.example.com"
	for _, s := range allSpecs() {
		if !s.NeedsString() {
			continue
		}
		with := s
		with.FormatSuffix = suffix
		got := mustMask(t, Chain{with}, "jane@example.com", sec, 0).(string)
		body, ok := strings.CutSuffix(got, suffix)
		if !ok {
			t.Errorf("%s: %q does not end with the suffix", s.Strategy, got)
			continue
		}
		switch s.Strategy {
		case Hash, HMAC:
			if body != mustMask(t, Chain{s}, "jane@example.com", sec, 0) {
				t.Errorf("%s: with suffix %q is not the masked value + suffix", s.Strategy, got)
			}
			if !lowerHex.MatchString(body) {
				t.Errorf("%s: %q is not lowercase hex", s.Strategy, body)
			}
		case StringRewrite:
			if body != "MASKED" {
				t.Errorf("string_rewrite: %q, want MASKED%s", got, suffix)
			}
		case RandomStringRewrite:
			if len(body) != DefaultLength {
				t.Errorf("random_string_rewrite: body %q has %d characters, want %d", body, len(body), DefaultLength)
			}
		case AESEncrypt:
			if body != mustMask(t, Chain{s}, "jane@example.com", sec, 0) {
				t.Errorf("aes_encrypt with suffix %q is not the masked value + suffix", got)
			}
		}
	}
}

func TestTruncation(t *testing.T) {
	sec := knownSecrets()
	hashHex := mustMask(t, Chain{{Strategy: Hash}}, "monkey", sec, 0).(string)
	janeHex := mustMask(t, Chain{{Strategy: Hash}}, "jane@example.com", sec, 0).(string)
	tests := []struct {
		name        string
		chain       Chain
		fieldLength int
		want        any
	}{
		{"runes, not bytes", Chain{{Strategy: StringRewrite, RewriteValue: "ÄÖÜ東京🙂x"}}, 6, "ÄÖÜ東京🙂"},
		{"one multi-byte rune", Chain{{Strategy: StringRewrite, RewriteValue: "東京"}}, 1, "東"},
		{"exact length", Chain{{Strategy: StringRewrite, RewriteValue: "東京"}}, 2, "東京"},
		{"shorter than the length", Chain{{Strategy: StringRewrite, RewriteValue: "東京"}}, 40, "東京"},
		{"no length", Chain{{Strategy: StringRewrite, RewriteValue: "東京"}}, 0, "東京"},
		{"negative length is none", Chain{{Strategy: StringRewrite, RewriteValue: "東京"}}, -1, "東京"},
		{"suffix is truncated too", Chain{{Strategy: StringRewrite, RewriteValue: "ab", FormatSuffix: "çdé"}}, 4, "abçd"},
		{"hash", Chain{{Strategy: Hash}}, 10, janeHex[:10]},
		{"only the end is truncated", Chain{{Strategy: StringRewrite, RewriteValue: "monkey"}, {Strategy: Hash}}, 12, hashHex[:12]},
		{"null_rewrite last", Chain{{Strategy: StringRewrite, RewriteValue: "abc"}, {Strategy: NullRewrite}}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustMask(t, tt.chain, "jane@example.com", sec, tt.fieldLength)
			if got != tt.want {
				t.Errorf("Mask = %q, want %q", got, tt.want)
			}
			if s, ok := got.(string); ok && !utf8.ValidString(s) {
				t.Errorf("Mask = %q is not valid UTF-8", s)
			}
		})
	}
	for _, s := range allSpecs()[1:] {
		got := mustMask(t, Chain{s}, "Zoë Ångström", sec, 7).(string)
		if n := utf8.RuneCountInString(got); n > 7 || (s.Strategy != StringRewrite && n != 7) {
			t.Errorf("%s truncated to %d runes, want 7", s.Strategy, n)
		}
	}
}

var randomRE = regexp.MustCompile(`^[a-z0-9]*$`)

func TestRandomStringRewrite(t *testing.T) {
	for _, tt := range []struct{ length, want int }{{0, DefaultLength}, {1, 1}, {17, 17}, {MaxLength, MaxLength}} {
		c := Chain{{Strategy: RandomStringRewrite, Length: tt.length}}
		a := mustMask(t, c, "jane@example.com", Secrets{}, 0).(string)
		b := mustMask(t, c, "jane@example.com", Secrets{}, 0).(string)
		if len(a) != tt.want || len(b) != tt.want {
			t.Errorf("length %d: got %d and %d characters, want %d", tt.length, len(a), len(b), tt.want)
		}
		if !randomRE.MatchString(a) || !randomRE.MatchString(b) {
			t.Errorf("length %d: %q or %q has characters outside [a-z0-9]", tt.length, a, b)
		}
		if tt.want >= 17 && a == b {
			t.Errorf("length %d: two draws are equal: %q", tt.length, a)
		}
	}
	if _, err := (Chain{{Strategy: RandomStringRewrite, Length: MaxLength + 1}}).Mask("v", Secrets{}, 0); err == nil {
		t.Error("Mask accepted a length above MaxLength")
	}
	if randomLimit != 252 || randomLimit%len(alphabet) != 0 || len(alphabet) != 36 {
		t.Errorf("randomLimit %d is not the largest multiple of %d below 256", randomLimit, len(alphabet))
	}
}

// TestRandomStringUniform draws 36,000 characters: every character of the
// alphabet must appear about 1,000 times. The bounds are 13 standard
// deviations wide, so a correct implementation never fails, while a broken
// mapping (missing characters, gross bias) does.
func TestRandomStringUniform(t *testing.T) {
	s, err := randomString(36 * 1000)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[rune]int{}
	for _, r := range s {
		counts[r]++
	}
	for _, r := range alphabet {
		if n := counts[r]; n < 600 || n > 1400 {
			t.Errorf("%q drawn %d times in 36,000, want about 1,000", r, n)
		}
	}
	if len(counts) != len(alphabet) {
		t.Errorf("%d distinct characters, want %d", len(counts), len(alphabet))
	}
}

func TestMaskValues(t *testing.T) {
	values := []string{"jane@example.com", "john@example.com", "jane@example.com"}
	chain := Chain{{Strategy: HMAC}, {Strategy: AESEncrypt, FormatSuffix: "!"}}
	a, err := MaskValues(values, chain)
	if err != nil {
		t.Fatal(err)
	}
	b, err := MaskValues(values, chain)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 3 || a[0] == nil || a[1] == nil || a[2] == nil {
		t.Fatalf("MaskValues = %v, want three strings", a)
	}
	if *a[0] != *a[2] {
		t.Error("equal values in one call mask differently; secrets must be shared within a call")
	}
	if *a[0] == *a[1] {
		t.Error("different values mask the same")
	}
	if *a[0] == *b[0] {
		t.Error("two calls mask the same; each call needs fresh secrets")
	}
	if !strings.HasSuffix(*a[0], "!") {
		t.Errorf("%q lacks the suffix", *a[0])
	}

	nulls, err := MaskValues([]string{"a", "b"}, Chain{{Strategy: NullRewrite}})
	if err != nil || len(nulls) != 2 || nulls[0] != nil || nulls[1] != nil {
		t.Errorf("null_rewrite: MaskValues = %v, %v; want [nil nil]", nulls, err)
	}
	empty, err := MaskValues(nil, Chain{{Strategy: Hash}})
	if err != nil || len(empty) != 0 {
		t.Errorf("no values: MaskValues = %v, %v", empty, err)
	}
	if _, err := MaskValues(values, Chain{{Strategy: "rot13"}}); err == nil || !strings.Contains(err.Error(), "valid strategies are") {
		t.Errorf("unknown strategy: error = %v, want one listing the valid strategies", err)
	}
	if _, err := MaskValues(values, nil); err == nil {
		t.Error("MaskValues accepted an empty chain")
	}
}

// TestConcurrentMask runs Mask from several goroutines on shared secrets;
// run with -race.
func TestConcurrentMask(t *testing.T) {
	sec := knownSecrets()
	chain := Chain{{Strategy: HMAC}, {Strategy: AESEncrypt}}
	want := mustMask(t, chain, "jane@example.com", sec, 0)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range 100 {
				got, err := chain.Mask("jane@example.com", sec, 0)
				if err == nil && got != want {
					err = fmt.Errorf("got %v, want %v", got, want)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkHMAC200k masks 200,000 distinct e-mail addresses with hmac per
// iteration; ns/op is per 200,000 values.
func BenchmarkHMAC200k(b *testing.B) {
	sec, err := NewSecrets([]Spec{{Strategy: HMAC}})
	if err != nil {
		b.Fatal(err)
	}
	values := make([]string, 200_000)
	for i := range values {
		values[i] = fmt.Sprintf("user%06d@example.com", i)
	}
	chain := Chain{{Strategy: HMAC}}
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range values {
			if _, err := chain.Mask(v, sec, 40); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(values)), "ns/value")
}
