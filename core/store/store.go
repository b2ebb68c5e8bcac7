package store

import (
	"context"
	"errors"
	"time"
)

// Errors callers test with errors.Is.
var (
	// ErrNotFound: no request (or no node, blob) with that id.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a compare-and-set failed (the request is not in an
	// expected status, a node is already done, ...). The message says what
	// the current state is.
	ErrConflict = errors.New("conflict")
	// ErrDuplicate: CreateRequest found a request with the same idempotency
	// key; that request is returned alongside.
	ErrDuplicate = errors.New("duplicate request")
	// ErrLocked: another process holds the state directory.
	ErrLocked = errors.New("state directory locked")
	// ErrWrongKey: the encryption key is not the one the state directory was
	// created with.
	ErrWrongKey = errors.New("encryption key does not match the one this state directory was created with")
)

// Store is Lethe's durable state. All methods are safe for concurrent use.
type Store interface {
	// CreateRequest stores a new request, its indexes, its identity blind
	// index entries and its masking secrets, and appends a "created" event,
	// in one transaction. It assigns ID (when empty), CreatedAt (when zero)
	// and Status (pending, when empty) and returns the stored request.
	// When r.IdempotencyKey names an existing request it writes nothing and
	// returns that request with ErrDuplicate, unless that request's
	// IdempotencyUntil has passed (at r.CreatedAt): then the key names the
	// new request from now on. The check and the write are one transaction,
	// so concurrent duplicates make one request.
	CreateRequest(ctx context.Context, r *Request, maskingSecrets []byte) (*Request, error)
	// Get returns the request or ErrNotFound.
	Get(ctx context.Context, id string) (*Request, error)
	// List returns one page of matching requests, newest first, and how many
	// match in total.
	List(ctx context.Context, f Filter) (items []*Request, total int, err error)
	// Transition moves a request from one of the statuses in from to the
	// status to, in one transaction: it applies mutate to a copy of the
	// request, updates the status index and appends ev. If the current
	// status is not in from it changes nothing and returns ErrConflict.
	// Moving to a terminal status does what Finish does.
	//
	// mutate runs inside the write transaction: it must be quick, must not
	// call the store and may run again if the transaction is retried. It may
	// not change ID, Status, CreatedAt, IdempotencyKey, Identities or
	// ResultKey (an error is returned and nothing is written).
	Transition(ctx context.Context, id string, from []Status, to Status, ev Event, mutate func(*Request) error) (*Request, error)
	// Finish moves a request from any non-terminal status to the terminal
	// status to, like Transition. In the same transaction it deletes the
	// request's checkpoint pages and masking secrets, unless to is error (a
	// retry needs them) or Options.Retention is positive (then they expire
	// Retention after FinishedAt; see PurgeExpired). Node results are kept.
	Finish(ctx context.Context, id string, to Status, ev Event, mutate func(*Request) error) (*Request, error)
	// Unfinished returns the requests in the given statuses (every
	// non-terminal status when none is given), oldest first: what a
	// restarted process must resume.
	Unfinished(ctx context.Context, statuses ...Status) ([]*Request, error)
	// MaskingSecrets returns the secrets stored with the request (nil when
	// none were given or they were deleted at finish).
	MaskingSecrets(ctx context.Context, id string) ([]byte, error)

	// AppendEvent appends ev to the request's event log and returns its
	// sequence number (1, 2, ...).
	AppendEvent(ctx context.Context, id string, ev Event) (uint64, error)
	// Events returns at most limit events with Seq > afterSeq, in order.
	Events(ctx context.Context, id string, afterSeq uint64, limit int) ([]Event, error)

	// BeginNode records the start of an attempt at a node and deletes the
	// pages a crashed earlier attempt may have left. It returns the attempt
	// number (1 for the first). A node that is done returns ErrConflict.
	BeginNode(ctx context.Context, id string, phase Phase, node string) (attempt int, err error)
	// AppendRows stores one encrypted page of opaque bytes for a begun,
	// unfinished node. Pages are read back in ascending page order; writing
	// a page number again replaces it.
	AppendRows(ctx context.Context, id string, phase Phase, node string, page int, data []byte) error
	// FinishNode marks the node done with its result and appends ev, in one
	// transaction. After it returns the node is never begun again.
	FinishNode(ctx context.Context, id string, phase Phase, node string, res NodeResult, ev Event) error
	// NextAttempt returns the number the next attempt at a node gets,
	// without writing anything: the attempt is recorded by the first write
	// it makes (AppendPage or CompleteNode), so that a node whose outcome is
	// one transaction costs one commit. A node that is done returns
	// ErrConflict, as BeginNode does.
	NextAttempt(ctx context.Context, id string, phase Phase, node string) (attempt int, err error)
	// AppendPage is AppendRows for an attempt that NextAttempt numbered: the
	// first write of the attempt records it and deletes the pages an
	// earlier, unfinished attempt left.
	AppendPage(ctx context.Context, id string, phase Phase, node string, attempt, page int, data []byte) error
	// CompleteNode writes an attempt's outcome in one transaction: it
	// records the attempt if no page did, stores its last pages (numbered
	// from o.FirstPage), appends o.Events, then marks the node done with
	// o.Result and appends o.Done, as FinishNode does.
	CompleteNode(ctx context.Context, id string, phase Phase, node string, o NodeOutcome) error
	// NodeDone reports whether the node is done, and its result.
	NodeDone(ctx context.Context, id string, phase Phase, node string) (NodeResult, bool, error)
	// DoneNodes returns the results of every done node of a phase, by node.
	DoneNodes(ctx context.Context, id string, phase Phase) (map[string]NodeResult, error)
	// ReadRows calls fn with each page of the node, in page order. Each page
	// is read in its own short read transaction and copied out; no
	// transaction is open while fn runs, so fn may use the store.
	ReadRows(ctx context.Context, id string, phase Phase, node string, fn func(page int, data []byte) error) error

	// PutBlob stores a small encrypted value under a name for a request
	// (an upload result per rule, ...). GetBlob returns it.
	PutBlob(ctx context.Context, id, name string, data []byte) error
	GetBlob(ctx context.Context, id, name string) ([]byte, bool, error)

	// PurgeExpired deletes the checkpoint pages and masking secrets of
	// finished requests whose retention has passed, and returns how many
	// requests it purged.
	PurgeExpired(ctx context.Context) (int, error)
	// Ping checks that the store can be read.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Status is a privacy request's status (the reference system's set).
type Status string

// Statuses.
const (
	StatusIdentityUnverified Status = "identity_unverified"
	StatusRequiresInput      Status = "requires_input"
	StatusPending            Status = "pending"
	StatusApproved           Status = "approved"
	StatusDenied             Status = "denied"
	StatusInProcessing       Status = "in_processing"
	StatusPaused             Status = "paused"
	StatusComplete           Status = "complete"
	StatusError              Status = "error"
	StatusCanceled           Status = "canceled"
)

// AllStatuses lists every status, non-terminal ones first.
var AllStatuses = []Status{
	StatusIdentityUnverified, StatusRequiresInput, StatusPending, StatusApproved,
	StatusInProcessing, StatusPaused,
	StatusComplete, StatusError, StatusDenied, StatusCanceled,
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusIdentityUnverified, StatusRequiresInput, StatusPending, StatusApproved,
		StatusInProcessing, StatusPaused, StatusComplete, StatusError, StatusDenied, StatusCanceled:
		return true
	}
	return false
}

// Terminal reports whether no worker will move the request on by itself:
// complete, denied, canceled and error. An errored request can still be
// retried by an operator (Retryable).
func (s Status) Terminal() bool {
	switch s {
	case StatusComplete, StatusDenied, StatusCanceled, StatusError:
		return true
	}
	return false
}

// Retryable reports whether an operator may resume a request in this
// terminal status (only error). Its checkpoints are kept for that.
func (s Status) Retryable() bool { return s == StatusError }

// NonTerminalStatuses returns every status that is not terminal.
func NonTerminalStatuses() []Status {
	var out []Status
	for _, s := range AllStatuses {
		if !s.Terminal() {
			out = append(out, s)
		}
	}
	return out
}

// Request sources.
const (
	SourceAPI = "api"
	SourceDRP = "drp"
	SourceCLI = "cli"
)

// Request is a privacy request. Identities and ResultKey are plaintext only
// in memory; the store encrypts them.
type Request struct {
	ID     string
	Policy string
	Status Status
	// Identities by name (email, phone_number, ...). Encrypted at rest and
	// searchable through a keyed hash of name and exact value.
	Identities map[string]string
	// ResultKey is the requester's optional key for encrypting results.
	ResultKey []byte
	// Source is api, drp or cli.
	Source string
	// ExternalID is the caller's id for the request (not personal data).
	ExternalID string
	// IdempotencyKey makes submissions idempotent (e.g. a DRP body digest).
	IdempotencyKey string
	// IdempotencyUntil, when set, ends the key's hold: a submission with
	// the same key at or after it creates a new request. Zero holds forever.
	IdempotencyUntil time.Time

	CreatedAt time.Time
	DueAt     time.Time
	// StartedAt is set by the store on the first move to in_processing.
	StartedAt time.Time
	// FinishedAt is set by the store on a move to a terminal status and
	// cleared on a move out of one (a retry).
	FinishedAt time.Time

	ReviewedBy string
	// Reason for a denial, cancellation or error. Never personal data.
	Reason string
	// Counts per collection ("dataset.collection").
	Counts map[string]NodeCounts
	// Locations of uploaded packages.
	Locations []string
	// Attempt counts the runs of the request (retries, requeues).
	Attempt int
	// Normalized lists, by identity name, the normalizations applied to the
	// identity's value at intake ("trim", "lowercase", ...). Not personal
	// data: names of steps, never values.
	Normalized map[string][]string
}

// NodeCounts are a collection's counts shown by the API.
type NodeCounts struct {
	Found  int64 `json:"found"`
	Masked int64 `json:"masked"`
	// Shared counts the rows found only through shared references: they
	// belong to someone else, are never erased, and are part of Found.
	Shared int64 `json:"shared,omitempty"`
}

// Clone returns a deep copy of r.
func (r *Request) Clone() *Request {
	if r == nil {
		return nil
	}
	c := *r
	if r.Identities != nil {
		c.Identities = make(map[string]string, len(r.Identities))
		for k, v := range r.Identities {
			c.Identities[k] = v
		}
	}
	if r.ResultKey != nil {
		c.ResultKey = append([]byte(nil), r.ResultKey...)
	}
	if r.Counts != nil {
		c.Counts = make(map[string]NodeCounts, len(r.Counts))
		for k, v := range r.Counts {
			c.Counts[k] = v
		}
	}
	if r.Locations != nil {
		c.Locations = append([]string(nil), r.Locations...)
	}
	if r.Normalized != nil {
		c.Normalized = make(map[string][]string, len(r.Normalized))
		for k, v := range r.Normalized {
			c.Normalized[k] = append([]string(nil), v...)
		}
	}
	return &c
}

// Phase names the part of a request a checkpoint belongs to. Checkpoints of
// different phases never mix, even for the same node.
type Phase string

// Phases.
const (
	PhaseAccess  Phase = "access"
	PhaseErasure Phase = "erasure"
	PhaseUpload  Phase = "upload"
)

// Valid reports whether p is a known phase.
func (p Phase) Valid() bool {
	return p == PhaseAccess || p == PhaseErasure || p == PhaseUpload
}

// NodeResult is what a finished node reports.
type NodeResult struct {
	Rows   int64 `json:"rows"`
	Masked int64 `json:"masked,omitempty"`
	// Shared counts rows found only through shared references (never erased).
	Shared   int64         `json:"shared,omitempty"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Attempts defaults to the number of BeginNode calls.
	Attempts int `json:"attempts"`
	// Detail is free text (never personal data).
	Detail     string    `json:"detail,omitempty"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// EventType says what an event records.
type EventType string

// Event types.
const (
	EventCreated     EventType = "created"
	EventApproved    EventType = "approved"
	EventDenied      EventType = "denied"
	EventNodeStarted EventType = "node_started"
	EventNodeDone    EventType = "node_done"
	EventNodeFailed  EventType = "node_failed"
	EventNodeRetry   EventType = "node_retry"
	EventNodeSkipped EventType = "node_skipped"
	// EventRowsShared records, per collection, the rows found only through
	// shared references (Rows): they belong to someone else and are
	// shared, not erased.
	EventRowsShared EventType = "rows_shared"
	EventUploadDone EventType = "upload_done"
	EventStatus     EventType = "status"
)

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool {
	switch t {
	case EventCreated, EventApproved, EventDenied, EventNodeStarted, EventNodeDone,
		EventNodeFailed, EventNodeRetry, EventNodeSkipped, EventRowsShared, EventUploadDone, EventStatus:
		return true
	}
	return false
}

// Event is one entry of a request's log. It is stored in the clear but for
// Error, which is sealed: callers must never put identity values, row
// values or secrets in it, and redact the values they know from Error.
type Event struct {
	// Seq is assigned by the store: 1, 2, ... per request.
	Seq uint64 `json:"-"`
	// Time defaults to the store's clock.
	Time       time.Time `json:"t"`
	Type       EventType `json:"type"`
	Phase      Phase     `json:"phase,omitempty"`
	Node       string    `json:"node,omitempty"`
	Status     Status    `json:"status,omitempty"`
	Rows       int64     `json:"rows,omitempty"`
	DurationMS int64     `json:"duration_ms,omitempty"`
	Attempt    int       `json:"attempt,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// Filter selects requests for List. Zero fields do not filter.
type Filter struct {
	Statuses []Status
	// CreatedFrom is inclusive, CreatedTo exclusive.
	CreatedFrom, CreatedTo time.Time
	// Identity matches requests with this exact identity value.
	Identity *IdentityMatch
	// ExternalID matches exactly.
	ExternalID string
	// Page is 1-based (default 1); Size defaults to DefaultPageSize and is
	// capped at MaxPageSize.
	Page, Size int
}

// IdentityMatch is an identity name and exact value.
type IdentityMatch struct {
	Name, Value string
}

// Page sizes for List.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)
