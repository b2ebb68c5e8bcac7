package drp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lethehq/lethe/core/store"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func sign(t testing.TB, m jwt.SigningMethod, k any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseIdentity(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, key, c) }
	tests := []struct {
		name  string
		token string
		opts  IdentityOptions
		want  map[string]string // nil: an error is expected
		err   string
	}{
		{"email", hs(jwt.MapClaims{"email": "a@b.c"}), IdentityOptions{}, map[string]string{"email": "a@b.c"}, ""},
		{"all claims, address object", hs(jwt.MapClaims{"email": "a@b.c", "phone_number": "+15550100", "name": "A B",
			"address": map[string]any{"street_address": "1 Main St", "locality": "Springfield", "country": "US"}}), IdentityOptions{},
			map[string]string{"email": "a@b.c", "phone_number": "+15550100", "name": "A B", "address": "1 Main St, Springfield, US"}, ""},
		{"address string", hs(jwt.MapClaims{"address": "1 Main St"}), IdentityOptions{}, map[string]string{"address": "1 Main St"}, ""},
		{"aud matches", hs(jwt.MapClaims{"email": "a@b.c", "aud": "shop"}), IdentityOptions{Audience: "shop"}, map[string]string{"email": "a@b.c"}, ""},
		{"aud list matches", hs(jwt.MapClaims{"email": "a@b.c", "aud": []string{"x", "shop"}}), IdentityOptions{Audience: "shop"}, map[string]string{"email": "a@b.c"}, ""},
		{"aud absent accepted", hs(jwt.MapClaims{"email": "a@b.c"}), IdentityOptions{Audience: "shop"}, map[string]string{"email": "a@b.c"}, ""},
		{"aud accepted when none configured", hs(jwt.MapClaims{"email": "a@b.c", "aud": "anyone"}), IdentityOptions{}, map[string]string{"email": "a@b.c"}, ""},
		{"aud mismatch", hs(jwt.MapClaims{"email": "a@b.c", "aud": "other"}), IdentityOptions{Audience: "shop"}, nil, "aud"},
		{"exp in the future", hs(jwt.MapClaims{"email": "a@b.c", "exp": now.Add(time.Hour).Unix()}), IdentityOptions{RequireExp: true}, map[string]string{"email": "a@b.c"}, ""},
		{"exp required", hs(jwt.MapClaims{"email": "a@b.c"}), IdentityOptions{RequireExp: true}, nil, "exp is required"},
		{"expired", hs(jwt.MapClaims{"email": "a@b.c", "exp": now.Add(-time.Hour).Unix()}), IdentityOptions{}, nil, "expired"},
		{"not yet valid", hs(jwt.MapClaims{"email": "a@b.c", "nbf": now.Add(time.Hour).Unix()}), IdentityOptions{}, nil, "not valid yet"},
		{"issued in the future", hs(jwt.MapClaims{"email": "a@b.c", "iat": now.Add(2 * time.Minute).Unix()}), IdentityOptions{}, nil, "iat"},
		{"issued a day ahead", hs(jwt.MapClaims{"email": "a@b.c", "iat": now.Add(24 * time.Hour).Unix()}), IdentityOptions{}, nil, "issued in the future"},
		{"iat within the clock skew", hs(jwt.MapClaims{"email": "a@b.c", "iat": now.Add(59 * time.Second).Unix()}), IdentityOptions{}, map[string]string{"email": "a@b.c"}, ""},
		{"iat in the past", hs(jwt.MapClaims{"email": "a@b.c", "iat": now.Add(-time.Hour).Unix()}), IdentityOptions{}, map[string]string{"email": "a@b.c"}, ""},
		{"no identity claims", hs(jwt.MapClaims{"sub": "x"}), IdentityOptions{}, nil, "none of the claims"},
		{"blank email", hs(jwt.MapClaims{"email": "  "}), IdentityOptions{}, nil, "none of the claims"},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"email": "a@b.c"}), IdentityOptions{}, nil, "HS256"},
		{"HS512", sign(t, jwt.SigningMethodHS512, key, jwt.MapClaims{"email": "a@b.c"}), IdentityOptions{}, nil, "HS256"},
		{"wrong key", sign(t, jwt.SigningMethodHS256, []byte("another key 0123456789abcdef0123"), jwt.MapClaims{"email": "a@b.c"}), IdentityOptions{}, nil, "signature"},
		{"not a JWT", "a@b.c", IdentityOptions{}, nil, "compact JWS"},
		{"bad base64", "@@@.@@@.@@@", IdentityOptions{}, nil, "malformed"},
		{"JSON serialization", `{"payload": "x", "signatures": []}`, IdentityOptions{}, nil, "compact JWS"},
		{"too long", strings.Repeat("a", MaxIdentityToken) + "..", IdentityOptions{}, nil, "longer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Key, o.Now = key, clock
			id, err := ParseIdentity(tc.token, o)
			if tc.want == nil {
				if !errors.Is(err, ErrIdentity) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want ErrIdentity mentioning %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "a@b.c") {
					t.Errorf("the error echoes the identity: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(id.Values) != len(tc.want) || id.Digest == "" {
				t.Fatalf("identity %+v, want %v", id, tc.want)
			}
			for k, v := range tc.want {
				if id.Values[k] != v {
					t.Errorf("%s = %q, want %q", k, id.Values[k], v)
				}
			}
		})
	}
	if _, err := ParseIdentity(hs(jwt.MapClaims{"email": "a@b.c"}), IdentityOptions{}); err == nil {
		t.Error("a token was accepted without a configured key")
	}
}

func TestParseExercise(t *testing.T) {
	tests := []struct {
		body, action, err string
	}{
		{`{"meta": {"version": "0.5"}, "regime": "ccpa", "exercise": ["sale:opt-out"], "identity": "x.y.z"}`, "sale:opt_out", ""},
		{`{"meta": {"version": "0.5"}, "exercise": ["access"], "identity": "x.y.z", "relationships": ["customer"], "status_callback": "https://a/b"}`, "access", ""},
		{`{"meta": {"version": "0.5"}, "regime": "voluntary", "exercise": ["deletion"], "identity": "x.y.z"}`, "deletion", ""},
		{`{"meta": {"version": "0.5"}, "exercise": ["deletion"], "identity": "x.y.z", "extra": 1}`, "", "unknown field"},
		{`{"meta": {"version": "0.5", "x": 1}, "exercise": ["deletion"], "identity": "x.y.z"}`, "", "unknown field"},
		{`{"meta": {}, "exercise": ["deletion"], "identity": "x.y.z"}`, "", "meta.version"},
		{`{"meta": {"version": "1.0"}, "exercise": ["deletion"], "identity": "x.y.z"}`, "", "0.5"},
		{`{"meta": {"version": "0.5"}, "regime": "gdpr", "exercise": ["deletion"], "identity": "x.y.z"}`, "", "regime"},
		{`{"meta": {"version": "0.5"}, "exercise": [], "identity": "x.y.z"}`, "", "exercise is empty"},
		{`{"meta": {"version": "0.5"}, "exercise": ["access", "deletion"], "identity": "x.y.z"}`, "", "several"},
		{`{"meta": {"version": "0.5"}, "exercise": ["sell"], "identity": "x.y.z"}`, "", "unsupported rights action"},
		{`{"meta": {"version": "0.5"}, "exercise": ["access"]}`, "", "identity is missing"},
		{`{"meta": {"version": "0.5"}, "exercise": "access", "identity": "x.y.z"}`, "", "exercise"},
		{`{"meta": {"version": "0.5"}, "exercise": ["access"], "identity": "x.y.z"} {}`, "", "more than one"},
		{`nope`, "", "malformed"},
	}
	for _, tc := range tests {
		_, action, err := ParseExercise([]byte(tc.body))
		if tc.err == "" {
			if err != nil || action != tc.action {
				t.Errorf("%s: %q %v, want %q", tc.body, action, err, tc.action)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.body, err, tc.err)
		}
	}
}

func TestCheckCallback(t *testing.T) {
	allowed := []string{"agent.example.org", "127.0.0.1:9999"}
	for raw, ok := range map[string]bool{
		"https://agent.example.org/cb":      true,
		"http://AGENT.example.org:8443/cb":  true,
		"http://127.0.0.1:9999/cb":          true,
		"http://127.0.0.1:9998/cb":          false,
		"https://evil.example.org/cb":       false,
		"https://agent.example.org.evil/cb": false,
		"ftp://agent.example.org/cb":        false,
		"https://u:p@agent.example.org/cb":  false,
		"/relative":                         false,
		"":                                  false,
	} {
		if _, err := CheckCallback(raw, allowed); (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%v", raw, err, ok)
		}
	}
}

// TestEveryStatusMaps: every internal status has a DRP status (no
// internal status makes a 500), and the reason goes with its state.
func TestEveryStatusMaps(t *testing.T) {
	want := map[store.Status]string{
		store.StatusPending: StatusOpen, store.StatusApproved: StatusInProgress, store.StatusInProcessing: StatusInProgress,
		store.StatusPaused: StatusInProgress, store.StatusRequiresInput: StatusInProgress, store.StatusIdentityUnverified: StatusInProgress,
		store.StatusError: StatusInProgress, store.StatusComplete: StatusFulfilled, store.StatusDenied: StatusDenied, store.StatusCanceled: StatusRevoked,
	}
	for _, st := range store.AllStatuses {
		got, reason := Map(st)
		if w, ok := want[st]; !ok || got != w {
			t.Errorf("%s → %s, want %q", st, got, w)
		}
		if reason != nil && !((got == StatusInProgress && *reason == ReasonNeedUserVerification) || got == StatusDenied) {
			t.Errorf("%s: reason %s with status %s", st, *reason, got)
		}
		obj := StatusOf(&store.Request{ID: "pri_1", Status: st, CreatedAt: time.Unix(0, 0)})
		if obj.ReceivedAt == nil || *obj.ReceivedAt != "1970-01-01T00:00:00.000+00:00" {
			t.Errorf("received_at %v", obj.ReceivedAt)
		}
	}
}

func FuzzParseExercise(f *testing.F) {
	f.Add([]byte(`{"meta": {"version": "0.5"}, "regime": "ccpa", "exercise": ["sale:opt-out"], "identity": "x.y.z"}`))
	f.Add([]byte(`{"meta": {"version": "0.5"}, "exercise": ["access"], "identity": "a", "status_callback": "http://h/"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ex, action, err := ParseExercise(body)
		if err != nil {
			return
		}
		if ex == nil || action == "" || ex.Identity == "" || len(ex.Exercise) != 1 {
			t.Fatalf("accepted an incomplete exercise: %+v %q", ex, action)
		}
	})
}

func FuzzParseIdentity(f *testing.F) {
	good, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"email": "a@b.c"}).SignedString(key)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"email": "a@b.c"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	f.Add(good)
	f.Add(none)
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		id, err := ParseIdentity(token, IdentityOptions{Key: key})
		if err != nil {
			return
		}
		// Accepted: it must verify with the key under HS256.
		parsed, perr := jwt.Parse(token, func(*jwt.Token) (any, error) { return key, nil }, jwt.WithValidMethods([]string{"HS256"}))
		if perr != nil || !parsed.Valid || len(id.Values) == 0 {
			t.Fatalf("accepted a token that does not verify: %v", perr)
		}
	})
}
