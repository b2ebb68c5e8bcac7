package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lethehq/lethe/core/store"
)

const rootSecret = "root-secret-0123456789"

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newAuthority(t *testing.T) (*Authority, *clock, *store.Bolt) {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := st.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	a, err := New(Options{SigningKey: key, TokenTTL: time.Hour, RootID: "root", RootSecret: []byte(rootSecret), Clients: st, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return a, c, st
}

func TestRootTokenRoundTrip(t *testing.T) {
	a, _, _ := newAuthority(t)
	ctx := context.Background()
	tok, ttl, err := a.Token(ctx, "root", rootSecret)
	if err != nil || ttl != time.Hour {
		t.Fatalf("Token: %v, ttl %s", err, ttl)
	}
	c, err := a.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "root" || len(c.Scopes) != len(AllScopes) {
		t.Fatalf("claims %+v", c)
	}
	for _, bad := range []struct{ id, secret string }{{"root", "wrong"}, {"root", ""}, {"", rootSecret}, {"nobody", rootSecret}} {
		if _, _, err := a.Token(ctx, bad.id, bad.secret); !errors.Is(err, ErrInvalidClient) {
			t.Errorf("Token(%q, %q) = %v, want ErrInvalidClient", bad.id, bad.secret, err)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	a, clk, _ := newAuthority(t)
	ctx := context.Background()
	good, _, err := a.Token(ctx, "root", rootSecret)
	if err != nil {
		t.Fatal(err)
	}
	now := clk.t
	sign := func(m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": Issuer, "sub": "root", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scopes": AllScopes}
	}
	without := func(k string) jwt.MapClaims { c := valid(); delete(c, k); return c }
	with := func(k string, v any) jwt.MapClaims { c := valid(); c[k] = v; return c }
	parts := strings.Split(good, ".")
	cases := map[string]string{
		"empty":            "",
		"not a jwt":        "hello",
		"alg none":         sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid()),
		"HS384 same key":   sign(jwt.SigningMethodHS384, a.key, valid()),
		"other key":        sign(jwt.SigningMethodHS256, []byte("0123456789abcdef0123456789abcdef"), valid()),
		"expired":          sign(jwt.SigningMethodHS256, a.key, with("exp", now.Add(-time.Second).Unix())),
		"no exp":           sign(jwt.SigningMethodHS256, a.key, without("exp")),
		"no iat":           sign(jwt.SigningMethodHS256, a.key, without("iat")),
		"iat in future":    sign(jwt.SigningMethodHS256, a.key, with("iat", now.Add(time.Hour).Unix())),
		"other issuer":     sign(jwt.SigningMethodHS256, a.key, with("iss", "fides")),
		"no subject":       sign(jwt.SigningMethodHS256, a.key, without("sub")),
		"unknown client":   sign(jwt.SigningMethodHS256, a.key, with("sub", "cli_gone")),
		"payload swapped":  parts[0] + "." + strings.Split(sign(jwt.SigningMethodHS256, a.key, with("sub", "x")), ".")[1] + "." + parts[2],
		"signature cut":    parts[0] + "." + parts[1] + ".",
		"extra segment":    good + ".x",
		"bearer prefix in": "Bearer " + good,
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := a.Verify(ctx, tok); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify = %v, want ErrInvalidToken", err)
			}
		})
	}
	// The good token expires with the clock.
	clk.t = now.Add(time.Hour + time.Second)
	if _, err := a.Verify(ctx, good); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired good token: %v", err)
	}
}

func TestClientLifecycle(t *testing.T) {
	a, _, st := newAuthority(t)
	ctx := context.Background()
	root := &Claims{ClientID: "root", Scopes: AllScopes}
	id, secret, err := a.CreateClient(ctx, root, []string{"privacy-request:read", "privacy-request:create", "privacy-request:read"})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := st.GetObject(ctx, ObjectKind, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(obj.Value), secret) {
		t.Fatal("the stored client holds its plain secret")
	}
	tok, _, err := a.Token(ctx, id, secret)
	if err != nil {
		t.Fatal(err)
	}
	// A second success, then a wrong secret still fails.
	if _, _, err := a.Token(ctx, id, secret); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Token(ctx, id, secret+"x"); !errors.Is(err, ErrInvalidClient) {
		t.Fatalf("wrong secret: %v", err)
	}
	c, err := a.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Scopes, ",") != "privacy-request:create,privacy-request:read" {
		t.Fatalf("scopes %v", c.Scopes)
	}
	// Escalation: this client cannot grant what it lacks.
	if _, _, err := a.CreateClient(ctx, c, []string{"policy:read"}); !errors.Is(err, ErrScopeEscalation) {
		t.Fatalf("escalation: %v", err)
	}
	if _, _, err := a.CreateClient(ctx, c, []string{"privacy-request:read"}); err != nil {
		t.Fatalf("subset: %v", err)
	}
	for _, scopes := range [][]string{nil, {"admin"}, {"privacy-request:*"}} {
		if _, _, err := a.CreateClient(ctx, root, scopes); !errors.Is(err, ErrUnknownScope) {
			t.Fatalf("scopes %v: %v", scopes, err)
		}
	}
	list, err := a.Clients(ctx)
	if err != nil || len(list) != 2 || list[0].SecretHash != nil {
		t.Fatalf("Clients = %+v, %v", list, err)
	}
	if err := a.DeleteClient(ctx, root, "root"); err == nil {
		t.Fatal("root client deleted")
	}
	if err := a.DeleteClient(ctx, root, id); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteClient(ctx, root, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := a.Verify(ctx, tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token of a deleted client: %v", err)
	}
	if _, _, err := a.Token(ctx, id, secret); !errors.Is(err, ErrInvalidClient) {
		t.Fatalf("credentials of a deleted client: %v", err)
	}
}

func TestNewRefusesWeakConfig(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := make([]byte, 32)
	for name, o := range map[string]Options{
		"short key":    {SigningKey: key[:16], RootID: "r", RootSecret: []byte(rootSecret), Clients: st},
		"no root id":   {SigningKey: key, RootSecret: []byte(rootSecret), Clients: st},
		"short secret": {SigningKey: key, RootID: "r", RootSecret: []byte("short"), Clients: st},
		"no store":     {SigningKey: key, RootID: "r", RootSecret: []byte(rootSecret)},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
