package mask

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
)

// secretsVersion is the version of the serialised form written by
// MarshalBinary.
const secretsVersion = 1

// aesKeySize is the AES key length: 32 bytes, AES-256.
const aesKeySize = 32

// Secrets are the masking secrets of one privacy request, one set per
// strategy that needs them, as in the reference (keyed by strategy name, so
// two hash steps with different algorithms share the hash salt). A nil
// member means the request has no secrets for that strategy.
//
// Secrets are generated once, at request creation (NewSecrets), and must be
// stored durably and encrypted (MarshalBinary) so that resumed requests mask
// foreign keys the same way. fmt, log/slog and encoding/json show them
// redacted; only MarshalBinary writes the secret values.
type Secrets struct {
	Hash *HashSecrets
	HMAC *HMACSecrets
	AES  *AESSecrets
}

// HashSecrets are the secrets of the hash strategy.
type HashSecrets struct {
	Salt string
}

// HMACSecrets are the secrets of the hmac strategy. Key is used as its
// UTF-8 bytes.
type HMACSecrets struct {
	Key  string
	Salt string
}

// AESSecrets are the secrets of the aes_encrypt strategy: the AES-256 key,
// and the HMAC key and salt that derive each value's nonce.
type AESSecrets struct {
	Key      []byte
	KeyHMAC  string
	SaltHMAC string
}

// ErrNoSecrets is wrapped by Mask errors when a step's strategy has no
// secrets in the Secrets given.
var ErrNoSecrets = errors.New("no masking secrets for this strategy")

// NewSecrets generates fresh secrets for every strategy in specs that needs
// them, from crypto/rand. String secrets are 32 random bytes in URL-safe
// base64 without padding (43 characters, like Python's
// secrets.token_urlsafe(32)); the AES key is 32 random bytes.
func NewSecrets(specs []Spec) (Secrets, error) {
	var sec Secrets
	for i, s := range specs {
		if !knownStrategy(s.Strategy) {
			return Secrets{}, fmt.Errorf("generate masking secrets: step %d: unknown strategy %q", i+1, s.Strategy)
		}
	}
	var err error
	for _, s := range specs {
		switch s.Strategy {
		case Hash:
			if sec.Hash == nil {
				h := &HashSecrets{}
				if h.Salt, err = token(); err != nil {
					return Secrets{}, err
				}
				sec.Hash = h
			}
		case HMAC:
			if sec.HMAC == nil {
				h := &HMACSecrets{}
				if h.Key, err = token(); err != nil {
					return Secrets{}, err
				}
				if h.Salt, err = token(); err != nil {
					return Secrets{}, err
				}
				sec.HMAC = h
			}
		case AESEncrypt:
			if sec.AES == nil {
				a := &AESSecrets{Key: make([]byte, aesKeySize)}
				if _, err = rand.Read(a.Key); err != nil {
					return Secrets{}, fmt.Errorf("generate masking secrets: %w", err)
				}
				if a.KeyHMAC, err = token(); err != nil {
					return Secrets{}, err
				}
				if a.SaltHMAC, err = token(); err != nil {
					return Secrets{}, err
				}
				sec.AES = a
			}
		}
	}
	return sec, nil
}

// token returns 32 random bytes in URL-safe base64 without padding.
func token() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate masking secrets: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// secretsJSON is the serialised form.
type secretsJSON struct {
	Version int       `json:"version"`
	Hash    *hashJSON `json:"hash,omitempty"`
	HMAC    *hmacJSON `json:"hmac,omitempty"`
	AES     *aesJSON  `json:"aes_encrypt,omitempty"`
}

type hashJSON struct {
	Salt string `json:"salt"`
}

type hmacJSON struct {
	Key  string `json:"key"`
	Salt string `json:"salt"`
}

type aesJSON struct {
	Key      []byte `json:"key"` // base64 (standard, padded) by encoding/json
	KeyHMAC  string `json:"key_hmac"`
	SaltHMAC string `json:"salt_hmac"`
}

func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// MarshalBinary serialises s as versioned JSON:
//
//	{"version":1,"hash":{"salt":…},"hmac":{"key":…,"salt":…},
//	 "aes_encrypt":{"key":base64,"key_hmac":…,"salt_hmac":…}}
//
// with absent strategies left out. The output is secret: encrypt it at rest.
func (s Secrets) MarshalBinary() ([]byte, error) {
	v := secretsJSON{Version: secretsVersion}
	if s.Hash != nil {
		v.Hash = &hashJSON{Salt: s.Hash.Salt}
	}
	if s.HMAC != nil {
		v.HMAC = &hmacJSON{Key: s.HMAC.Key, Salt: s.HMAC.Salt}
	}
	if s.AES != nil {
		v.AES = &aesJSON{Key: s.AES.Key, KeyHMAC: s.AES.KeyHMAC, SaltHMAC: s.AES.SaltHMAC}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("serialise masking secrets: %w", err)
	}
	return b, nil
}

// UnmarshalBinary reads what MarshalBinary wrote, and checks it: a known
// version, no unknown fields, no empty secret, a 32-byte AES key. Errors
// never contain secret values.
func (s *Secrets) UnmarshalBinary(data []byte) error {
	var v secretsJSON
	if err := strictUnmarshal(data, &v); err != nil {
		return fmt.Errorf("read masking secrets: %w", err)
	}
	if v.Version != secretsVersion {
		return fmt.Errorf("read masking secrets: version %d is not supported (this build reads version %d)", v.Version, secretsVersion)
	}
	bad := func(strategy, field string) error {
		return fmt.Errorf("read masking secrets: %s %s is empty", strategy, field)
	}
	var out Secrets
	if v.Hash != nil {
		if v.Hash.Salt == "" {
			return bad(Hash, "salt")
		}
		out.Hash = &HashSecrets{Salt: v.Hash.Salt}
	}
	if v.HMAC != nil {
		if v.HMAC.Key == "" {
			return bad(HMAC, "key")
		}
		if v.HMAC.Salt == "" {
			return bad(HMAC, "salt")
		}
		out.HMAC = &HMACSecrets{Key: v.HMAC.Key, Salt: v.HMAC.Salt}
	}
	if v.AES != nil {
		if len(v.AES.Key) != aesKeySize {
			return fmt.Errorf("read masking secrets: %s key is %d bytes long, want %d", AESEncrypt, len(v.AES.Key), aesKeySize)
		}
		if v.AES.KeyHMAC == "" {
			return bad(AESEncrypt, "key_hmac")
		}
		if v.AES.SaltHMAC == "" {
			return bad(AESEncrypt, "salt_hmac")
		}
		out.AES = &AESSecrets{Key: v.AES.Key, KeyHMAC: v.AES.KeyHMAC, SaltHMAC: v.AES.SaltHMAC}
	}
	*s = out
	return nil
}

// String names the strategies s holds secrets for, never the secrets.
func (s Secrets) String() string {
	var names []string
	if s.Hash != nil {
		names = append(names, Hash)
	}
	if s.HMAC != nil {
		names = append(names, HMAC)
	}
	if s.AES != nil {
		names = append(names, AESEncrypt)
	}
	return fmt.Sprintf("mask.Secrets%v%s", names, redacted)
}

const redacted = "(redacted)"

// Secrets and their parts redact themselves wherever they could be shown:
// fmt (%v, %+v, %s, %#v), log/slog (any handler) and encoding/json, which
// slog's JSON handler and API responses use. Only MarshalBinary writes the
// secrets.

func (s Secrets) GoString() string             { return s.String() }
func (s Secrets) LogValue() slog.Value         { return slog.StringValue(s.String()) }
func (s Secrets) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

func (HashSecrets) String() string                 { return "mask.HashSecrets" + redacted }
func (h HashSecrets) GoString() string             { return h.String() }
func (h HashSecrets) LogValue() slog.Value         { return slog.StringValue(h.String()) }
func (h HashSecrets) MarshalJSON() ([]byte, error) { return json.Marshal(h.String()) }

func (HMACSecrets) String() string                 { return "mask.HMACSecrets" + redacted }
func (h HMACSecrets) GoString() string             { return h.String() }
func (h HMACSecrets) LogValue() slog.Value         { return slog.StringValue(h.String()) }
func (h HMACSecrets) MarshalJSON() ([]byte, error) { return json.Marshal(h.String()) }

func (AESSecrets) String() string                 { return "mask.AESSecrets" + redacted }
func (a AESSecrets) GoString() string             { return a.String() }
func (a AESSecrets) LogValue() slog.Value         { return slog.StringValue(a.String()) }
func (a AESSecrets) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }
