package api

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/mask"
	"github.com/lethehq/lethe/core/store"
)

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request, _ Principal) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	p, err := paged(r, cat.Policies(), MaxPageSize)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, _ Principal) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	v, err := cat.Policy(key)
	if err != nil {
		return notFound("no policy %q; the policies are %s", key, policyKeys(s.cfg()))
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// maxNamedPolicies bounds the policy names an error message lists (a bulk
// call may repeat it 50 times).
const maxNamedPolicies = 20

func policyKeys(cfg *config.Config) string {
	if len(cfg.Policies) == 0 {
		return "none"
	}
	names := make([]string, 0, min(len(cfg.Policies), maxNamedPolicies))
	for _, p := range cfg.Policies[:min(len(cfg.Policies), maxNamedPolicies)] {
		names = append(names, p.Name)
	}
	out := strings.Join(names, ", ")
	if n := len(cfg.Policies) - len(names); n > 0 {
		out += fmt.Sprintf(" and %d more (GET /api/v1/policy lists them)", n)
	}
	return out
}

func sortStrings(s []string) { sort.Strings(s) }

// TokenForm is the form of POST /oauth/token.
type TokenForm struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	GrantType    string `json:"grant_type"`
}

// Token is an access token.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (s *Server) token(w http.ResponseWriter, r *http.Request, _ Principal) error {
	if err := r.ParseForm(); err != nil {
		return jsonError(err)
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if len(id) > 256 {
		id = id[:256] // the limiter's key; such an id is unknown anyway
	}
	if err := s.limit(w, r, s.tokenLimit, id); err != nil {
		return err
	}
	if gt := r.PostForm.Get("grant_type"); gt != "" && gt != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"})
		return nil
	}
	if id == "" || secret == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "give client_id and client_secret as form fields or with HTTP Basic"})
		return nil
	}
	tok, ttl, err := s.o.Auth.Token(r.Context(), id, secret)
	if errors.Is(err, ErrInvalidClient) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "unknown client or wrong secret"})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Token{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(ttl.Seconds())})
	return nil
}

// ClientCreate is the body of POST /oauth/client.
type ClientCreate struct {
	Scopes []string `json:"scopes"`
}

// ClientCreated is a new client; its secret is shown this once.
type ClientCreated struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Scopes       []string `json:"scopes"`
}

func (s *Server) createClient(w http.ResponseWriter, r *http.Request, p Principal) error {
	var body ClientCreate
	if err := decode(r, &body); err != nil {
		return err
	}
	if len(body.Scopes) == 0 {
		return badRequest("scopes is empty; list the scopes the client may use")
	}
	id, secret, err := s.o.Auth.CreateClient(r.Context(), p, body.Scopes)
	switch {
	case errors.Is(err, ErrScopeEscalation):
		return &Error{Status: http.StatusForbidden, Code: "scope_escalation", Message: err.Error()}
	case errors.Is(err, ErrUnknownScope):
		return badRequest("%v", err)
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, ClientCreated{ClientID: id, ClientSecret: secret, Scopes: body.Scopes})
	return nil
}

func (s *Server) deleteClient(w http.ResponseWriter, r *http.Request, p Principal) error {
	id := r.PathValue("id")
	err := s.o.Auth.DeleteClient(r.Context(), p, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("no client %q", id)
	}
	if errors.Is(err, ErrScopeEscalation) {
		return &Error{Status: http.StatusForbidden, Code: "scope_escalation", Message: err.Error()}
	}
	if err != nil {
		return badRequest("%v", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) strategies(w http.ResponseWriter, _ *http.Request, _ Principal) error {
	writeJSON(w, http.StatusOK, mask.Strategies())
	return nil
}
