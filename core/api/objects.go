package api

import (
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/lethehq/lethe/core/catalog"
	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/mask"
	"github.com/lethehq/lethe/core/store"
)

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request, _ Principal) error {
	page, size, err := pageParams(r.URL.Query().Get("page"), r.URL.Query().Get("size"))
	if err != nil {
		return err
	}
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	all := cat.Policies()
	items := []catalog.PolicyView{}
	for i := (page - 1) * size; i < len(all) && i < page*size; i++ {
		items = append(items, all[i])
	}
	writeJSON(w, http.StatusOK, Page[catalog.PolicyView]{Items: items, Total: len(all), Page: page, Size: size})
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

func policyKeys(cfg *config.Config) string {
	if len(cfg.Policies) == 0 {
		return "none"
	}
	names := make([]string, len(cfg.Policies))
	for i, p := range cfg.Policies {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
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
	err := s.o.Auth.DeleteClient(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("no client %q", id)
	}
	if err != nil {
		return badRequest("%v", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// MaskBody is the body of PUT /masking/mask.
type MaskBody struct {
	Values          []string     `json:"values"`
	MaskingStrategy MaskStrategy `json:"masking_strategy"`
}

// MaskStrategy names a strategy and its configuration, as the reference.
type MaskStrategy struct {
	Strategy      string         `json:"strategy"`
	Configuration map[string]any `json:"configuration,omitempty"`
}

// MaskResult is the answer of PUT /masking/mask.
type MaskResult struct {
	Plain        []string  `json:"plain"`
	MaskedValues []*string `json:"masked_values"`
}

func (s *Server) mask(w http.ResponseWriter, r *http.Request, _ Principal) error {
	var body MaskBody
	if err := decode(r, &body); err != nil {
		return err
	}
	if len(body.Values) > 1000 {
		return badRequest("%d values; mask at most 1000 per call", len(body.Values))
	}
	spec, err := maskSpec(body.MaskingStrategy)
	if err != nil {
		return err
	}
	out, err := mask.MaskValues(body.Values, mask.Chain{spec})
	if err != nil {
		return badRequest("%v", err)
	}
	writeJSON(w, http.StatusOK, MaskResult{Plain: body.Values, MaskedValues: out})
	return nil
}

func maskSpec(ms MaskStrategy) (mask.Spec, error) {
	spec := mask.Spec{Strategy: ms.Strategy}
	for k, v := range ms.Configuration {
		switch k {
		case "rewrite_value":
			s, ok := v.(string)
			if !ok {
				return spec, badRequest("masking_strategy.configuration.rewrite_value must be a string")
			}
			spec.RewriteValue = s
		case "length":
			n, ok := v.(float64)
			if !ok || n != float64(int(n)) {
				return spec, badRequest("masking_strategy.configuration.length must be a whole number")
			}
			spec.Length = int(n)
		case "algorithm":
			s, ok := v.(string)
			if !ok {
				return spec, badRequest("masking_strategy.configuration.algorithm must be a string")
			}
			spec.Algorithm = strings.ReplaceAll(strings.ToUpper(s), "-", "")
		case "mode":
			s, ok := v.(string)
			if !ok {
				return spec, badRequest("masking_strategy.configuration.mode must be a string")
			}
			spec.Mode = s
		case "format_preservation":
			m, ok := v.(map[string]any)
			suffix, ok2 := m["suffix"].(string)
			if !ok || !ok2 || len(m) != 1 {
				return spec, badRequest(`masking_strategy.configuration.format_preservation must be {"suffix": "..."}`)
			}
			spec.FormatSuffix = suffix
		default:
			return spec, badRequest("unknown masking configuration %q", k)
		}
	}
	if err := spec.Validate(); err != nil {
		return spec, badRequest("%v", err)
	}
	return spec, nil
}

func (s *Server) strategies(w http.ResponseWriter, _ *http.Request, _ Principal) error {
	writeJSON(w, http.StatusOK, mask.Strategies())
	return nil
}
