package api

import (
	"bytes"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/drp"
	"github.com/lethehq/lethe/core/execute"
	"github.com/lethehq/lethe/core/policy"
	"github.com/lethehq/lethe/core/store"
)

// DRPError is the Data Rights Protocol's error body: code is the HTTP
// status as a string.
type DRPError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Fatal   bool   `json:"fatal,omitempty"`
}

func writeDRPError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, DRPError{Code: fmt.Sprint(e.Status), Message: e.Message, Fatal: e.Fatal})
}

// agentFor returns the authorized agent whose bearer token is token (the
// token itself or its SHA-512 in hex, as DRP 0.5 section 3.07 reads), or
// "". Every agent is compared, in constant time.
func (s *Server) agentFor(token string) string {
	found := ""
	lower := []byte(strings.ToLower(token))
	for _, a := range s.o.Config.DRP.Agents {
		if !a.Token.IsSet() {
			continue
		}
		own := []byte(a.Token.Reveal())
		sum := sha512.Sum512(own)
		plain := subtle.ConstantTimeCompare([]byte(token), own)
		hashed := subtle.ConstantTimeCompare(lower, []byte(hex.EncodeToString(sum[:])))
		if plain|hashed == 1 && found == "" {
			found = a.Name
		}
	}
	return found
}

// DRPDiscovery is the discovery document.
type DRPDiscovery struct {
	Version           string   `json:"version"`
	APIBase           string   `json:"api_base"`
	Actions           []string `json:"actions"`
	UserRelationships []string `json:"user_relationships"`
}

// drpRelativeBase is discovery's api_base when drp.api_base is not set: a
// path relative to the discovery document's host. It is never built from
// the Host header, which the caller chooses.
const drpRelativeBase = "/api/v1/drp"

func (s *Server) drpDiscovery(w http.ResponseWriter, _ *http.Request, _ Principal) error {
	base := s.o.Config.DRP.APIBase
	if base == "" {
		base = drpRelativeBase
	}
	doc := DRPDiscovery{Version: drp.Version, APIBase: base, Actions: []string{}, UserRelationships: []string{}}
	for _, p := range s.cfg().Policies {
		if a, ok := policy.NormalizeDRPAction(p.DRPAction); ok && p.DRPAction != "" {
			doc.Actions = append(doc.Actions, a)
		}
	}
	writeJSON(w, http.StatusOK, doc)
	return nil
}

// identityKey is the HS256 key of the caller's identity tokens: its
// agent's, else the drp block's.
func (s *Server) identityOptions(p Principal) drp.IdentityOptions {
	o := drp.IdentityOptions{Key: []byte(s.o.Config.DRP.JWTSecret.Reveal()), Now: s.o.Now}
	if p.Agent != "" {
		if a := s.o.Config.DRP.Agent(p.Agent); a != nil {
			if a.JWTSecret.IsSet() {
				o.Key = []byte(a.JWTSecret.Reveal())
			}
			o.Audience, o.RequireExp = a.Audience, a.RequireExp
		}
	}
	return o
}

func (s *Server) drpExercise(w http.ResponseWriter, r *http.Request, p Principal) error {
	body, err := drpBody(r)
	if err != nil {
		return err
	}
	ex, action, err := drp.ParseExercise(body)
	if err != nil {
		return badRequest("%s", err.Error())
	}
	pol := policyFor(s.cfg(), action)
	if pol == nil {
		return badRequest("Unsupported rights actions submitted: no policy of this business serves %s", action)
	}
	if ex.StatusCallback != "" {
		if _, err := drp.CheckCallback(ex.StatusCallback, s.o.Config.DRP.CallbackHosts); err != nil {
			return badRequest("%s", err.Error())
		}
	}
	if len(ex.AgentRequestID) > 256 {
		return badRequest("agent_request_id is longer than 256 characters")
	}
	id, err := drp.ParseIdentity(ex.Identity, s.identityOptions(p))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "bad_identity", Message: err.Error(), Fatal: true}
	}
	status := store.StatusApproved
	if s.o.Config.Server.RequireManualApproval {
		status = store.StatusPending
	}
	caller := "agent:" + p.Agent
	if p.Agent == "" {
		caller = "client:" + p.ClientID
	}
	replay := drp.ReplayOf(caller, action, ex.Regime, ex.AgentRequestID, id, s.o.Now(), s.o.Config.DRP.ReplayWindow)
	req, err := s.o.Engine.Submit(r.Context(), execute.Submission{
		Policy: pol.Name, Identities: id.Values, Source: store.SourceDRP,
		ExternalID: ex.AgentRequestID, IdempotencyKey: replay.Key, IdempotencyUntil: replay.Until, Status: status,
	})
	if errors.Is(err, store.ErrDuplicate) && req != nil {
		// A replay (same caller, token, action, regime and agent request
		// id, within the replay window): the request it created.
		writeJSON(w, http.StatusOK, drp.StatusOf(req))
		return nil
	}
	if err != nil {
		return badRequest("the request cannot be processed: %v", err)
	}
	s.o.Metrics.requestCreated()
	if p.Agent != "" {
		if err := s.o.Store.PutBlob(r.Context(), req.ID, drp.BlobAgent, []byte(p.Agent)); err != nil {
			return err
		}
	}
	if ex.StatusCallback != "" {
		if err := s.o.Store.PutBlob(r.Context(), req.ID, drp.BlobCallback, []byte(ex.StatusCallback)); err != nil {
			return err
		}
		if s.o.Callbacks != nil {
			s.o.Callbacks.Register(req.ID, ex.StatusCallback)
		}
	}
	if req.Status == store.StatusApproved {
		s.o.Runner.Enqueue(req.ID)
	}
	writeJSON(w, http.StatusOK, drp.StatusOf(req))
	return nil
}

// drpBody reads a DRP request body, at most drp.MaxBody bytes.
func drpBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, drp.MaxBody+1))
	if err != nil {
		return nil, jsonError(err)
	}
	if len(body) > drp.MaxBody {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: fmt.Sprintf("the body is larger than %d bytes", drp.MaxBody)}
	}
	return body, nil
}

func policyFor(cfg *config.Config, action string) *policy.Policy {
	for _, p := range cfg.Policies {
		if a, ok := policy.NormalizeDRPAction(p.DRPAction); ok && a == action {
			return p
		}
	}
	return nil
}

// drpRequest loads the request a DRP call names; an agent sees only the
// requests it filed (others are 404, as if they did not exist).
func (s *Server) drpRequest(r *http.Request, p Principal, id string) (*store.Request, error) {
	if id == "" {
		return nil, badRequest("request_id is missing")
	}
	notFoundErr := notFound("no request %q", id)
	if len(id) > 128 {
		return nil, notFoundErr
	}
	req, err := s.o.Store.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundErr
	}
	if err != nil {
		return nil, err
	}
	if p.Agent != "" {
		owner, ok, err := s.o.Store.GetBlob(r.Context(), id, drp.BlobAgent)
		if err != nil {
			return nil, err
		}
		if !ok || subtle.ConstantTimeCompare(owner, []byte(p.Agent)) != 1 {
			return nil, notFoundErr
		}
	}
	return req, nil
}

func (s *Server) drpStatus(w http.ResponseWriter, r *http.Request, p Principal) error {
	for k := range r.URL.Query() {
		if k != "request_id" {
			return badRequest("unknown query parameter %q", k)
		}
	}
	req, err := s.drpRequest(r, p, r.URL.Query().Get("request_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, drp.StatusOf(req))
	return nil
}

// DRPRevoke is the body of POST /drp/revoke.
type DRPRevoke struct {
	RequestID string `json:"request_id"`
	Reason    string `json:"reason,omitempty"`
}

// drpRevoke revokes an open or in-progress request: it ends canceled
// (DRP revoked) and its running nodes stop at their next batch. The
// consumer's free-text reason is not kept: it may hold personal data.
func (s *Server) drpRevoke(w http.ResponseWriter, r *http.Request, p Principal) error {
	var body DRPRevoke
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		for k := range q {
			if k != "request_id" && k != "reason" {
				return badRequest("unknown query parameter %q", k)
			}
		}
		body = DRPRevoke{RequestID: q.Get("request_id"), Reason: q.Get("reason")}
	} else {
		data, err := drpBody(r)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			return jsonError(err)
		}
	}
	req, err := s.drpRequest(r, p, body.RequestID)
	if err != nil {
		return err
	}
	from := []store.Status{store.StatusPending, store.StatusApproved, store.StatusInProcessing, store.StatusPaused,
		store.StatusIdentityUnverified, store.StatusRequiresInput, store.StatusError}
	req, err = s.o.Store.Transition(r.Context(), req.ID, from, store.StatusCanceled,
		store.Event{Type: store.EventStatus, Status: store.StatusCanceled}, func(req *store.Request) error {
			req.Reason = "revoked through the Data Rights Protocol"
			req.ReviewedBy = p.ClientID
			return nil
		})
	if errors.Is(err, store.ErrConflict) {
		cur, gerr := s.o.Store.Get(r.Context(), body.RequestID)
		state := "final"
		if gerr == nil {
			state, _ = drp.Map(cur.Status)
		}
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: fmt.Sprintf("the request is %s, a final state; only open or in-progress requests can be revoked", state)}
	}
	if err != nil {
		return err
	}
	s.o.Engine.Cancel(req.ID)
	writeJSON(w, http.StatusOK, drp.StatusOf(req))
	return nil
}

// ConsentPreferences are the consent preferences recorded for an identity.
type ConsentPreferences struct {
	// Current is the latest preference (sale:opt_out or sale:opt_in), or
	// null when none was recorded.
	Current *string `json:"current"`
	// History lists every recorded preference, newest first.
	History []ConsentRecord `json:"history"`
}

// MaxConsentHistory bounds the preferences GET /consent lists.
const MaxConsentHistory = 100

// ConsentRecord is one recorded preference.
type ConsentRecord struct {
	Action     string    `json:"action"`
	RequestID  string    `json:"request_id"`
	RecordedAt time.Time `json:"recorded_at"`
}

func (s *Server) consent(w http.ResponseWriter, r *http.Request, _ Principal) error {
	q := r.URL.Query()
	for k := range q {
		if k != "identity" {
			return badRequest("unknown query parameter %q", k)
		}
	}
	name, value, ok := strings.Cut(q.Get("identity"), ":")
	if !ok || name == "" || value == "" {
		return badRequest("identity must be name:value, such as email:jane@example.com")
	}
	cfg := s.cfg()
	// Look the value up as intake stored it (identity normalizations).
	if ids, _, err := execute.NormalizeIdentities(cfg, map[string]string{name: value}); err == nil {
		value = ids[name]
	}
	out := ConsentPreferences{History: []ConsentRecord{}}
	for page := 1; ; page++ {
		reqs, total, err := s.o.Store.List(r.Context(), store.Filter{
			Statuses: []store.Status{store.StatusComplete}, Identity: &store.IdentityMatch{Name: name, Value: value},
			Page: page, Size: store.MaxPageSize,
		})
		if err != nil {
			return err
		}
		for _, req := range reqs {
			pol := cfg.Policy(req.Policy)
			if pol == nil || !policy.IsConsent(pol.DRPAction) {
				continue
			}
			a, _ := policy.NormalizeDRPAction(pol.DRPAction)
			out.History = append(out.History, ConsentRecord{Action: a, RequestID: req.ID, RecordedAt: req.FinishedAt})
		}
		// The newest MaxConsentHistory preferences: the answer stays
		// bounded however many were recorded.
		if len(out.History) >= MaxConsentHistory {
			out.History = out.History[:MaxConsentHistory]
			break
		}
		if page*store.MaxPageSize >= total {
			break
		}
	}
	if len(out.History) > 0 {
		cur := out.History[0].Action
		out.Current = &cur
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
