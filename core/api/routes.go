package api

import "net/http"

// Public is the scope of a route anyone may call.
const Public = "public"

// Route is one row of the route table.
type Route struct {
	Method  string
	Path    string // a net/http pattern path: /api/v1/privacy-request/{id}
	Scope   string // the scope a caller needs, or Public
	Summary string
	// Body and Response name the JSON shapes, for the OpenAPI document.
	Body, Response string
	handle         func(w http.ResponseWriter, r *http.Request, p Principal) error
}

// table is every route of the API. A route without a scope is refused by
// New; the OpenAPI document is made from this table.
func (s *Server) table() []Route {
	const v1 = "/api/v1"
	return []Route{
		{Method: "GET", Path: "/health", Scope: Public, Summary: "Liveness, the store and the plugins", Response: "Health", handle: s.health},
		{Method: "GET", Path: "/metrics", Scope: Public, Summary: "Prometheus metrics (text format)", handle: s.metrics},
		{Method: "GET", Path: v1 + "/openapi.json", Scope: Public, Summary: "This API as an OpenAPI 3 document", handle: s.openapi},

		{Method: "POST", Path: v1 + "/oauth/token", Scope: Public, Summary: "Exchange client credentials (form or HTTP Basic) for an access token", Body: "TokenForm", Response: "Token", handle: s.token},
		{Method: "POST", Path: v1 + "/oauth/client", Scope: "client:create", Summary: "Create a client with a subset of the caller's scopes", Body: "ClientCreate", Response: "ClientCreated", handle: s.createClient},
		{Method: "DELETE", Path: v1 + "/oauth/client/{id}", Scope: "client:delete", Summary: "Delete a client", handle: s.deleteClient},

		{Method: "POST", Path: v1 + "/privacy-request", Scope: "privacy-request:create", Summary: "Create privacy requests (bulk, at most 50)", Body: "[]PrivacyRequestCreate", Response: "BulkPrivacyRequests", handle: s.createRequests},
		{Method: "GET", Path: v1 + "/privacy-request", Scope: "privacy-request:read", Summary: "List privacy requests: request_id, status (repeatable), external_id, identity (name:value), created_gt, created_lt, page, size, verbose", Response: "PrivacyRequestPage", handle: s.listRequests},
		{Method: "GET", Path: v1 + "/privacy-request/{id}", Scope: "privacy-request:read", Summary: "One privacy request: status, times, due date, counts, package locations", Response: "PrivacyRequest", handle: s.getRequest},
		{Method: "GET", Path: v1 + "/privacy-request/{id}/log", Scope: "privacy-request:read", Summary: "A privacy request's event log, paginated", Response: "EventPage", handle: s.requestLog},
		{Method: "PATCH", Path: v1 + "/privacy-request/administrate/approve", Scope: "privacy-request:review", Summary: "Approve pending requests (bulk)", Body: "ReviewBody", Response: "BulkPrivacyRequests", handle: s.approve},
		{Method: "PATCH", Path: v1 + "/privacy-request/administrate/deny", Scope: "privacy-request:review", Summary: "Deny pending requests (bulk)", Body: "ReviewBody", Response: "BulkPrivacyRequests", handle: s.deny},
		{Method: "POST", Path: v1 + "/privacy-request/{id}/retry", Scope: "privacy-request:resume", Summary: "Retry a request in error from its failed node", Response: "PrivacyRequest", handle: s.retry},
		{Method: "POST", Path: v1 + "/privacy-request/{id}/cancel", Scope: "privacy-request:review", Summary: "Cancel a request; running nodes stop at their next batch", Body: "CancelBody", Response: "PrivacyRequest", handle: s.cancel},

		{Method: "PUT", Path: v1 + "/privacy-request/preview", Scope: "privacy-request:read", Summary: "The plan of a request: the collections in order, with the query each would run", Body: "PreviewBody", Response: "Preview", handle: s.preview},

		{Method: "GET", Path: v1 + "/policy", Scope: "policy:read", Summary: "The policies, with their rules", Response: "PolicyPage", handle: s.listPolicies},
		{Method: "GET", Path: v1 + "/policy/{key}", Scope: "policy:read", Summary: "One policy", Response: "Policy", handle: s.getPolicy},

		{Method: "PUT", Path: v1 + "/masking/mask", Scope: Public, Summary: "Mask values with a strategy", Body: "MaskBody", Response: "MaskResult", handle: s.mask},
		{Method: "GET", Path: v1 + "/masking/strategy", Scope: Public, Summary: "The masking strategies and their parameters", Response: "[]Strategy", handle: s.strategies},
	}
}
