package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of the server key in bytes (AES-256).
const KeySize = 32

const (
	sealVersion  = 1
	nonceSize    = 12
	aadPrefix    = "lethe/store/v1"
	infoSealKey  = "lethe store aes-256-gcm v1"
	infoIndexKey = "lethe store identity index v1"
	infoTokenKey = "lethe api token signing v1"
)

// sealer encrypts values at rest. Sub-keys are derived from the server
// key with HKDF-SHA256 so the server key itself
// is never used directly: one for AES-256-GCM, one for the identity blind
// index, one for signing API tokens.
type sealer struct {
	aead     cipher.AEAD
	indexKey []byte
	tokenKey []byte
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("encryption key must be %d bytes (AES-256), got %d; give server.encryption_key as 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)", KeySize, len(key))
	}
	encKey, err := hkdf.Key(sha256.New, key, nil, infoSealKey, KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive encryption key: %w", err)
	}
	indexKey, err := hkdf.Key(sha256.New, key, nil, infoIndexKey, KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive index key: %w", err)
	}
	tokenKey, err := hkdf.Key(sha256.New, key, nil, infoTokenKey, KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive token key: %w", err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("init AES: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("init AES-GCM: %w", err)
	}
	return &sealer{aead: aead, indexKey: indexKey, tokenKey: tokenKey}, nil
}

// aad binds a ciphertext to where it is stored: the bucket, then the key
// parts. Parts never contain NUL (ids, names and phases are validated), so
// the encoding is unambiguous.
func aad(bucket string, parts ...string) []byte {
	var b strings.Builder
	b.WriteString(aadPrefix)
	b.WriteByte(0)
	b.WriteString(bucket)
	for _, p := range parts {
		b.WriteByte(0)
		b.WriteString(p)
	}
	return []byte(b.String())
}

// seal returns version || nonce || AES-GCM(plaintext, aad).
func (s *sealer) seal(plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1 : 1+nonceSize]); err != nil {
		return nil, fmt.Errorf("read random nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:1+nonceSize], plaintext, ad), nil
}

var errOpen = errors.New("decrypt value: authentication failed (wrong key, or the value was altered or moved)")

// open decrypts a sealed value. The result is a fresh slice, never aliasing
// sealed (which may point into the bbolt mmap).
func (s *sealer) open(sealed, ad []byte) ([]byte, error) {
	if len(sealed) < 1+nonceSize+s.aead.Overhead() {
		return nil, fmt.Errorf("decrypt value: too short (%d bytes)", len(sealed))
	}
	if sealed[0] != sealVersion {
		return nil, fmt.Errorf("decrypt value: unknown format version %d", sealed[0])
	}
	out, err := s.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], ad)
	if err != nil {
		return nil, errOpen
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// blindIndex is HMAC-SHA256(indexKey, name || 0 || value): equal identities
// give equal index keys, nothing else can be learnt without the key.
func (s *sealer) blindIndex(name, value string) []byte {
	m := hmac.New(sha256.New, s.indexKey)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}
