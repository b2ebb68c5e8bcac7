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
	// DRP routes also accept an authorized agent's bearer token, and answer
	// errors with the Data Rights Protocol's error body.
	DRP bool
	// RateLimited routes are rate-limited per client id and remote
	// address (server.rate_limit_*).
	RateLimited bool
	handle      func(w http.ResponseWriter, r *http.Request, p Principal) error
}

// table is every route of the API. A route without a scope is refused by
// New; the OpenAPI document is made from this table.
func (s *Server) table() []Route {
	const v1 = "/api/v1"
	maskScope := "masking:exec"
	if s.o.Config.Server.PublicMasking {
		maskScope = Public
	}
	return []Route{
		{Method: "GET", Path: "/health", Scope: Public, Summary: "Readiness; with a token holding health:read, the store's and the plugins' states", Response: "Health", handle: s.health},
		{Method: "GET", Path: "/metrics", Scope: MetricsScope, Summary: "Prometheus metrics (text format); also without a token on server.metrics_listen", handle: s.metrics},
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
		{Method: "PATCH", Path: v1 + "/policy", Scope: "policy:create_or_update", Summary: "Create or update policies (bulk: name, key, drp_action, execution_timeframe)", Body: "[]PolicyInput", Response: "BulkPolicies", handle: s.patchPolicies},
		{Method: "DELETE", Path: v1 + "/policy/{key}", Scope: "policy:delete", Summary: "Delete a policy created through the API", handle: s.deletePolicy},
		{Method: "PATCH", Path: v1 + "/policy/{key}/rule", Scope: "rule:create_or_update", Summary: "Create or update rules of a policy (bulk)", Body: "[]RuleInput", Response: "BulkRules", handle: s.patchRules},
		{Method: "DELETE", Path: v1 + "/policy/{key}/rule/{rule}", Scope: "rule:delete", Summary: "Delete a rule and its targets", handle: s.deleteRule},
		{Method: "PATCH", Path: v1 + "/policy/{key}/rule/{rule}/target", Scope: "rule:create_or_update", Summary: "Add or update targets of a rule (bulk)", Body: "[]TargetInput", Response: "BulkTargets", handle: s.patchTargets},
		{Method: "DELETE", Path: v1 + "/policy/{key}/rule/{rule}/target/{target}", Scope: "rule:delete", Summary: "Delete a target of a rule", handle: s.deleteTarget},

		{Method: "GET", Path: v1 + "/storage/config", Scope: "storage:read", Summary: "The storage destinations (sensitive values redacted)", Response: "StoragePage", handle: s.listStorage},
		{Method: "PATCH", Path: v1 + "/storage/config", Scope: "storage:create_or_update", Summary: "Create or update storage destinations (bulk)", Body: "[]StorageInput", Response: "BulkStorages", handle: s.patchStorage},
		{Method: "PUT", Path: v1 + "/storage/config", Scope: "storage:create_or_update", Summary: "Create or update storage destinations: {\"destinations\": [...]}", Body: "StorageDestinations", Response: "BulkStorages", handle: s.putStorage},
		{Method: "GET", Path: v1 + "/storage/config/{key}", Scope: "storage:read", Summary: "One storage destination", Response: "Storage", handle: s.getStorage},
		{Method: "DELETE", Path: v1 + "/storage/config/{key}", Scope: "storage:delete", Summary: "Delete a storage destination created through the API", handle: s.deleteStorage},
		{Method: "PUT", Path: v1 + "/storage/config/{key}/secret", Scope: "storage:create_or_update", Summary: "Set a storage destination's secret (validated against the plugin's schema; tested first with ?verify=true; never returned)", Body: "Secret", Response: "TestResult", handle: s.putStorageSecret},

		{Method: "GET", Path: v1 + "/connection", Scope: "connection:read", Summary: "The connections (sensitive values redacted)", Response: "ConnectionPage", handle: s.listConnections},
		{Method: "PATCH", Path: v1 + "/connection", Scope: "connection:create_or_update", Summary: "Create or update connections (bulk)", Body: "[]ConnectionInput", Response: "BulkConnections", handle: s.patchConnections},
		{Method: "GET", Path: v1 + "/connection/{key}", Scope: "connection:read", Summary: "One connection", Response: "Connection", handle: s.getConnection},
		{Method: "DELETE", Path: v1 + "/connection/{key}", Scope: "connection:delete", Summary: "Delete a connection created through the API, its secret and its datasets", handle: s.deleteConnection},
		{Method: "PUT", Path: v1 + "/connection/{key}/secret", Scope: "connection:create_or_update", Summary: "Set a connection's secret (tested first with ?verify=true; never returned)", Body: "Secret", Response: "TestResult", handle: s.putConnectionSecret},
		{Method: "GET", Path: v1 + "/connection/{key}/test", Scope: "connection:read", Summary: "Test a connection", Response: "TestResult", handle: s.testConnection},
		{Method: "GET", Path: v1 + "/connection/{key}/dataset", Scope: "dataset:read", Summary: "The datasets of a connection", Response: "DatasetPage", handle: s.listDatasets},
		{Method: "PATCH", Path: v1 + "/connection/{key}/dataset", Scope: "dataset:create_or_update", Summary: "Create or update datasets (the reference system's dataset JSON; the whole graph is validated first)", Body: "[]Dataset", Response: "BulkDatasets", handle: s.patchDatasets},
		{Method: "DELETE", Path: v1 + "/connection/{key}/dataset/{dataset}", Scope: "dataset:delete", Summary: "Delete a dataset created through the API", handle: s.deleteDataset},

		{Method: "GET", Path: "/.well-known/data-rights.json", Scope: Public, Summary: "DRP discovery: version, api_base, actions", Response: "DRPDiscovery", DRP: true, handle: s.drpDiscovery},
		{Method: "GET", Path: v1 + "/drp/data-rights", Scope: "policy:read", Summary: "DRP discovery (authenticated)", Response: "DRPDiscovery", DRP: true, handle: s.drpDiscovery},
		{Method: "POST", Path: v1 + "/drp/exercise", Scope: "privacy-request:create", Summary: "DRP: exercise a right for the consumer in the identity token", Body: "DRPExercise", Response: "DRPStatus", DRP: true, RateLimited: true, handle: s.drpExercise},
		{Method: "GET", Path: v1 + "/drp/status", Scope: "privacy-request:read", Summary: "DRP: the status of a request (?request_id=)", Response: "DRPStatus", DRP: true, handle: s.drpStatus},
		{Method: "POST", Path: v1 + "/drp/revoke", Scope: "privacy-request:review", Summary: "DRP: revoke an open or in-progress request", Body: "DRPRevoke", Response: "DRPStatus", DRP: true, handle: s.drpRevoke},
		{Method: "GET", Path: v1 + "/drp/revoke", Scope: "privacy-request:review", Summary: "DRP: revoke (?request_id=&reason=), as the original documents show it", Response: "DRPStatus", DRP: true, handle: s.drpRevoke},
		{Method: "GET", Path: v1 + "/consent", Scope: "consent:read", Summary: "Consent preferences (sale:opt_out, sale:opt_in) recorded for an identity (?identity=email:...)", Response: "ConsentPreferences", handle: s.consent},

		{Method: "PUT", Path: v1 + "/masking/mask", Scope: maskScope, Summary: "Mask values with a strategy (at most 1000 values of 8 KiB, a 1 KiB rewrite_value, a 4 MiB answer)", Body: "MaskBody", Response: "MaskResult", handle: s.mask},
		{Method: "GET", Path: v1 + "/masking/strategy", Scope: Public, Summary: "The masking strategies and their parameters", Response: "[]Strategy", handle: s.strategies},
	}
}
