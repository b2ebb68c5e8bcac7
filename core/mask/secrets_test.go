package mask

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func TestNewSecrets(t *testing.T) {
	tests := []struct {
		name               string
		specs              []Spec
		wantHash, wantHMAC bool
		wantAES            bool
	}{
		{"none", nil, false, false, false},
		{"no secret strategies", []Spec{{Strategy: NullRewrite}, {Strategy: StringRewrite, RewriteValue: "x"}, {Strategy: RandomStringRewrite}}, false, false, false},
		{"hash", []Spec{{Strategy: Hash}}, true, false, false},
		{"hmac", []Spec{{Strategy: HMAC}}, false, true, false},
		{"aes", []Spec{{Strategy: AESEncrypt}}, false, false, true},
		{"all", []Spec{{Strategy: AESEncrypt}, {Strategy: Hash, Algorithm: SHA512}, {Strategy: HMAC}, {Strategy: Hash}}, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec, err := NewSecrets(tt.specs)
			if err != nil {
				t.Fatal(err)
			}
			if (sec.Hash != nil) != tt.wantHash || (sec.HMAC != nil) != tt.wantHMAC || (sec.AES != nil) != tt.wantAES {
				t.Fatalf("NewSecrets: hash %v hmac %v aes %v, want %v %v %v",
					sec.Hash != nil, sec.HMAC != nil, sec.AES != nil, tt.wantHash, tt.wantHMAC, tt.wantAES)
			}
			var tokens []string
			if sec.Hash != nil {
				tokens = append(tokens, sec.Hash.Salt)
			}
			if sec.HMAC != nil {
				tokens = append(tokens, sec.HMAC.Key, sec.HMAC.Salt)
			}
			if sec.AES != nil {
				if len(sec.AES.Key) != 32 {
					t.Errorf("AES key is %d bytes, want 32", len(sec.AES.Key))
				}
				if bytes.Equal(sec.AES.Key, make([]byte, 32)) {
					t.Error("AES key is all zero")
				}
				tokens = append(tokens, sec.AES.KeyHMAC, sec.AES.SaltHMAC)
			}
			seen := map[string]bool{}
			for _, tok := range tokens {
				if !tokenRE.MatchString(tok) {
					t.Errorf("secret is not 43 URL-safe base64 characters (len %d)", len(tok))
				}
				if seen[tok] {
					t.Error("two secrets are equal")
				}
				seen[tok] = true
			}
		})
	}
	if _, err := NewSecrets([]Spec{{Strategy: Hash}, {Strategy: "rot13"}}); err == nil || !strings.Contains(err.Error(), `"rot13"`) {
		t.Errorf("unknown strategy: NewSecrets error = %v, want one naming it", err)
	}
}

func TestNewSecretsDiffer(t *testing.T) {
	specs := []Spec{{Strategy: Hash}, {Strategy: HMAC}, {Strategy: AESEncrypt}}
	a, err := NewSecrets(specs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecrets(specs)
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash.Salt == b.Hash.Salt || a.HMAC.Key == b.HMAC.Key || a.HMAC.Salt == b.HMAC.Salt ||
		bytes.Equal(a.AES.Key, b.AES.Key) || a.AES.KeyHMAC == b.AES.KeyHMAC || a.AES.SaltHMAC == b.AES.SaltHMAC {
		t.Error("two NewSecrets calls share a secret")
	}
}

func TestSecretsRoundTrip(t *testing.T) {
	full, err := NewSecrets([]Spec{{Strategy: Hash}, {Strategy: HMAC}, {Strategy: AESEncrypt}})
	if err != nil {
		t.Fatal(err)
	}
	onlyHMAC, err := NewSecrets([]Spec{{Strategy: HMAC}})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]Secrets{"full": full, "hmac only": onlyHMAC, "empty": {}} {
		t.Run(name, func(t *testing.T) {
			b, err := in.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte(`"version":1`)) {
				t.Errorf("serialised form has no version 1: %d bytes", len(b))
			}
			var out Secrets
			if err := out.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in, out) {
				t.Error("round trip changed the secrets")
			}
			// And the round-tripped secrets mask identically.
			chain := Chain{{Strategy: Hash}, {Strategy: HMAC}, {Strategy: AESEncrypt}}
			if in.Hash != nil && in.HMAC != nil && in.AES != nil {
				m1, err1 := chain.Mask("jane@example.com", in, 0)
				m2, err2 := chain.Mask("jane@example.com", out, 0)
				if err1 != nil || err2 != nil || m1 != m2 {
					t.Errorf("masking before and after the round trip differs (%v, %v)", err1, err2)
				}
			}
		})
	}
}

func TestSecretsUnmarshalRejects(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	tests := []struct {
		name, in, want string
	}{
		{"not json", `secret-salt-value`, "read masking secrets"},
		{"no version", `{"hash":{"salt":"secret-salt-value"}}`, "version 0 is not supported"},
		{"future version", `{"version":2}`, "version 2 is not supported"},
		{"unknown field", `{"version":1,"md5":{}}`, "unknown field"},
		{"unknown nested field", `{"version":1,"hmac":{"key":"secret-key-value","salt":"secret-salt-value","pepper":"x"}}`, "unknown field"},
		{"empty hash salt", `{"version":1,"hash":{"salt":""}}`, "hash salt is empty"},
		{"empty hmac key", `{"version":1,"hmac":{"key":"","salt":"secret-salt-value"}}`, "hmac key is empty"},
		{"empty hmac salt", `{"version":1,"hmac":{"key":"secret-key-value"}}`, "hmac salt is empty"},
		{"short aes key", `{"version":1,"aes_encrypt":{"key":"` + short + `","key_hmac":"secret-key-value","salt_hmac":"secret-salt-value"}}`, "16 bytes long, want 32"},
		{"bad aes key encoding", `{"version":1,"aes_encrypt":{"key":"!!","key_hmac":"secret-key-value","salt_hmac":"secret-salt-value"}}`, "read masking secrets"},
		{"empty aes key_hmac", `{"version":1,"aes_encrypt":{"key":"` + key + `","salt_hmac":"secret-salt-value"}}`, "key_hmac is empty"},
		{"empty aes salt_hmac", `{"version":1,"aes_encrypt":{"key":"` + key + `","key_hmac":"secret-key-value"}}`, "salt_hmac is empty"},
		{"trailing data", `{"version":1} {"version":1}`, "trailing data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec := Secrets{Hash: &HashSecrets{Salt: "kept"}}
			err := sec.UnmarshalBinary([]byte(tt.in))
			if err == nil {
				t.Fatal("UnmarshalBinary accepted it")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			for _, s := range []string{"secret-salt-value", "secret-key-value", key} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains a secret", err)
				}
			}
			if sec.Hash == nil || sec.Hash.Salt != "kept" {
				t.Error("a failed UnmarshalBinary changed the receiver")
			}
		})
	}
}

// TestSecretsRedacted checks that formatting and logging Secrets never show
// a secret.
func TestSecretsRedacted(t *testing.T) {
	sec, err := NewSecrets([]Spec{{Strategy: Hash}, {Strategy: HMAC}, {Strategy: AESEncrypt}})
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{sec.Hash.Salt, sec.HMAC.Key, sec.HMAC.Salt, sec.AES.KeyHMAC, sec.AES.SaltHMAC,
		base64.StdEncoding.EncodeToString(sec.AES.Key), fmt.Sprint(sec.AES.Key[:4]), fmt.Sprintf("%x", sec.AES.Key[:4])}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("secrets", "sec", sec, "hmac", sec.HMAC)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("secrets", "sec", sec, "aes", sec.AES, "hash", *sec.Hash)
	asJSON, err := json.Marshal(struct {
		S    Secrets
		P    *Secrets
		Hash *HashSecrets
		HMAC HMACSecrets
		AES  *AESSecrets
	}{sec, &sec, sec.Hash, *sec.HMAC, sec.AES})
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{
		fmt.Sprint(sec), fmt.Sprintf("%v %+v %#v %s", sec, sec, sec, sec),
		fmt.Sprintf("%v %+v %#v", sec.Hash, sec.HMAC, sec.AES),
		fmt.Sprintf("%v %+v %#v", *sec.Hash, *sec.HMAC, *sec.AES),
		fmt.Sprintf("%v", []any{sec, &sec}),
		logged.String(),
		string(asJSON),
	}
	for _, out := range outputs {
		if !strings.Contains(out, "redacted") {
			t.Errorf("output %q does not say redacted", out)
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output %q contains a secret", out)
			}
		}
	}
	if got := fmt.Sprint(sec); !strings.Contains(got, "hash") || !strings.Contains(got, "aes_encrypt") {
		t.Errorf("String() = %q, want the strategy names", got)
	}
}

func TestMissingSecrets(t *testing.T) {
	for _, s := range []string{Hash, HMAC, AESEncrypt} {
		_, err := Chain{{Strategy: s}}.Mask("v", Secrets{}, 0)
		if !errors.Is(err, ErrNoSecrets) {
			t.Errorf("%s without secrets: error = %v, want ErrNoSecrets", s, err)
		}
		if err != nil && !strings.Contains(err.Error(), s) {
			t.Errorf("%s without secrets: error %q does not name the strategy", s, err)
		}
	}
}

// FuzzSecretsUnmarshal: UnmarshalBinary never panics, and whatever it
// accepts marshals back to something it reads as the same secrets.
func FuzzSecretsUnmarshal(f *testing.F) {
	full, err := NewSecrets([]Spec{{Strategy: Hash}, {Strategy: HMAC}, {Strategy: AESEncrypt}})
	if err != nil {
		f.Fatal(err)
	}
	b, err := full.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"hash":{"salt":"s"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Secrets
		if s.UnmarshalBinary(data) != nil {
			return
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var s2 Secrets
		if err := s2.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-reading accepted secrets: %v", err)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatal("secrets changed on a second round trip")
		}
	})
}
