package drp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Version is the protocol version served.
const Version = "0.5"

// MaxIdentityToken bounds the identity token's length.
const MaxIdentityToken = 16 << 10

// Leeway is the clock skew allowed on exp, nbf and iat.
const Leeway = time.Minute

// IdentityOptions say how to check an identity token.
type IdentityOptions struct {
	// Key is the HS256 key (the agent's, or the drp block's).
	Key []byte
	// Audience, when set, must be in the token's aud.
	Audience string
	// RequireExp refuses tokens without exp.
	RequireExp bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Identity is what an identity token says about the consumer.
type Identity struct {
	// Values are the request identities: email, phone_number, name,
	// address (those present).
	Values map[string]string
	// Digest identifies the token (SHA-256 of its compact form): a replay
	// of the same token finds the request it created.
	Digest string
	// ExpiresAt is the token's exp (zero when it has none).
	ExpiresAt time.Time
}

// ErrIdentity wraps every identity token problem.
var ErrIdentity = errors.New("invalid identity token")

type identityClaims struct {
	Email       string          `json:"email"`
	PhoneNumber string          `json:"phone_number"`
	Name        string          `json:"name"`
	Address     json.RawMessage `json:"address"`
	jwt.RegisteredClaims
}

// ParseIdentity checks a compact JWS identity token: HS256 only (alg none
// and every other algorithm are refused), the signature with o.Key, exp
// when present (required with RequireExp), nbf and iat when present (iat
// later than now beyond Leeway is refused), aud
// when an audience is configured. The email, phone_number, name and
// address claims become identities; at least one must be there.
func ParseIdentity(token string, o IdentityOptions) (Identity, error) {
	if len(o.Key) == 0 {
		return Identity{}, fmt.Errorf("%w: no identity token key is configured; set drp.jwt_secret", ErrIdentity)
	}
	if len(token) > MaxIdentityToken {
		return Identity{}, fmt.Errorf("%w: longer than %d bytes", ErrIdentity, MaxIdentityToken)
	}
	if strings.Count(token, ".") != 2 {
		return Identity{}, fmt.Errorf("%w: not a compact JWS (header.payload.signature)", ErrIdentity)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(now),
		jwt.WithLeeway(Leeway),
		// iat is not checked by default: a token issued in the future is
		// refused like one not valid yet.
		jwt.WithIssuedAt(),
	}
	if o.RequireExp {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	var c identityClaims
	if _, err := jwt.NewParser(opts...).ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return o.Key, nil }); err != nil {
		return Identity{}, fmt.Errorf("%w: %s", ErrIdentity, describe(err))
	}
	// aud is optional (agents rarely send it); when the token has one and
	// an audience is configured, it must name it.
	if o.Audience != "" && len(c.Audience) > 0 && !slices.Contains(c.Audience, o.Audience) {
		return Identity{}, fmt.Errorf("%w: aud does not name this business", ErrIdentity)
	}
	id := Identity{Values: map[string]string{}}
	put := func(name, v string) {
		if v = strings.TrimSpace(v); v != "" {
			id.Values[name] = v
		}
	}
	put("email", c.Email)
	put("phone_number", c.PhoneNumber)
	put("name", c.Name)
	addr, err := address(c.Address)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	put("address", addr)
	if len(id.Values) == 0 {
		return Identity{}, fmt.Errorf("%w: it has none of the claims email, phone_number, name, address", ErrIdentity)
	}
	sum := sha256.Sum256([]byte(token))
	id.Digest = hex.EncodeToString(sum[:])
	if c.ExpiresAt != nil {
		id.ExpiresAt = c.ExpiresAt.Time
	}
	return id, nil
}

// describe turns a jwt error into a message that never echoes the token.
func describe(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "the signature does not match the agent's key, or the algorithm is not HS256"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "the algorithm is not HS256"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired (exp is in the past)"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "exp is required for this agent"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "issued in the future (iat is later than now, beyond a minute of clock skew)"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet (nbf is in the future)"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return "invalid claims"
	}
	return "invalid token"
}

// address reads the address claim: a string, or an OIDC address object
// (formatted, or its parts joined).
func address(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", errors.New("address is neither a string nor an address object")
	}
	if f, ok := obj["formatted"].(string); ok && f != "" {
		return f, nil
	}
	var parts []string
	for _, k := range []string{"street_address", "locality", "region", "postal_code", "country"} {
		if v, ok := obj[k].(string); ok && v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, ", "), nil
}
