package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	agentToken     = "agent-token-5d1f0c7b9e2a4f86"
	agentJWTSecret = "agent-jwt-secret-0123456789abcdef0123456789"
	drpAudience    = "lethe-shop"
)

// drpConfig is a backend's configuration served by `lethe serve` with a
// drp block (one agent, loopback callbacks allowed) and consent policies.
func drpConfig(t *testing.T, b *backend, extraServer string) string {
	t.Helper()
	dir, _ := serveConfig(t, b, extraServer)
	extra := fmt.Sprintf(`
drp {
  api_base       = "https://privacy.example.com/api/v1/drp"
  callback_hosts = ["127.0.0.1"]
  jwt_secret     = %q
  agent "permission_slip" {
    token      = %q
    jwt_secret = %q
    audience   = %q
  }
}

policy "do_not_sell" {
  drp_action = "sale:opt_out"
}

policy "may_sell" {
  drp_action = "sale:opt-in"
}
`, agentJWTSecret, agentToken, agentJWTSecret, drpAudience)
	f, err := os.OpenFile(filepath.Join(dir, "main.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(extra); err != nil {
		t.Fatal(err)
	}
	return dir
}

func identityJWT(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(agentJWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func exercise(action, identity, callback string) map[string]any {
	body := map[string]any{"meta": map[string]string{"version": "0.5"}, "regime": "ccpa", "exercise": []string{action}, "identity": identity}
	if callback != "" {
		body["status_callback"] = callback
	}
	return body
}

var rfc3339Offset = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$`)

// checkStatusObject: every base key is present, the time has an explicit
// offset, and the status is one of DRP's.
func checkStatusObject(t *testing.T, body map[string]any) {
	t.Helper()
	for _, k := range []string{"request_id", "status", "reason", "received_at", "expected_by", "processing_details", "user_verification_url"} {
		if _, ok := body[k]; !ok {
			t.Errorf("status object lacks %q: %v", k, body)
		}
	}
	if s, _ := body["received_at"].(string); !rfc3339Offset.MatchString(s) {
		t.Errorf("received_at %q is not RFC 3339 with a numeric offset", body["received_at"])
	}
	if !slices.Contains([]string{"open", "in_progress", "fulfilled", "revoked", "denied", "expired"}, fmt.Sprint(body["status"])) {
		t.Errorf("status %v", body["status"])
	}
}

func checkDRPError(t *testing.T, what string, code int, raw []byte, want int) {
	t.Helper()
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if code != want || json.Unmarshal(raw, &e) != nil || e.Code != fmt.Sprint(want) || e.Message == "" {
		t.Errorf("%s: %d %s, want %d with a DRP error body", what, code, truncate(raw), want)
	}
}

// callbackReceiver records the status objects POSTed to it; it answers
// 500 to the first POST, to check that the daemon retries.
type callbackReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	posts []map[string]any
	calls int
}

func newReceiver(t *testing.T) *callbackReceiver {
	cr := &callbackReceiver{}
	cr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		cr.mu.Lock()
		defer cr.mu.Unlock()
		cr.calls++
		if cr.calls == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var m map[string]any
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(data, &m) != nil {
			t.Errorf("callback: %s %s %s", r.Method, r.Header.Get("Content-Type"), data)
		}
		cr.posts = append(cr.posts, m)
	}))
	t.Cleanup(cr.srv.Close)
	return cr
}

func (cr *callbackReceiver) statuses() []string {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	var out []string
	for _, p := range cr.posts {
		out = append(out, fmt.Sprint(p["status"]))
	}
	return out
}

// TestDRP is the DRP 0.5 black-box list (docs/drp.md) against a running
// daemon on the PostgreSQL example.
func TestDRP(t *testing.T) {
	b := newBackend(t, "postgres")
	d := startDaemon(t, drpConfig(t, b, ""))
	root := d.token("lethe-root", rootSecret)
	now := time.Now()
	jane := jwt.MapClaims{"email": "jane@example.com", "aud": drpAudience, "iss": "https://agent.example.org", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}

	t.Run("discovery", func(t *testing.T) {
		code, raw := d.raw("GET", "/.well-known/data-rights.json", "", nil)
		var doc map[string]any
		if code != 200 || json.Unmarshal(raw, &doc) != nil {
			t.Fatalf("%d %s", code, raw)
		}
		if doc["version"] != "0.5" || doc["api_base"] != "https://privacy.example.com/api/v1/drp" || len(doc) != 4 {
			t.Errorf("discovery %v", doc)
		}
		var actions []string
		for _, a := range doc["actions"].([]any) {
			actions = append(actions, a.(string))
		}
		slices.Sort(actions)
		if strings.Join(actions, ",") != "access,deletion,sale:opt_in,sale:opt_out" {
			t.Errorf("actions %v", actions)
		}
		if _, ok := doc["user_relationships"].([]any); !ok {
			t.Errorf("user_relationships %v", doc["user_relationships"])
		}
		if code, _ := d.raw("GET", "/api/v1/drp/data-rights", root, nil); code != 200 {
			t.Errorf("authenticated discovery: %d", code)
		}
	})

	t.Run("authentication", func(t *testing.T) {
		body := exercise("access", identityJWT(t, jane), "")
		code, raw := d.raw("POST", "/api/v1/drp/exercise", "", body)
		checkDRPError(t, "no token", code, raw, 401)
		code, raw = d.raw("POST", "/api/v1/drp/exercise", "unknown-token-123456", body)
		checkDRPError(t, "unknown token", code, raw, 401)
		code, raw = d.raw("GET", "/api/v1/drp/status?request_id=x", "", nil)
		checkDRPError(t, "status without a token", code, raw, 401)
		// DRP 0.5 section 3.07: the SHA-512 of the secret, in hex.
		sum := sha512.Sum512([]byte(agentToken))
		if code, raw := d.raw("GET", "/api/v1/drp/data-rights", strings.ToUpper(hex.EncodeToString(sum[:])), nil); code != 200 {
			t.Errorf("the agent token's SHA-512: %d %s", code, raw)
		}
		sum = sha512.Sum512([]byte(agentToken + "x"))
		code, raw = d.raw("GET", "/api/v1/drp/data-rights", hex.EncodeToString(sum[:]), nil)
		checkDRPError(t, "another secret's SHA-512", code, raw, 401)
		_, c := d.call("POST", "/api/v1/oauth/client", root, map[string]any{"scopes": []string{"policy:read"}})
		limited := d.token(c["client_id"].(string), c["client_secret"].(string))
		code, raw = d.raw("POST", "/api/v1/drp/exercise", limited, body)
		checkDRPError(t, "an API token without privacy-request:create", code, raw, 403)
	})

	t.Run("bad identity tokens", func(t *testing.T) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		rs256, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jane).SignedString(key)
		none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jane).SignedString(jwt.UnsafeAllowNoneSignatureType)
		hs384, _ := jwt.NewWithClaims(jwt.SigningMethodHS384, jane).SignedString([]byte(agentJWTSecret))
		wrongKey, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jane).SignedString([]byte("another-secret-0123456789abcdef0123456789"))
		expired := jwt.MapClaims{"email": "jane@example.com", "aud": drpAudience, "exp": now.Add(-time.Hour).Unix()}
		otherAud := jwt.MapClaims{"email": "jane@example.com", "aud": "another-business"}
		noIdentity := jwt.MapClaims{"aud": drpAudience, "sub": "someone"}
		for name, tok := range map[string]string{
			"bad signature":  wrongKey,
			"alg none":       none,
			"RS256":          rs256,
			"HS384":          hs384,
			"expired":        identityJWT(t, expired),
			"other audience": identityJWT(t, otherAud),
			"no identity":    identityJWT(t, noIdentity),
			"not a JWT":      "jane@example.com",
			"empty":          "",
		} {
			code, raw := d.raw("POST", "/api/v1/drp/exercise", agentToken, exercise("access", tok, ""))
			checkDRPError(t, name, code, raw, 400)
			if strings.Contains(string(raw), "jane@example.com") {
				t.Errorf("%s: the error echoes the identity: %s", name, raw)
			}
		}
	})

	t.Run("bad bodies", func(t *testing.T) {
		tok := identityJWT(t, jane)
		for name, body := range map[string]any{
			"unsupported action":    exercise("access:everything", tok, ""),
			"action without policy": exercise("access:categories", tok, ""),
			"two actions":           map[string]any{"meta": map[string]string{"version": "0.5"}, "exercise": []string{"access", "deletion"}, "identity": tok},
			"no exercise":           map[string]any{"meta": map[string]string{"version": "0.5"}, "identity": tok},
			"other version":         map[string]any{"meta": map[string]string{"version": "1.0"}, "exercise": []string{"access"}, "identity": tok},
			"gdpr regime":           map[string]any{"meta": map[string]string{"version": "0.5"}, "regime": "gdpr", "exercise": []string{"access"}, "identity": tok},
			"malformed":             `{"meta": `,
			"callback host refused": exercise("access", tok, "http://callbacks.example.org/drp"),
			"callback not http":     exercise("access", tok, "file:///etc/passwd"),
		} {
			code, raw := d.raw("POST", "/api/v1/drp/exercise", agentToken, body)
			checkDRPError(t, name, code, raw, 400)
		}
		if code, raw := d.raw("GET", "/api/v1/drp/status?request_id=pri_unknown", agentToken, nil); code != 404 {
			checkDRPError(t, "unknown id", code, raw, 404)
		}
		code, list := d.call("GET", "/api/v1/privacy-request", root, nil)
		if code != 200 || list["total"] != float64(0) {
			t.Errorf("refused exercises created requests: %v", list["total"])
		}
	})

	// The receiver lives as long as the daemon, so that a late callback
	// is counted, not refused.
	callbacks := newReceiver(t)
	t.Run("access is fulfilled with callbacks", func(t *testing.T) {
		cr := callbacks
		for _, claims := range []jwt.MapClaims{jane, {"email": "jane@example.com"}} {
			code, body := d.call("POST", "/api/v1/drp/exercise", agentToken, exercise("access", identityJWT(t, claims), cr.srv.URL+"/drp/status"))
			if code != 200 {
				t.Fatalf("exercise: %d %v", code, body)
			}
			checkStatusObject(t, body)
			if s := body["status"]; s != "open" && s != "in_progress" {
				t.Errorf("exercise status %v", s)
			}
			id := body["request_id"].(string)
			var st map[string]any
			waitFor(t, "fulfilled", 2*time.Minute, func() bool {
				_, st = d.call("GET", "/api/v1/drp/status?request_id="+id, agentToken, nil)
				return st["status"] == "fulfilled"
			})
			checkStatusObject(t, st)
			if st["expected_by"] == nil {
				t.Errorf("no expected_by: %v", st)
			}
		}
		// One POST per DRP state change of each request (in_progress,
		// fulfilled), the first one retried after the 500.
		waitFor(t, "callbacks", time.Minute, func() bool { return len(cr.statuses()) >= 4 })
		got := cr.statuses()
		if got[0] != "in_progress" || slices.Index(got, "fulfilled") < 0 {
			t.Errorf("callbacks %v", got)
		}
		// No more than these: checked once the daemon has stopped.
	})

	t.Run("replay returns the same request", func(t *testing.T) {
		tok := identityJWT(t, jwt.MapClaims{"email": "bob@example.com", "aud": drpAudience, "jti": "replay"})
		_, first := d.call("POST", "/api/v1/drp/exercise", agentToken, exercise("deletion", tok, ""))
		_, second := d.call("POST", "/api/v1/drp/exercise", agentToken, exercise("deletion", tok, ""))
		if first["request_id"] == nil || first["request_id"] != second["request_id"] {
			t.Errorf("replay: %v then %v", first["request_id"], second["request_id"])
		}
	})

	t.Run("consent", func(t *testing.T) {
		who := jwt.MapClaims{"email": "consent@example.com", "aud": drpAudience}
		for _, action := range []string{"sale:opt-out", "sale:opt_in", "sale:opt_out"} {
			who["jti"] = action
			code, body := d.call("POST", "/api/v1/drp/exercise", agentToken, exercise(action, identityJWT(t, who), ""))
			if code != 200 {
				t.Fatalf("%s: %d %v", action, code, body)
			}
			id := body["request_id"].(string)
			waitFor(t, action+" fulfilled", time.Minute, func() bool {
				_, st := d.call("GET", "/api/v1/drp/status?request_id="+id, agentToken, nil)
				return st["status"] == "fulfilled"
			})
		}
		code, prefs := d.call("GET", "/api/v1/consent?identity=email:consent@example.com", root, nil)
		if code != 200 || prefs["current"] != "sale:opt_out" || len(prefs["history"].([]any)) != 3 {
			t.Errorf("consent: %d %v", code, prefs)
		}
		code, prefs = d.call("GET", "/api/v1/consent?identity=email:nobody@example.com", root, nil)
		if code != 200 || prefs["current"] != nil {
			t.Errorf("consent of nobody: %d %v", code, prefs)
		}
	})

	t.Run("another agent's or API token status", func(t *testing.T) {
		_, body := d.call("POST", "/api/v1/drp/exercise", root, exercise("access", identityJWT(t, jwt.MapClaims{"email": "api@example.com", "aud": drpAudience}), ""))
		id, _ := body["request_id"].(string)
		if id == "" {
			t.Fatalf("exercise with an API token: %v", body)
		}
		if code, _ := d.raw("GET", "/api/v1/drp/status?request_id="+id, agentToken, nil); code != 404 {
			t.Errorf("an agent reads a request it did not file: %d", code)
		}
		if code, _ := d.raw("GET", "/api/v1/drp/status?request_id="+id, root, nil); code != 200 {
			t.Errorf("the API reads a DRP request: %d", code)
		}
	})

	// A stopped daemon sends nothing more (its notifier has finished or
	// kept in its outbox what it had): exactly one POST per DRP state
	// change of each request, the first one retried after the 500.
	if err := d.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	callbacks.mu.Lock()
	n, calls := len(callbacks.posts), callbacks.calls
	callbacks.mu.Unlock()
	if n != 4 || calls != 5 {
		t.Errorf("%d callbacks in %d calls, want 4 in 5 (one retry): %v", n, calls, callbacks.statuses())
	}
}

// TestDRPRevoke: with manual approval, a request stays open; revoke ends
// it revoked, and a second revoke of the final request is 409.
func TestDRPRevoke(t *testing.T) {
	b := newBackend(t, "sqlite")
	d := startDaemon(t, drpConfig(t, b, "  require_manual_approval = true\n"))
	tok := identityJWT(t, jwt.MapClaims{"email": "jane@example.com", "aud": drpAudience})
	code, body := d.call("POST", "/api/v1/drp/exercise", agentToken, exercise("deletion", tok, ""))
	if code != 200 || body["status"] != "open" {
		t.Fatalf("exercise: %d %v", code, body)
	}
	id := body["request_id"].(string)
	code, body = d.call("POST", "/api/v1/drp/revoke", agentToken, map[string]any{"request_id": id, "reason": "changed my mind"})
	if code != 200 || body["status"] != "revoked" {
		t.Fatalf("revoke: %d %v", code, body)
	}
	checkStatusObject(t, body)
	if _, st := d.call("GET", "/api/v1/drp/status?request_id="+id, agentToken, nil); st["status"] != "revoked" {
		t.Errorf("status after revoke: %v", st)
	}
	code, raw := d.raw("POST", "/api/v1/drp/revoke", agentToken, map[string]any{"request_id": id})
	checkDRPError(t, "revoke of a final request", code, raw, 409)
	code, raw = d.raw("GET", "/api/v1/drp/revoke?request_id=pri_unknown", agentToken, nil)
	checkDRPError(t, "revoke of an unknown request", code, raw, 404)
	if strings.Contains(d.out.String(), "changed my mind") {
		t.Error("the daemon logged the consumer's revoke reason")
	}
}
