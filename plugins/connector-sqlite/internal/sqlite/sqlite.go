package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// Definition returns the plugin's definition; version is the plugin's
// semantic version.
func Definition(version string) connector.Definition {
	return connector.Definition{
		Name:        "sqlite",
		Version:     version,
		Description: "Reads and masks rows in a SQLite database file.",
		DryRun:      true,
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "path", Type: schema.String, Required: true, Path: true, Description: "The SQLite database file. It must exist. A relative path resolves against the configuration directory."},
			{Name: "busy_timeout", Type: schema.Duration, Default: 5 * time.Second, Description: "How long to wait for a lock held by another connection, such as \"5s\"."},
			{Name: "read_only", Type: schema.Bool, Default: false, Description: "Open the file read-only; erasure is then refused."},
		}},
		New: New,
	}
}

// Conn is one configured SQLite file. It is safe for concurrent use.
type Conn struct {
	db       *sql.DB
	path     string
	readOnly bool

	mu     sync.Mutex
	tables map[string]map[string]colType // table -> column -> type
}

// New opens the file of cfg. It does not create a missing file: a typo in
// the path would otherwise give an empty database and no rows.
func New(ctx context.Context, cfg schema.Config) (connector.Instance, error) {
	if cfg.String("path") == "" {
		return nil, fault.AsPermanent(errors.New("path is empty; set it to the SQLite database file"))
	}
	path, err := confine(ctx, cfg.String("path"))
	if err != nil {
		return nil, fault.AsPermanent(fmt.Errorf("path: %w", err))
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fault.AsPermanent(fmt.Errorf("database file %s does not exist", path))
	case err != nil:
		return nil, fault.AsPermanent(fmt.Errorf("database file %s: %w", path, err))
	case st.IsDir():
		return nil, fault.AsPermanent(fmt.Errorf("database path %s is a directory, not a SQLite file", path))
	}
	readOnly := cfg.Bool("read_only")
	db, err := sql.Open("sqlite", dsn(path, cfg.Duration("busy_timeout"), readOnly))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// A few connections let Access calls read in parallel (WAL); writers
	// queue on SQLite's lock, waiting up to busy_timeout.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	return &Conn{db: db, path: path, readOnly: readOnly, tables: map[string]map[string]colType{}}, nil
}

// dsn builds the driver's URI for path. The path is escaped: in a SQLite
// URI, '?' starts the query, '#' a fragment and '%' an escape.
func dsn(path string, busy time.Duration, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Set("mode", "ro")
	} else {
		q.Set("mode", "rw") // never create the file
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate") // take the write lock at BEGIN: no deadlock on upgrade
	}
	p := filepath.ToSlash(path)
	p = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(p)
	return "file:" + p + "?" + q.Encode()
}

// Test checks that the file opens and answers a query.
func (c *Conn) Test(ctx context.Context) error {
	var one int
	if err := c.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return classify(fmt.Errorf("query %s: %w", c.path, err))
	}
	return nil
}

// Close closes the database; a second Close does nothing.
func (c *Conn) Close(context.Context) error { return c.db.Close() }

// quote quotes an identifier: double quotes, inner quotes doubled.
func quote(id string) (string, error) {
	if id == "" || strings.ContainsRune(id, 0) {
		return "", fault.AsPermanent(fmt.Errorf("invalid identifier %q: empty or containing NUL", id))
	}
	return `"` + strings.ReplaceAll(id, `"`, `""`) + `"`, nil
}

// columns returns the declared columns of table. It reads them once and
// again when fresh is set.
func (c *Conn) columns(ctx context.Context, table string, fresh bool) (map[string]colType, error) {
	if !fresh {
		c.mu.Lock()
		cols, ok := c.tables[table]
		c.mu.Unlock()
		if ok {
			return cols, nil
		}
	}
	if _, err := quote(table); err != nil {
		return nil, err
	}
	rows, err := c.db.QueryContext(ctx, "SELECT name, type FROM pragma_table_info(?)", table)
	if err != nil {
		return nil, classify(fmt.Errorf("read the columns of table %q: %w", table, err))
	}
	defer rows.Close()
	cols := map[string]colType{}
	for rows.Next() {
		var name, decl string
		if err := rows.Scan(&name, &decl); err != nil {
			return nil, fmt.Errorf("read the columns of table %q: %w", table, err)
		}
		cols[name] = typeOf(decl)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("read the columns of table %q: %w", table, err))
	}
	if len(cols) == 0 {
		return nil, fault.AsPermanent(fmt.Errorf("table %q does not exist in %s", table, c.path))
	}
	c.mu.Lock()
	c.tables[table] = cols
	c.mu.Unlock()
	return cols, nil
}

// withColumns runs build with the columns of table, and once more with
// freshly read columns when build finds a column unknown: the table may
// have changed since it was first read.
func withColumns[T any](ctx context.Context, c *Conn, table string, build func(map[string]colType) (T, error)) (T, error) {
	cols, err := c.columns(ctx, table, false)
	if err != nil {
		var zero T
		return zero, err
	}
	out, err := build(cols)
	var unknown *unknownColumnError
	if errors.As(err, &unknown) {
		if cols, err = c.columns(ctx, table, true); err != nil {
			var zero T
			return zero, err
		}
		return build(cols)
	}
	return out, err
}

// classify marks lock contention as transient and problems that a retry
// cannot fix as permanent; other errors stay unclassified (retried a few
// times by the host).
func classify(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "SQLITE_BUSY"), strings.Contains(msg, "database is locked"):
		return fault.AsTransient(err)
	case strings.Contains(msg, "no such table"), strings.Contains(msg, "no such column"),
		strings.Contains(msg, "readonly database"), strings.Contains(msg, "SQLITE_READONLY"),
		strings.Contains(msg, "not a database"), strings.Contains(msg, "unable to open"),
		strings.Contains(msg, "constraint failed"):
		return fault.AsPermanent(err)
	}
	return err
}
