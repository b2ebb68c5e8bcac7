package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lethehq/lethe/core/execute"
	"github.com/lethehq/lethe/core/store"
)

// PrivacyRequestCreate is one item of POST /privacy-request.
type PrivacyRequestCreate struct {
	Identity   map[string]string `json:"identity"`
	PolicyKey  string            `json:"policy_key"`
	ExternalID string            `json:"external_id,omitempty"`
	// EncryptionKey, when set, encrypts the access package: 16, 24 or 32
	// bytes, base64, or as many plain characters (the reference's form).
	EncryptionKey string `json:"encryption_key,omitempty"`
}

// PrivacyRequest is a privacy request as the API shows it. Identity values
// are never returned: only their names.
type PrivacyRequest struct {
	ID         string       `json:"id"`
	Status     store.Status `json:"status"`
	PolicyKey  string       `json:"policy_key"`
	Identities []string     `json:"identity_types"`
	// Normalized: identity name -> normalizations applied at intake.
	Normalized           map[string][]string         `json:"identity_normalizations,omitempty"`
	ExternalID           string                      `json:"external_id,omitempty"`
	Source               string                      `json:"source"`
	CreatedAt            time.Time                   `json:"created_at"`
	StartedProcessingAt  *time.Time                  `json:"started_processing_at"`
	FinishedProcessingAt *time.Time                  `json:"finished_processing_at"`
	DueDate              *time.Time                  `json:"due_date"`
	ReviewedBy           string                      `json:"reviewed_by,omitempty"`
	Reason               string                      `json:"reason,omitempty"`
	Counts               map[string]store.NodeCounts `json:"counts"`
	Results              []string                    `json:"results"`
	Attempt              int                         `json:"attempt"`
	Events               []EventView                 `json:"events,omitempty"`
}

// EventView is one entry of a request's log.
type EventView struct {
	Seq        uint64          `json:"seq"`
	Time       time.Time       `json:"time"`
	Type       store.EventType `json:"type"`
	Phase      store.Phase     `json:"phase,omitempty"`
	Node       string          `json:"collection,omitempty"`
	Status     store.Status    `json:"status,omitempty"`
	Rows       int64           `json:"rows,omitempty"`
	DurationMS int64           `json:"duration_ms,omitempty"`
	Attempt    int             `json:"attempt,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// Bulk is the answer of a bulk call.
type Bulk[T any] struct {
	Succeeded []T          `json:"succeeded"`
	Failed    []BulkFailed `json:"failed"`
}

// BulkFailed is an item a bulk call could not take, with why.
type BulkFailed struct {
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// Page is one page of a list.
type Page[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
	Page  int `json:"page"`
	Size  int `json:"size"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func view(r *store.Request) PrivacyRequest {
	v := PrivacyRequest{
		ID: r.ID, Status: r.Status, PolicyKey: r.Policy, ExternalID: r.ExternalID, Source: r.Source,
		CreatedAt: r.CreatedAt.UTC(), StartedProcessingAt: timePtr(r.StartedAt), FinishedProcessingAt: timePtr(r.FinishedAt),
		DueDate: timePtr(r.DueAt), ReviewedBy: r.ReviewedBy, Reason: r.Reason, Counts: r.Counts, Results: r.Locations, Attempt: r.Attempt,
		Normalized: r.Normalized,
	}
	for name := range r.Identities {
		v.Identities = append(v.Identities, name)
	}
	sortStrings(v.Identities)
	if v.Counts == nil {
		v.Counts = map[string]store.NodeCounts{}
	}
	if v.Results == nil {
		v.Results = []string{}
	}
	if v.Identities == nil {
		v.Identities = []string{}
	}
	return v
}

// redacted is an item echoed back in a bulk failure, without its
// identity values or key.
func redacted(in PrivacyRequestCreate) map[string]any {
	names := make([]string, 0, len(in.Identity))
	for k := range in.Identity {
		names = append(names, k)
	}
	sortStrings(names)
	return map[string]any{"policy_key": in.PolicyKey, "external_id": in.ExternalID, "identity_types": names}
}

func (s *Server) createRequests(w http.ResponseWriter, r *http.Request, p Principal) error {
	var items []PrivacyRequestCreate
	if err := decode(r, &items); err != nil {
		return err
	}
	if len(items) == 0 {
		return badRequest("the body is an empty list; send a list of 1 to %d requests", MaxBulkItems)
	}
	if len(items) > MaxBulkItems {
		return badRequest("%d requests in one call; send at most %d", len(items), MaxBulkItems)
	}
	out := Bulk[PrivacyRequest]{Succeeded: []PrivacyRequest{}, Failed: []BulkFailed{}}
	status := store.StatusApproved
	if s.o.Config.Server.RequireManualApproval {
		status = store.StatusPending
	}
	for i, in := range items {
		fail := func(format string, args ...any) {
			out.Failed = append(out.Failed, BulkFailed{Message: fmt.Sprintf("item %d: ", i) + fmt.Sprintf(format, args...), Data: redacted(in)})
		}
		if in.PolicyKey == "" {
			fail("policy_key is missing")
			continue
		}
		if s.cfg().Policy(in.PolicyKey) == nil {
			fail("unknown policy %q; the policies are %s", in.PolicyKey, policyKeys(s.cfg()))
			continue
		}
		if len(in.Identity) == 0 {
			fail("identity is empty; give at least one, such as {\"email\": \"...\"}")
			continue
		}
		if bad := badIdentity(in.Identity); bad != "" {
			fail("%s", bad)
			continue
		}
		key, err := resultKey(in.EncryptionKey)
		if err != nil {
			fail("%v", err)
			continue
		}
		req, err := s.o.Engine.Submit(r.Context(), execute.Submission{
			Policy: in.PolicyKey, Identities: in.Identity, ResultKey: key, Source: store.SourceAPI,
			ExternalID: in.ExternalID, Status: status,
		})
		if err != nil {
			fail("%v", err)
			continue
		}
		s.o.Metrics.requestCreated()
		if req.Status == store.StatusApproved {
			s.o.Runner.Enqueue(req.ID)
		}
		out.Succeeded = append(out.Succeeded, view(req))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// badIdentity checks identity names and values: names are short
// identifiers, values non-empty and bounded.
func badIdentity(ids map[string]string) string {
	for name, v := range ids {
		if name == "" || len(name) > 64 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return fmt.Sprintf("identity name %q: use lower-case letters, digits and _ (such as email or phone_number)", name)
		}
		if strings.TrimSpace(v) == "" {
			return fmt.Sprintf("identity %s is empty", name)
		}
		if len(v) > 1024 {
			return fmt.Sprintf("identity %s is longer than 1024 bytes", name)
		}
	}
	return ""
}

// resultKey accepts a package encryption key as base64 of 16, 24 or 32
// bytes, or as 16, 24 or 32 plain characters (the reference's form).
func resultKey(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	switch len(s) {
	case 16, 24, 32:
		return []byte(s), nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		switch len(b) {
		case 16, 24, 32:
			return b, nil
		}
	}
	return nil, errors.New("encryption_key must be 16, 24 or 32 characters, or the base64 of 16, 24 or 32 bytes")
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, _ Principal) error {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "request_id", "status", "external_id", "identity", "created_gt", "created_lt", "page", "size", "verbose":
		default:
			return badRequest("unknown query parameter %q", k)
		}
	}
	page, size, err := pageParams(q.Get("page"), q.Get("size"))
	if err != nil {
		return err
	}
	verbose := q.Get("verbose") == "true"
	if verbose && size > MaxVerbosePageSize {
		return badRequest("size must be at most %d with verbose=true (each request carries up to %d events)", MaxVerbosePageSize, MaxVerboseEvents)
	}
	if id := q.Get("request_id"); id != "" {
		req, err := s.o.Store.Get(r.Context(), id)
		items := []PrivacyRequest{}
		if err == nil {
			items = append(items, s.withEvents(r, view(req), verbose))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		writeJSON(w, http.StatusOK, Page[PrivacyRequest]{Items: items, Total: len(items), Page: 1, Size: size})
		return nil
	}
	f := store.Filter{ExternalID: q.Get("external_id"), Page: page, Size: size}
	for _, st := range q["status"] {
		status := store.Status(st)
		if !knownStatus(status) {
			return badRequest("unknown status %q; the statuses are %s", st, statusNames())
		}
		f.Statuses = append(f.Statuses, status)
	}
	if v := q.Get("identity"); v != "" {
		name, value, ok := strings.Cut(v, ":")
		if !ok || name == "" || value == "" {
			return badRequest("identity must be name:value, such as email:jane@example.com")
		}
		// Look the value up as intake stored it (identity normalizations).
		if ids, _, err := execute.NormalizeIdentities(s.cfg(), map[string]string{name: value}); err == nil {
			value = ids[name]
		}
		f.Identity = &store.IdentityMatch{Name: name, Value: value}
	}
	for param, dst := range map[string]*time.Time{"created_gt": &f.CreatedFrom, "created_lt": &f.CreatedTo} {
		if v := q.Get(param); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return badRequest("%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z", param)
			}
			*dst = t
		}
	}
	reqs, total, err := s.o.Store.List(r.Context(), f)
	if err != nil {
		return err
	}
	items := make([]PrivacyRequest, 0, len(reqs))
	for _, req := range reqs {
		items = append(items, s.withEvents(r, view(req), verbose))
	}
	writeJSON(w, http.StatusOK, Page[PrivacyRequest]{Items: items, Total: total, Page: page, Size: size})
	return nil
}

func (s *Server) withEvents(r *http.Request, v PrivacyRequest, verbose bool) PrivacyRequest {
	if !verbose {
		return v
	}
	evs, err := s.o.Store.Events(r.Context(), v.ID, 0, MaxVerboseEvents)
	if err == nil {
		v.Events = eventViews(evs)
	}
	return v
}

// Bounds of verbose lists: the first MaxVerboseEvents events of each
// request (GET /privacy-request/{id}/log pages through all of them), at
// most MaxVerbosePageSize requests a page.
const (
	MaxVerboseEvents   = 50
	MaxVerbosePageSize = 20
)

func eventViews(evs []store.Event) []EventView {
	out := make([]EventView, 0, len(evs))
	for _, e := range evs {
		out = append(out, EventView{Seq: e.Seq, Time: e.Time.UTC(), Type: e.Type, Phase: e.Phase, Node: e.Node, Status: e.Status,
			Rows: e.Rows, DurationMS: e.DurationMS, Attempt: e.Attempt, Error: e.Error})
	}
	return out
}

func pageParams(pageStr, sizeStr string) (int, int, error) {
	return pageParamsMax(pageStr, sizeStr, MaxPageSize)
}

// MaxPage bounds page numbers, so that offsets cannot overflow.
const MaxPage = 1_000_000

// pageParamsMax reads page (1 to MaxPage, default 1) and size (1 to max,
// default store.DefaultPageSize or max when smaller).
func pageParamsMax(pageStr, sizeStr string, max int) (int, int, error) {
	page, size := 1, min(store.DefaultPageSize, max)
	if pageStr != "" {
		n, err := strconv.Atoi(pageStr)
		if err != nil || n < 1 || n > MaxPage {
			return 0, 0, badRequest("page must be a whole number from 1 to %d", MaxPage)
		}
		page = n
	}
	if sizeStr != "" {
		n, err := strconv.Atoi(sizeStr)
		if err != nil || n < 1 || n > max {
			return 0, 0, badRequest("size must be a whole number from 1 to %d", max)
		}
		size = n
	}
	return page, size, nil
}

func knownStatus(st store.Status) bool {
	for _, s := range store.AllStatuses {
		if s == st {
			return true
		}
	}
	return false
}

func statusNames() string {
	names := make([]string, len(store.AllStatuses))
	for i, s := range store.AllStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request, _ Principal) error {
	req, err := s.request(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view(req))
	return nil
}

func (s *Server) request(r *http.Request) (*store.Request, error) {
	id := r.PathValue("id")
	req, err := s.o.Store.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("no privacy request %q", id)
	}
	return req, err
}

func (s *Server) requestLog(w http.ResponseWriter, r *http.Request, _ Principal) error {
	req, err := s.request(r)
	if err != nil {
		return err
	}
	for k := range r.URL.Query() {
		if k != "page" && k != "size" {
			return badRequest("unknown query parameter %q", k)
		}
	}
	page, size, err := pageParams(r.URL.Query().Get("page"), r.URL.Query().Get("size"))
	if err != nil {
		return err
	}
	// Sequence numbers run 1, 2, ... per request: page p starts after
	// (p-1)*size.
	evs, err := s.o.Store.Events(r.Context(), req.ID, uint64((page-1)*size), size)
	if err != nil {
		return err
	}
	total, err := s.countEvents(r, req.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Page[EventView]{Items: eventViews(evs), Total: total, Page: page, Size: size})
	return nil
}

// countEvents counts a request's events a bounded chunk at a time.
func (s *Server) countEvents(r *http.Request, id string) (int, error) {
	const chunk = 1000
	var after uint64
	total := 0
	for {
		evs, err := s.o.Store.Events(r.Context(), id, after, chunk)
		if err != nil {
			return 0, err
		}
		total += len(evs)
		if len(evs) < chunk {
			return total, nil
		}
		after = evs[len(evs)-1].Seq
	}
}

// ReviewBody is the body of approve and deny.
type ReviewBody struct {
	RequestIDs []string `json:"request_ids"`
	Reason     string   `json:"reason,omitempty"`
}

func (s *Server) review(w http.ResponseWriter, r *http.Request, p Principal, approve bool) error {
	var body ReviewBody
	if err := decode(r, &body); err != nil {
		return err
	}
	if len(body.RequestIDs) == 0 || len(body.RequestIDs) > MaxBulkItems {
		return badRequest("request_ids must list 1 to %d request ids", MaxBulkItems)
	}
	if len(body.Reason) > 500 {
		return badRequest("reason is longer than 500 characters")
	}
	out := Bulk[PrivacyRequest]{Succeeded: []PrivacyRequest{}, Failed: []BulkFailed{}}
	for _, id := range body.RequestIDs {
		to, ev := store.StatusApproved, store.Event{Type: store.EventApproved, Status: store.StatusApproved}
		if !approve {
			to, ev = store.StatusDenied, store.Event{Type: store.EventDenied, Status: store.StatusDenied}
		}
		req, err := s.o.Store.Transition(r.Context(), id, []store.Status{store.StatusPending}, to, ev, func(req *store.Request) error {
			req.ReviewedBy = p.ClientID
			if !approve {
				req.Reason = body.Reason
			}
			return nil
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			out.Failed = append(out.Failed, BulkFailed{Message: fmt.Sprintf("no privacy request %q", id), Data: map[string]string{"id": id}})
		case errors.Is(err, store.ErrConflict):
			out.Failed = append(out.Failed, BulkFailed{Message: fmt.Sprintf("request %s is not pending: %v", id, err), Data: map[string]string{"id": id}})
		case err != nil:
			return err
		default:
			if approve {
				s.o.Runner.Enqueue(req.ID)
			}
			out.Succeeded = append(out.Succeeded, view(req))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request, p Principal) error {
	return s.review(w, r, p, true)
}

func (s *Server) deny(w http.ResponseWriter, r *http.Request, p Principal) error {
	return s.review(w, r, p, false)
}

func (s *Server) retry(w http.ResponseWriter, r *http.Request, p Principal) error {
	req, err := s.request(r)
	if err != nil {
		return err
	}
	if r.ContentLength > 0 {
		var none struct{}
		if err := decode(r, &none); err != nil {
			return err
		}
	}
	req, err = s.o.Store.Transition(r.Context(), req.ID, []store.Status{store.StatusError}, store.StatusApproved,
		store.Event{Type: store.EventStatus, Status: store.StatusApproved}, func(req *store.Request) error {
			req.Reason = ""
			return nil
		})
	if errors.Is(err, store.ErrConflict) {
		return conflict("only a request in error can be retried: %v", err)
	}
	if err != nil {
		return err
	}
	s.o.Runner.Enqueue(req.ID)
	writeJSON(w, http.StatusOK, view(req))
	return nil
}

// CancelBody is the optional body of cancel.
type CancelBody struct {
	Reason string `json:"reason,omitempty"`
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request, p Principal) error {
	req, err := s.request(r)
	if err != nil {
		return err
	}
	var body CancelBody
	if r.ContentLength > 0 {
		if err := decode(r, &body); err != nil {
			return err
		}
	}
	if len(body.Reason) > 500 {
		return badRequest("reason is longer than 500 characters")
	}
	from := []store.Status{store.StatusPending, store.StatusApproved, store.StatusInProcessing, store.StatusPaused, store.StatusIdentityUnverified, store.StatusRequiresInput}
	req, err = s.o.Store.Transition(r.Context(), req.ID, from, store.StatusCanceled,
		store.Event{Type: store.EventStatus, Status: store.StatusCanceled}, func(req *store.Request) error {
			req.Reason = body.Reason
			req.ReviewedBy = p.ClientID
			return nil
		})
	if errors.Is(err, store.ErrConflict) {
		return conflict("the request has already ended: %v", err)
	}
	if err != nil {
		return err
	}
	s.o.Engine.Cancel(req.ID) // a running request stops at its next batch
	writeJSON(w, http.StatusOK, view(req))
	return nil
}

// PreviewBody is the body of PUT /privacy-request/preview. Identity values
// are optional: the plan depends on which identities are given only.
type PreviewBody struct {
	PolicyKey string            `json:"policy_key"`
	Identity  map[string]string `json:"identity"`
}

func (s *Server) preview(w http.ResponseWriter, r *http.Request, _ Principal) error {
	if s.o.Preview == nil {
		return &Error{Status: http.StatusNotImplemented, Code: "not_implemented", Message: "preview is not available in this server"}
	}
	var body PreviewBody
	if err := decode(r, &body); err != nil {
		return err
	}
	if s.cfg().Policy(body.PolicyKey) == nil {
		return badRequest("unknown policy %q; the policies are %s", body.PolicyKey, policyKeys(s.cfg()))
	}
	if len(body.Identity) == 0 {
		return badRequest("identity is empty; give the identity names the request would carry, such as {\"email\": \"\"}")
	}
	names := make([]string, 0, len(body.Identity))
	for k := range body.Identity {
		names = append(names, k)
	}
	sortStrings(names)
	out, err := s.o.Preview(r.Context(), body.PolicyKey, names)
	if err != nil {
		return badRequest("%v", err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
