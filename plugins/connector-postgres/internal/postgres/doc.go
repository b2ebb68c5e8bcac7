// Package postgres is Lethe's connector for PostgreSQL, built on pgx v5 and
// its connection pool. Identifiers are always quoted and schema-qualified;
// values are always bound as parameters.
//
// Values follow each column's type (information_schema.columns, read once
// per table and again when a request names a column the cache lacks):
//
//	PostgreSQL type                 Go value
//	smallint, integer, bigint       int64
//	real, double precision          float64
//	numeric                         value.Decimal (every digit)
//	boolean                         bool
//	timestamptz, timestamp, date    time.Time (UTC)
//	bytea                           []byte
//	json, jsonb                     map[string]any / []any (whole numbers int64)
//	text, varchar, char, uuid, ...  string
//	arrays                          []any of the above
//
// Nested fields exist inside json and jsonb columns: Access of doc.email
// selects the doc column; a filter on doc.email compares "doc" #>> '{email}'
// as text; Erase of doc.email rewrites that member with jsonb_set, leaving
// the rest of the document alone and absent members absent.
package postgres
