package connector

import (
	"context"
	"strings"

	"github.com/lethehq/lethe/sdk/schema"
)

// Definition describes a connector plugin.
type Definition struct {
	// Name is the short name: "postgres" for lethe-connector-postgres.
	Name string
	// Version is the plugin's semantic version, e.g. "1.2.0".
	Version     string
	Description string
	// Config is the schema of a connection's `config = {...}`.
	Config schema.Schema
	// MaxConcurrency bounds concurrent calls per instance; 0 is unbounded.
	MaxConcurrency int
	// DryRun advertises the "dry_run" capability: set it when instances
	// implement DryRunner. The conformance suite checks that the two agree.
	DryRun bool
	// New creates an instance for one configured connection. cfg has been
	// validated against Config, with defaults applied. New should not block
	// on the network for long; Test is where connectivity is checked.
	New func(ctx context.Context, cfg schema.Config) (Instance, error)
}

// Instance serves one configured connection. It must be safe for concurrent
// use: the host runs several nodes of a request, and several requests, at once.
type Instance interface {
	// Test checks that the database is reachable with this configuration.
	Test(ctx context.Context) error
	// Access writes every row of req.Collection that matches any filter to
	// out, with only req.Fields. out.Write blocks while the host is slow, and
	// returns an error once ctx is cancelled; return it.
	Access(ctx context.Context, req AccessRequest, out RowWriter) error
	// Erase applies updates by key in one transaction where the database has
	// them and reports what it did in an EraseResult: Rows is the number of
	// rows changed. Applying the same request twice must leave the data as
	// after the first. A key that matches more than one row fails the whole
	// batch with a permanent fault (see package sdktest, EraseKeyNotUnique).
	Erase(ctx context.Context, req EraseRequest) (EraseResult, error)
	// Close releases the instance's resources. It may be called twice.
	Close(ctx context.Context) error
}

// DryRunner is implemented by instances that can show the query Access runs.
type DryRunner interface {
	DryRun(ctx context.Context, req AccessRequest) (string, error)
}

// Collection names a dataset's collection (a table, or a document collection).
type Collection struct {
	Dataset string
	Name    string
}

// Path is a field path: ["address", "city"] for a nested field.
type Path []string

func (p Path) String() string { return strings.Join(p, ".") }

// Filter matches rows whose Field equals one of Values.
type Filter struct {
	Field  Path
	Values []any
}

// AccessRequest asks for rows. Filters are ORed: a row matches when any
// filter matches. There is always at least one filter; the SDK refuses
// requests without one before they reach the instance.
type AccessRequest struct {
	RequestID  string
	Collection Collection
	// Fields to return. A nested path asks for its top-level field.
	Fields  []Path
	Filters []Filter
	// Limit caps the number of rows; 0 means no cap.
	Limit int64
}

// Row is one record: field name to value. Values are the Go types listed in
// package value (nil, bool, int64, float64, string, []byte, time.Time,
// value.Decimal, value.ObjectID, []any, map[string]any).
type Row = map[string]any

// RowWriter receives the rows of an Access call. Write blocks while the
// host is slow to read (backpressure) and fails once the call is cancelled.
type RowWriter interface {
	Write(row Row) error
}

// RowUpdate sets fields on the rows with Key. Set holds values already
// masked by the host; nested paths are keys joined with ".".
type RowUpdate struct {
	Key Row
	Set Row
}

// EraseResult is what one Erase call did. It is a struct, not a count, so
// that fields can be added later without changing the Instance interface:
// return connector.EraseResult{Rows: n}, and leave new fields zero.
type EraseResult struct {
	// Rows is the number of rows the batch changed (or matched, where the
	// database only reports matches; see package sdktest).
	Rows int64
}

// EraseRequest is one bounded batch of updates.
type EraseRequest struct {
	RequestID  string
	Collection Collection
	Updates    []RowUpdate
}
