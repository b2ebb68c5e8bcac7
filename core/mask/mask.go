package mask

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// nonceSize is the AES-GCM nonce length: the first 12 bytes of an
// HMAC-SHA256.
const nonceSize = 12

// TypeError is returned by Mask when a strategy other than null_rewrite
// meets a non-NULL value that is not a string. The caller adds the field
// name. It never holds the value itself (personal data), only its Go type.
type TypeError struct {
	Strategy string // the strategy that met the value
	GoType   string // the value's Go type, like "int64"
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("masking strategy %s needs a string value, got %s; declare the field type = \"string\" or mask it with null_rewrite",
		e.Strategy, e.GoType)
}

// Mask masks one value with the steps of c in order, each step masking the
// previous one's output, and returns the result: a string, or nil.
//
//   - nil (NULL) stays nil under every strategy; null_rewrite yields nil.
//   - A non-nil value that is not a string, under any strategy but
//     null_rewrite, gives a *TypeError.
//   - When fieldLength > 0 and the last step is not null_rewrite, a string
//     result is truncated to fieldLength runes (code points, as the
//     reference's Python val[:length]; never bytes, so multi-byte characters
//     are not cut).
//
// hash, hmac and aes_encrypt are deterministic for one sec, so a value masked
// in two tables of one request stays equal. Mask does not modify sec and is
// safe for concurrent use. A step whose strategy has no secrets in sec gives
// an error wrapping ErrNoSecrets. Mask assumes c passed Validate; it still
// rejects an unknown strategy or parameter value with an error.
func (c Chain) Mask(v any, sec Secrets, fieldLength int) (any, error) {
	if len(c) == 0 {
		return nil, errors.New("mask: empty masking chain; give at least one strategy")
	}
	cur := v
	for _, s := range c {
		if cur == nil {
			// NULL stays NULL; so does everything after null_rewrite.
			continue
		}
		if s.Strategy == NullRewrite {
			cur = nil
			continue
		}
		str, ok := cur.(string)
		if !ok {
			return nil, &TypeError{Strategy: s.Strategy, GoType: fmt.Sprintf("%T", cur)}
		}
		out, err := s.mask(str, sec)
		if err != nil {
			return nil, err
		}
		cur = out
	}
	if str, ok := cur.(string); ok && fieldLength > 0 && c[len(c)-1].Strategy != NullRewrite {
		cur = truncateRunes(str, fieldLength)
	}
	return cur, nil
}

// MaskValues masks values for the standalone masking API (PUT
// /api/v1/masking/mask): it validates chain, generates fresh secrets shared
// by all values of this call (as the reference does with no request), and
// masks each value without truncation. A nil entry in the result is NULL
// (after null_rewrite).
func MaskValues(values []string, chain Chain) ([]*string, error) {
	if err := chain.Validate(); err != nil {
		return nil, err
	}
	sec, err := NewSecrets(chain)
	if err != nil {
		return nil, err
	}
	out := make([]*string, len(values))
	for i, v := range values {
		m, err := chain.Mask(v, sec, 0)
		if err != nil {
			return nil, fmt.Errorf("mask value %d: %w", i, err)
		}
		if s, ok := m.(string); ok {
			out[i] = &s
		}
	}
	return out, nil
}

// mask applies one non-null strategy to a string, suffix included.
func (s Spec) mask(v string, sec Secrets) (string, error) {
	var out string
	switch s.Strategy {
	case StringRewrite:
		out = s.RewriteValue
	case RandomStringRewrite:
		n := s.Length
		if n == 0 {
			n = DefaultLength
		}
		if n < 0 || n > MaxLength {
			return "", fmt.Errorf("mask: %s length %d is out of range 1..%d", s.Strategy, n, MaxLength)
		}
		r, err := randomString(n)
		if err != nil {
			return "", err
		}
		out = r
	case Hash:
		if sec.Hash == nil {
			return "", fmt.Errorf("mask: %w: %s", ErrNoSecrets, s.Strategy)
		}
		newHash, err := hashFunc(s.Algorithm)
		if err != nil {
			return "", err
		}
		h := newHash()
		writeString(h, v)
		writeString(h, sec.Hash.Salt)
		out = hex.EncodeToString(h.Sum(nil))
	case HMAC:
		if sec.HMAC == nil {
			return "", fmt.Errorf("mask: %w: %s", ErrNoSecrets, s.Strategy)
		}
		newHash, err := hashFunc(s.Algorithm)
		if err != nil {
			return "", err
		}
		out = hex.EncodeToString(hmacSum(newHash, sec.HMAC.Key, v, sec.HMAC.Salt))
	case AESEncrypt:
		if sec.AES == nil {
			return "", fmt.Errorf("mask: %w: %s", ErrNoSecrets, s.Strategy)
		}
		if s.Mode != "" && s.Mode != GCM {
			return "", fmt.Errorf("mask: %s mode %q is not supported; the only mode is %s", s.Strategy, s.Mode, GCM)
		}
		ct, err := aesEncrypt(sec.AES, v)
		if err != nil {
			return "", err
		}
		out = ct
	default:
		return "", fmt.Errorf("mask: unknown masking strategy %q", s.Strategy)
	}
	return out + s.FormatSuffix, nil
}

func hashFunc(algorithm string) (func() hash.Hash, error) {
	switch algorithm {
	case "", SHA256:
		return sha256.New, nil
	case SHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("mask: algorithm %q is not supported; valid algorithms are %s, %s", algorithm, SHA256, SHA512)
}

// writeString writes s to h without copying it; hash writes never fail.
func writeString(h hash.Hash, s string) {
	_, _ = io.WriteString(h, s)
}

// hmacSum returns HMAC(key = UTF-8(key), msg = UTF-8(v + salt)), the
// reference's hmac_encrypt_return_bytes.
func hmacSum(newHash func() hash.Hash, key, v, salt string) []byte {
	m := hmac.New(newHash, []byte(key))
	msg := make([]byte, 0, len(v)+len(salt))
	m.Write(append(append(msg, v...), salt...))
	return m.Sum(nil)
}

// aesEncrypt is the reference's aes_encrypt: nonce = HMAC-SHA256(key_hmac,
// v + salt_hmac)[:12] (convergent: equal values give equal ciphertexts),
// output = base64(AES-256-GCM-Seal(key, nonce, UTF-8(v), aad = nonce)), that
// is ciphertext‖16-byte tag in standard padded base64, nonce not included.
func aesEncrypt(sec *AESSecrets, v string) (string, error) {
	if len(sec.Key) != aesKeySize {
		return "", fmt.Errorf("mask: %s key is %d bytes long, want %d", AESEncrypt, len(sec.Key), aesKeySize)
	}
	block, err := aes.NewCipher(sec.Key)
	if err != nil {
		return "", fmt.Errorf("mask: %s: %w", AESEncrypt, err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", fmt.Errorf("mask: %s: %w", AESEncrypt, err)
	}
	nonce := hmacSum(sha256.New, sec.KeyHMAC, v, sec.SaltHMAC)[:nonceSize]
	ct := gcm.Seal(nil, nonce, []byte(v), nonce)
	return base64.StdEncoding.EncodeToString(ct), nil
}

// alphabet is random_string_rewrite's alphabet, [a-z0-9] like the
// reference's string.ascii_lowercase + string.digits.
const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomLimit is the largest multiple of len(alphabet) not above 256: random
// bytes at or above it are rejected, so that b % len(alphabet) is uniform.
const randomLimit = 256 - 256%len(alphabet)

// randomString returns n characters drawn uniformly from alphabet with
// crypto/rand, by rejection sampling (no modulo bias).
func randomString(n int) (string, error) {
	out := make([]byte, 0, n)
	// 252/256 of the bytes are accepted; ask for a little more than n.
	buf := make([]byte, n+n/8+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("mask: %s: %w", RandomStringRewrite, err)
		}
		for _, b := range buf {
			if int(b) >= randomLimit {
				continue
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// truncateRunes returns the first n runes of s, or s when it has no more.
func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
