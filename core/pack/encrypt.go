package pack

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

const nonceSize = 12

// Encrypt returns a writer that, when closed, writes to w
// base64(nonce || AES-GCM(key).Seal(nonce, plaintext, aad = nonce)) of
// everything written to it: the reference system's format. AES-GCM seals a
// document at once, so the plaintext is held in memory, up to maxPlaintext
// bytes; writing more fails with an error saying so.
func Encrypt(w io.Writer, key []byte, maxPlaintext int64) (io.WriteCloser, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &encrypter{w: w, aead: aead, max: maxPlaintext}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("encryption key is %d bytes; it must be 16, 24 or 32 bytes (AES-128, AES-192 or AES-256)", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

type encrypter struct {
	w      io.Writer
	aead   cipher.AEAD
	buf    bytes.Buffer
	max    int64
	closed bool
}

func (e *encrypter) Write(p []byte) (int, error) {
	if e.closed {
		return 0, errors.New("pack: write to a closed encrypter")
	}
	if e.max > 0 && int64(e.buf.Len()+len(p)) > e.max {
		return 0, fmt.Errorf("the package is larger than %d bytes, the limit for packages encrypted with the requester's key; submit the request without an encryption key, or split the policy's access rules", e.max)
	}
	return e.buf.Write(p)
}

func (e *encrypter) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	nonce := make([]byte, nonceSize, nonceSize+e.buf.Len()+e.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	sealed := e.aead.Seal(nonce, nonce, e.buf.Bytes(), nonce)
	clear(e.buf.Bytes())
	e.buf = bytes.Buffer{}
	enc := base64.NewEncoder(base64.StdEncoding, e.w)
	if _, err := enc.Write(sealed); err != nil {
		return err
	}
	return enc.Close()
}

// Decrypt opens a package written by Encrypt.
func Decrypt(encoded, key []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(encoded)))
	if err != nil {
		return nil, fmt.Errorf("decrypt package: not base64: %w", err)
	}
	if len(raw) < nonceSize+aead.Overhead() {
		return nil, errors.New("decrypt package: too short")
	}
	nonce := raw[:nonceSize]
	out, err := aead.Open(nil, nonce, raw[nonceSize:], nonce)
	if err != nil {
		return nil, fmt.Errorf("decrypt package: wrong key or damaged data: %w", err)
	}
	return out, nil
}
