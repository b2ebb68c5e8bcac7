package drp

import (
	"time"

	"github.com/lethehq/lethe/core/store"
)

// DRP statuses and reasons.
const (
	StatusOpen       = "open"
	StatusInProgress = "in_progress"
	StatusFulfilled  = "fulfilled"
	StatusRevoked    = "revoked"
	StatusDenied     = "denied"
	StatusExpired    = "expired"

	ReasonNeedUserVerification = "need_user_verification"
	ReasonOther                = "other"
)

// Status is the Exercise Status object. The seven base keys are always
// present (null where unknown), as agents such as OSIRAA require.
type Status struct {
	RequestID           string  `json:"request_id"`
	Status              string  `json:"status"`
	Reason              *string `json:"reason"`
	ReceivedAt          *string `json:"received_at"`
	ExpectedBy          *string `json:"expected_by"`
	ProcessingDetails   *string `json:"processing_details"`
	UserVerificationURL *string `json:"user_verification_url"`
}

// timeFormat is RFC 3339 with milliseconds and an explicit numeric offset
// ("+00:00", never "Z": some agents' parsers refuse "Z").
const timeFormat = "2006-01-02T15:04:05.000-07:00"

// FormatTime formats t for DRP.
func FormatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func ptr(s string) *string { return &s }

// Map gives a request's DRP status and reason. Every Lethe status maps:
//
//	pending                              → open
//	approved, in_processing, paused,
//	requires_input                       → in_progress
//	identity_unverified                  → in_progress, need_user_verification
//	error                                → in_progress (an operator can retry it;
//	                                       processing_details says it is delayed)
//	complete                             → fulfilled
//	denied                               → denied, reason other
//	canceled                             → revoked
func Map(st store.Status) (status string, reason *string) {
	switch st {
	case store.StatusPending:
		return StatusOpen, nil
	case store.StatusIdentityUnverified:
		return StatusInProgress, ptr(ReasonNeedUserVerification)
	case store.StatusComplete:
		return StatusFulfilled, nil
	case store.StatusDenied:
		return StatusDenied, ptr(ReasonOther)
	case store.StatusCanceled:
		return StatusRevoked, nil
	}
	// approved, in_processing, paused, requires_input, error, and any
	// status a later version adds: still being worked on.
	return StatusInProgress, nil
}

// StatusOf is the status object of a request.
func StatusOf(r *store.Request) Status {
	s := Status{RequestID: r.ID, ReceivedAt: ptr(FormatTime(r.CreatedAt))}
	s.Status, s.Reason = Map(r.Status)
	if !r.DueAt.IsZero() {
		s.ExpectedBy = ptr(FormatTime(r.DueAt))
	}
	switch r.Status {
	case store.StatusError:
		s.ProcessingDetails = ptr("processing is delayed by a technical problem; the business is working on it")
	case store.StatusDenied:
		s.ProcessingDetails = ptr("the business denied the request")
	case store.StatusCanceled:
		s.ProcessingDetails = ptr("the request was revoked")
	}
	return s
}
