// Package api is Lethe's HTTP API: privacy requests, OAuth2 clients,
// masking, health, metrics and the OpenAPI document. Every route is one row
// of the table in routes.go, which declares its scope; the router, the
// authorization check and the OpenAPI document are all built from that
// table, so they cannot disagree.
//
// Nothing here logs identity values, row values or secrets: the access log
// names the route pattern (never the query string), the status and the
// duration; handlers log request ids and error classes only.
package api
