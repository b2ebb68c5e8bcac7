package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/core/catalog"
	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/drp"
	"github.com/lethehq/lethe/core/execute"
	"github.com/lethehq/lethe/core/store"
)

// Principal is the authenticated caller of a route.
type Principal struct {
	ClientID string
	Scopes   []string
	// Agent is the authorized agent (drp block) a DRP route's caller
	// authenticated as; empty for API clients.
	Agent string
}

// Has reports whether p holds scope.
func (p Principal) Has(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Authority issues and checks OAuth2 client-credentials tokens.
type Authority interface {
	// Token exchanges a client's credentials for a token; a wrong id or
	// secret is ErrInvalidClient.
	Token(ctx context.Context, clientID, secret string) (token string, expiresIn time.Duration, err error)
	// Verify checks a token; a bad or expired one is ErrInvalidToken.
	Verify(ctx context.Context, token string) (Principal, error)
	// CreateClient creates a client whose scopes are a subset of the
	// creator's (else ErrScopeEscalation; an unknown scope is ErrUnknownScope).
	CreateClient(ctx context.Context, creator Principal, scopes []string) (id, secret string, err error)
	// DeleteClient deletes a created client whose scopes are a subset of
	// the deleter's (else ErrScopeEscalation; store.ErrNotFound when absent).
	DeleteClient(ctx context.Context, deleter Principal, id string) error
}

// Errors an Authority returns, matched with errors.Is.
var (
	ErrInvalidClient   = errors.New("invalid client credentials")
	ErrInvalidToken    = errors.New("invalid or expired token")
	ErrScopeEscalation = errors.New("scope escalation")
	ErrUnknownScope    = errors.New("unknown scope")
)

// Limits of the API.
const (
	MaxBodyBytes = 1 << 20 // request bodies
	MaxBulkItems = 50      // items of a bulk call
	MaxPageSize  = 100     // items of a page
)

// Options configure a Server.
type Options struct {
	// Config holds the server settings; the policies, datasets,
	// connections and storages in force are the engine's (Catalog's).
	Config *config.Config
	// Catalog holds the configuration objects; nil disables the routes
	// that change them.
	Catalog *catalog.Catalog
	Store   store.Store
	Engine  *execute.Engine
	Runner  *Runner
	Auth    Authority
	Logger  hclog.Logger
	// Health reports each plugin's state ("ok" or a problem); nil omits
	// plugins from /health.
	Health func(ctx context.Context) map[string]string
	// Preview plans a request for policy and the identity names, with the
	// query each node would run; nil disables PUT /privacy-request/preview.
	Preview func(ctx context.Context, policy string, identities []string) (any, error)
	// Metrics collects the counters /metrics serves; nil makes a new one.
	// Its request counts by status follow the store only when the store's
	// OnStatus hook calls Metrics.ObserveStatus.
	Metrics *Metrics
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Callbacks delivers DRP status callbacks; nil disables them.
	Callbacks *drp.Notifier
}

// Server serves the API.
type Server struct {
	o      Options
	mux    *http.ServeMux
	routes []Route
	// tokenLimit and drpLimit rate-limit the token route and the
	// rate-limited DRP routes per client id and remote address (nil: off).
	tokenLimit, drpLimit *rateLimiter
}

// New builds the API's handler from the route table.
func New(o Options) (*Server, error) {
	switch {
	case o.Config == nil, o.Store == nil, o.Engine == nil, o.Runner == nil, o.Auth == nil:
		return nil, errors.New("api: Config, Store, Engine, Runner and Auth are required")
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	// Counted once here; the store's OnStatus hook must feed
	// o.Metrics.ObserveStatus for the counts to follow.
	if err := o.Metrics.InitStatusCounts(context.Background(), o.Store); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, mux: http.NewServeMux(),
		tokenLimit: newRateLimiter(o.Config.Server.RateLimitPerMinute, o.Config.Server.RateLimitBurst, o.Config.Server.RateLimitEntries, o.Now),
		drpLimit:   newRateLimiter(o.Config.Server.DRPRateLimitPerMinute, o.Config.Server.DRPRateLimitBurst, o.Config.Server.RateLimitEntries, o.Now)}
	if err := s.register(s.table()); err != nil {
		return nil, err
	}
	return s, nil
}

// cfg is the configuration in force.
func (s *Server) cfg() *config.Config { return s.o.Engine.Config() }

func (s *Server) catalog() (*catalog.Catalog, error) {
	if s.o.Catalog == nil {
		return nil, &Error{Status: http.StatusNotImplemented, Code: "not_available", Message: "configuration objects are not available in this server"}
	}
	return s.o.Catalog, nil
}

// register puts routes on the router; a route without a scope, or
// declared twice, is an error.
func (s *Server) register(routes []Route) error {
	s.routes = routes
	seen := map[string]bool{}
	for _, rt := range routes {
		if rt.Scope == "" {
			return fmt.Errorf("api: route %s %s declares no scope (use Public for an open route)", rt.Method, rt.Path)
		}
		key := rt.Method + " " + rt.Path
		if seen[key] {
			return fmt.Errorf("api: route %s declared twice", key)
		}
		seen[key] = true
		s.mux.Handle(key, s.wrap(rt))
	}
	return nil
}

// Routes returns the route table.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.o.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if v := recover(); v != nil {
			s.o.Logger.Error("panic in handler", "route", r.Pattern, "panic", fmt.Sprint(v))
			if !rec.wrote {
				writeError(rec, errInternal)
			}
		}
		d := s.o.Now().Sub(start)
		pattern := r.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		s.o.Metrics.observeHTTP(pattern, rec.status, d)
		// The pattern, never the path's query string: filters may hold
		// identity values.
		s.o.Logger.Debug("http", "route", pattern, "status", rec.status, "ms", d.Milliseconds())
	}()
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.wrote = true
	}
	return r.ResponseWriter.Write(b)
}

// wrap authenticates and authorizes a route's caller, then runs it. DRP
// routes also take an authorized agent's bearer token, and answer every
// error with DRP's error body.
func (s *Server) wrap(rt Route) http.Handler {
	fail := writeError
	if rt.DRP {
		fail = writeDRPError
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p Principal
		if rt.Scope != Public {
			token, ok := bearer(r)
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="lethe"`)
				fail(w, &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "this route needs an access token: Authorization: Bearer <token> from POST /api/v1/oauth/token"})
				return
			}
			agent := ""
			if rt.DRP {
				agent = s.agentFor(token)
			}
			if agent != "" {
				p = Principal{ClientID: "agent:" + agent, Agent: agent, Scopes: []string{rt.Scope}}
			} else {
				var err error
				if p, err = s.o.Auth.Verify(r.Context(), token); err != nil {
					if rt.RateLimited {
						// Guessing tokens counts against the address.
						if err := s.limit(w, r, s.drpLimit, ""); err != nil {
							fail(w, err.(*Error))
							return
						}
					}
					w.Header().Set("WWW-Authenticate", `Bearer realm="lethe", error="invalid_token"`)
					fail(w, &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "the access token is invalid or expired; request a new one"})
					return
				}
			}
			if !p.Has(rt.Scope) {
				fail(w, &Error{Status: http.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf("this route needs scope %s, which client %s does not hold", rt.Scope, p.ClientID)})
				return
			}
		}
		if rt.RateLimited {
			if err := s.limit(w, r, s.drpLimit, p.ClientID); err != nil {
				fail(w, err.(*Error))
				return
			}
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		if err := rt.handle(w, r, p); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				s.o.Logger.Error("handler failed", "route", rt.Method+" "+rt.Path, "error", err)
				e = errInternal
			}
			fail(w, e)
		}
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || subtle.ConstantTimeCompare([]byte(strings.ToLower(h[:len(prefix)])), []byte(prefix)) != 1 {
		return "", false
	}
	return strings.TrimSpace(h[len(prefix):]), true
}

// Error is an API error: {"error": {"code", "message", "details"}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
	// Fatal marks, on DRP routes, an error the request will not get past
	// by retrying (DRP's "fatal").
	Fatal bool `json:"-"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

var errInternal = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; the server log has the details"}

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Message: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decode reads one JSON value from the body into v: unknown fields, wrong
// types, trailing data and oversize bodies are errors that say what to fix.
func decode(r *http.Request, v any) error {
	if r.Body == nil {
		return badRequest("the request needs a JSON body")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return badRequest("the body holds more than one JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err == nil {
		return badRequest("the body holds more than one JSON value")
	} else if mb := (*http.MaxBytesError)(nil); errors.As(err, &mb) {
		return jsonError(err)
	}
	return nil
}

func jsonError(err error) *Error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: fmt.Sprintf("the body is larger than %d bytes", mb.Limit)}
	case errors.As(err, &syntax):
		return badRequest("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return badRequest("%s: expected %s, got a JSON %s", field, typ.Type.String(), typ.Value)
	case errors.Is(err, io.EOF):
		return badRequest("the request needs a JSON body")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("unknown field %s; remove it (see /api/v1/openapi.json for the fields this route takes)", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return badRequest("malformed JSON: %s", err.Error())
}
