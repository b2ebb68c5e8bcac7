package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/lethehq/lethe/core/store"
)

// Scopes every route of the API may require. The root client holds all of them.
var AllScopes = []string{
	"client:create", "client:delete", "client:read",
	"connection:read", "connection:create_or_update", "connection:delete",
	"dataset:read", "dataset:create_or_update", "dataset:delete",
	"policy:read", "policy:create_or_update", "policy:delete",
	"rule:read", "rule:create_or_update", "rule:delete",
	"privacy-request:create", "privacy-request:read", "privacy-request:review", "privacy-request:resume",
	"storage:read", "storage:create_or_update", "storage:delete",
	"masking:exec", "consent:read",
	"health:read", "metrics:read",
}

// Errors of the Authority, matched with errors.Is.
var (
	ErrInvalidClient   = errors.New("invalid client credentials")
	ErrInvalidToken    = errors.New("invalid or expired token")
	ErrScopeEscalation = errors.New("scope escalation")
	ErrUnknownScope    = errors.New("unknown scope")
)

// Issuer is the iss claim of every token.
const Issuer = "lethe"

// ObjectKind is the store object kind that holds clients.
const ObjectKind = "client"

// BcryptCost is the work factor of stored client secrets.
const BcryptCost = 10

// Objects is the part of the store the Authority needs.
type Objects interface {
	PutObjects(ctx context.Context, writes []store.ObjectWrite) error
	GetObject(ctx context.Context, kind, key string) (store.Object, error)
	ListObjects(ctx context.Context, kind string) ([]store.Object, error)
}

// Options configure New.
type Options struct {
	// SigningKey signs tokens (HS256); at least 32 bytes.
	SigningKey []byte
	// TokenTTL is the lifetime of a token (default 1h).
	TokenTTL time.Duration
	// RootID and RootSecret are the root client of the auth block.
	RootID     string
	RootSecret []byte
	// Clients stores the created clients.
	Clients Objects
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Compare checks a secret against a bcrypt hash (tests count the
	// comparisons); default bcrypt.CompareHashAndPassword.
	Compare func(hash, secret []byte) error
}

// Claims are what a verified token says.
type Claims struct {
	ClientID  string
	Scopes    []string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Client is a created client as stored (SecretHash is bcrypt).
type Client struct {
	ID         string    `json:"id"`
	SecretHash []byte    `json:"secret_hash"`
	Scopes     []string  `json:"scopes"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// Authority issues and verifies tokens and manages clients.
type Authority struct {
	key      []byte
	ttl      time.Duration
	rootID   string
	rootHash []byte // bcrypt of rootInput(secret)
	rootGen  string // fingerprint of the root secret, in root tokens
	objs     Objects
	now      func() time.Time
	compare  func(hash, secret []byte) error
	parser   *jwt.Parser
}

type tokenClaims struct {
	Scopes []string `json:"scopes"`
	// RootGen is, in root tokens, the fingerprint of the root secret they
	// were issued under.
	RootGen string `json:"rgen,omitempty"`
	jwt.RegisteredClaims
}

// rootInput is what bcrypt hashes for the root secret: its SHA-256, as
// bcrypt reads at most 72 bytes.
func rootInput(secret []byte) []byte {
	sum := sha256.Sum256(secret)
	return []byte(hex.EncodeToString(sum[:]))
}

// rootFingerprint identifies the root secret without revealing it: an
// HMAC under the signing key.
func rootFingerprint(key []byte, id string, secret []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("lethe root client\x00" + id + "\x00"))
	m.Write(secret)
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// New returns an Authority.
func New(o Options) (*Authority, error) {
	if len(o.SigningKey) < 32 {
		return nil, fmt.Errorf("token signing key is %d bytes, at least 32 needed", len(o.SigningKey))
	}
	if o.RootID == "" || len(o.RootSecret) == 0 {
		return nil, errors.New("the root client needs an id and a secret: set auth.root_client_id and auth.root_client_secret")
	}
	if len(o.RootSecret) < 16 {
		return nil, fmt.Errorf("auth.root_client_secret is %d bytes long; use at least 16 random bytes", len(o.RootSecret))
	}
	if o.Clients == nil {
		return nil, errors.New("auth: no client store")
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Compare == nil {
		o.Compare = bcrypt.CompareHashAndPassword
	}
	rootHash, err := bcrypt.GenerateFromPassword(rootInput(o.RootSecret), BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash the root secret: %w", err)
	}
	a := &Authority{
		key: append([]byte(nil), o.SigningKey...), ttl: o.TokenTTL, rootID: o.RootID,
		rootHash: rootHash, rootGen: rootFingerprint(o.SigningKey, o.RootID, o.RootSecret),
		objs: o.Clients, now: o.Now, compare: o.Compare,
	}
	a.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(Issuer),
		jwt.WithTimeFunc(func() time.Time { return a.now() }),
	)
	return a, nil
}

// Token exchanges a client's credentials for a signed token.
func (a *Authority) Token(ctx context.Context, id, secret string) (string, time.Duration, error) {
	scopes, err := a.authenticate(ctx, id, secret)
	if err != nil {
		return "", 0, err
	}
	now := a.now()
	claims := tokenClaims{
		Scopes: scopes,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Subject: id,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(a.ttl)),
			ID:        randomHex(12),
		},
	}
	if id == a.rootID {
		claims.RootGen = a.rootGen
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(a.key)
	if err != nil {
		return "", 0, fmt.Errorf("sign token: %w", err)
	}
	return tok, a.ttl, nil
}

// authenticate checks a client's credentials with exactly one bcrypt
// comparison at cost BcryptCost on every path (the root id, a created
// client, an unknown id), and one store lookup.
func (a *Authority) authenticate(ctx context.Context, id, secret string) ([]string, error) {
	if id == "" || secret == "" {
		return nil, ErrInvalidClient
	}
	c, err := a.client(ctx, id)
	var hash, input []byte
	var scopes []string
	switch {
	case id == a.rootID:
		// The root id is looked up too, so that it takes the same time.
		hash, input, scopes = a.rootHash, rootInput([]byte(secret)), slices.Clone(AllScopes)
	case errors.Is(err, store.ErrNotFound):
		hash, input = dummyHash, []byte(secret)
	case err != nil:
		return nil, err
	default:
		hash, input, scopes = c.SecretHash, []byte(secret), c.Scopes
	}
	if err := a.compare(hash, input); err != nil || scopes == nil {
		return nil, ErrInvalidClient
	}
	return scopes, nil
}

// dummyHash is compared for unknown ids, so that they take as long as a
// wrong secret.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("lethe dummy secret"), BcryptCost)

func (a *Authority) client(ctx context.Context, id string) (*Client, error) {
	obj, err := a.objs.GetObject(ctx, ObjectKind, id)
	if err != nil {
		return nil, err
	}
	var c Client
	if err := json.Unmarshal(obj.Value, &c); err != nil {
		return nil, fmt.Errorf("client %s: corrupt record: %w", id, err)
	}
	return &c, nil
}

// Verify checks a token's signature, algorithm, issuer and lifetime, and
// that its client still exists. Every failure is ErrInvalidToken.
func (a *Authority) Verify(ctx context.Context, token string) (*Claims, error) {
	var tc tokenClaims
	_, err := a.parser.ParseWithClaims(token, &tc, func(*jwt.Token) (any, error) { return a.key, nil })
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if tc.Subject == "" || tc.IssuedAt == nil {
		return nil, fmt.Errorf("%w: no subject or iat", ErrInvalidToken)
	}
	scopes := tc.Scopes
	if tc.Subject == a.rootID && !hmac.Equal([]byte(tc.RootGen), []byte(a.rootGen)) {
		// Issued under another root secret: rotating it revokes the tokens.
		return nil, fmt.Errorf("%w: issued under a previous root secret", ErrInvalidToken)
	}
	if tc.Subject != a.rootID {
		// A deleted client's tokens stop working at once; a token never
		// carries more than its client holds now.
		c, err := a.client(ctx, tc.Subject)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: client %s no longer exists", ErrInvalidToken, tc.Subject)
		}
		if err != nil {
			return nil, err
		}
		scopes = intersect(scopes, c.Scopes)
	} else {
		scopes = intersect(scopes, AllScopes)
	}
	return &Claims{ClientID: tc.Subject, Scopes: scopes, IssuedAt: tc.IssuedAt.Time, ExpiresAt: tc.ExpiresAt.Time}, nil
}

// CreateClient creates a client with scopes, which must all be known and
// held by the creator. The secret is returned this once; only its bcrypt
// hash is stored.
func (a *Authority) CreateClient(ctx context.Context, creator *Claims, scopes []string) (id, secret string, err error) {
	if creator == nil {
		return "", "", errors.New("create client: no creator")
	}
	if len(scopes) == 0 {
		return "", "", fmt.Errorf("%w: give at least one scope; known scopes: %v", ErrUnknownScope, AllScopes)
	}
	want := map[string]bool{}
	for _, s := range scopes {
		if !slices.Contains(AllScopes, s) {
			return "", "", fmt.Errorf("%w %q; known scopes: %v", ErrUnknownScope, s, AllScopes)
		}
		if !slices.Contains(creator.Scopes, s) {
			return "", "", fmt.Errorf("%w: client %s does not hold %q and cannot grant it", ErrScopeEscalation, creator.ClientID, s)
		}
		want[s] = true
	}
	granted := make([]string, 0, len(want))
	for s := range want {
		granted = append(granted, s)
	}
	sort.Strings(granted)
	id = "cli_" + randomHex(16)
	secret = base64.RawURLEncoding.EncodeToString(randomBytes(32))
	hash, err := bcrypt.GenerateFromPassword([]byte(secret), BcryptCost)
	if err != nil {
		return "", "", fmt.Errorf("hash client secret: %w", err)
	}
	data, err := json.Marshal(Client{ID: id, SecretHash: hash, Scopes: granted, CreatedBy: creator.ClientID, CreatedAt: a.now().UTC()})
	if err != nil {
		return "", "", err
	}
	zero := uint64(0)
	if err := a.objs.PutObjects(ctx, []store.ObjectWrite{{Kind: ObjectKind, Key: id, Value: data, IfVersion: &zero}}); err != nil {
		return "", "", fmt.Errorf("store client: %w", err)
	}
	return id, secret, nil
}

// DeleteClient deletes a created client; its tokens stop working at once.
// The root client cannot be deleted, and deleter may delete only clients
// whose scopes it holds all of (else ErrScopeEscalation).
func (a *Authority) DeleteClient(ctx context.Context, deleter *Claims, id string) error {
	if deleter == nil {
		return errors.New("delete client: no deleter")
	}
	if id == a.rootID {
		return errors.New("the root client is declared in the auth block and cannot be deleted")
	}
	obj, err := a.objs.GetObject(ctx, ObjectKind, id)
	if err != nil {
		return err
	}
	var c Client
	if err := json.Unmarshal(obj.Value, &c); err != nil {
		return fmt.Errorf("client %s: corrupt record: %w", id, err)
	}
	for _, s := range c.Scopes {
		if !slices.Contains(deleter.Scopes, s) {
			return fmt.Errorf("%w: client %s holds %q, which client %s does not, and cannot be deleted by it", ErrScopeEscalation, id, s, deleter.ClientID)
		}
	}
	v := obj.Version
	if err := a.objs.PutObjects(ctx, []store.ObjectWrite{{Kind: ObjectKind, Key: id, IfVersion: &v}}); err != nil {
		return fmt.Errorf("delete client %s: %w", id, err)
	}
	return nil
}

// Clients lists the created clients, without their secret hashes.
func (a *Authority) Clients(ctx context.Context) ([]Client, error) {
	objs, err := a.objs.ListObjects(ctx, ObjectKind)
	if err != nil {
		return nil, err
	}
	out := make([]Client, 0, len(objs))
	for _, o := range objs {
		var c Client
		if err := json.Unmarshal(o.Value, &c); err != nil {
			return nil, fmt.Errorf("client %s: corrupt record: %w", o.Key, err)
		}
		c.SecretHash = nil
		out = append(out, c)
	}
	return out, nil
}

func intersect(a, b []string) []string {
	out := make([]string, 0, len(a))
	for _, s := range a {
		if slices.Contains(b, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }
