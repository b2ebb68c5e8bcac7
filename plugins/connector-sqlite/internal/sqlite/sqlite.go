// Package sqlite is the connector for SQLite files (modernc.org/sqlite, pure
// Go). Identifiers are quoted, values are always bound parameters.
//
// Values follow each column's declared type:
//
//	INTEGER, INT, BIGINT ...           int64
//	REAL, FLOAT, DOUBLE                float64
//	BOOLEAN, BOOL                      bool (stored 0/1)
//	DECIMAL, NUMERIC (+ DECIMAL_TEXT)  value.Decimal; declare DECIMAL_TEXT to keep
//	                                   every digit: DECIMAL has numeric affinity and
//	                                   SQLite itself may round long decimals
//	DATETIME, TIMESTAMP, DATE          time.Time, stored as RFC 3339 text with offset
//	JSON                               nested documents and lists, stored as JSON text
//	BLOB                               []byte
//	anything else                      what SQLite stores (text as string)
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

// Definition returns the plugin's definition.
func Definition(version string) connector.Definition {
	return connector.Definition{
		Name:        "sqlite",
		Version:     version,
		Description: "Reads and masks rows in a SQLite database file.",
		DryRun:      true,
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "path", Type: schema.String, Required: true, Description: "The SQLite database file; relative paths resolve against the configuration directory."},
			{Name: "busy_timeout", Type: schema.Duration, Default: 5 * time.Second, Description: "How long to wait for a lock held by another writer."},
			{Name: "read_only", Type: schema.Bool, Default: false, Description: "Open the file read-only; erasure is then refused."},
		}},
		New: New,
	}
}

type colType int

const (
	tAny colType = iota
	tInt
	tFloat
	tBool
	tDecimal
	tTime
	tJSON
	tBlob
	tText
)

func typeOf(decl string) colType {
	d := strings.ToUpper(decl)
	switch {
	case strings.Contains(d, "BOOL"):
		return tBool
	case strings.Contains(d, "DECIMAL"), strings.Contains(d, "NUMERIC"):
		return tDecimal
	case strings.Contains(d, "INT"):
		return tInt
	case strings.Contains(d, "REAL"), strings.Contains(d, "FLOA"), strings.Contains(d, "DOUB"):
		return tFloat
	case strings.Contains(d, "DATE"), strings.Contains(d, "TIME"):
		return tTime
	case strings.Contains(d, "JSON"):
		return tJSON
	case strings.Contains(d, "BLOB"):
		return tBlob
	case strings.Contains(d, "CHAR"), strings.Contains(d, "TEXT"), strings.Contains(d, "CLOB"):
		return tText
	}
	return tAny
}

// Conn is one configured SQLite file.
type Conn struct {
	db       *sql.DB
	readOnly bool

	mu     sync.Mutex
	tables map[string]map[string]colType
}

// New opens the file of cfg.
func New(_ context.Context, cfg schema.Config) (connector.Instance, error) {
	path := cfg.String("path")
	if path == "" {
		return nil, fault.AsPermanent(errors.New("path is empty"))
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.Duration("busy_timeout").Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	if cfg.Bool("read_only") {
		q.Set("mode", "ro")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	return &Conn{db: db, readOnly: cfg.Bool("read_only"), tables: map[string]map[string]colType{}}, nil
}

// Test checks that the file opens and answers.
func (c *Conn) Test(ctx context.Context) error {
	var one int
	if err := c.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fault.AsPermanent(fmt.Errorf("query the database: %w", err))
	}
	return nil
}

// Close closes the database; a second Close is harmless.
func (c *Conn) Close(context.Context) error { return c.db.Close() }

// quote quotes an identifier for SQLite.
func quote(id string) (string, error) {
	if id == "" || strings.ContainsRune(id, 0) {
		return "", fault.AsPermanent(fmt.Errorf("invalid identifier %q", id))
	}
	return `"` + strings.ReplaceAll(id, `"`, `""`) + `"`, nil
}

// columns returns the declared columns of table, cached.
func (c *Conn) columns(ctx context.Context, table string) (map[string]colType, error) {
	c.mu.Lock()
	cols, ok := c.tables[table]
	c.mu.Unlock()
	if ok {
		return cols, nil
	}
	qt, err := quote(table)
	if err != nil {
		return nil, err
	}
	rows, err := c.db.QueryContext(ctx, "SELECT name, type FROM pragma_table_info("+sqlString(table)+")")
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", qt, err)
	}
	defer rows.Close()
	cols = map[string]colType{}
	for rows.Next() {
		var name, decl string
		if err := rows.Scan(&name, &decl); err != nil {
			return nil, err
		}
		cols[name] = typeOf(decl)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fault.AsPermanent(fmt.Errorf("table %s does not exist", qt))
	}
	c.mu.Lock()
	c.tables[table] = cols
	c.mu.Unlock()
	return cols, nil
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func column(cols map[string]colType, table string, p connector.Path) (string, error) {
	if len(p) == 0 {
		return "", fault.AsPermanent(errors.New("empty field path"))
	}
	if _, ok := cols[p[0]]; !ok {
		names := make([]string, 0, len(cols))
		for n := range cols {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", fault.AsPermanent(fmt.Errorf("table %q has no column %q (columns: %s)", table, p[0], strings.Join(names, ", ")))
	}
	return p[0], nil
}

// query builds the SELECT of req and its arguments.
func (c *Conn) query(ctx context.Context, req connector.AccessRequest) (string, []any, []string, map[string]colType, error) {
	table := req.Collection.Name
	cols, err := c.columns(ctx, table)
	if err != nil {
		return "", nil, nil, nil, err
	}
	qt, _ := quote(table)
	var sel []string
	var names []string
	seen := map[string]bool{}
	for _, f := range req.Fields {
		col, err := column(cols, table, f)
		if err != nil {
			return "", nil, nil, nil, err
		}
		if seen[col] {
			continue
		}
		seen[col] = true
		q, _ := quote(col)
		sel = append(sel, q)
		names = append(names, col)
	}
	var where []string
	var args []any
	for _, f := range req.Filters {
		col, err := column(cols, table, f.Field)
		if err != nil {
			return "", nil, nil, nil, err
		}
		q, _ := quote(col)
		marks := make([]string, len(f.Values))
		for i, v := range f.Values {
			marks[i] = "?"
			bv, err := bind(v, cols[col])
			if err != nil {
				return "", nil, nil, nil, fault.AsPermanent(fmt.Errorf("filter %s: %w", col, err))
			}
			args = append(args, bv)
		}
		where = append(where, q+" IN ("+strings.Join(marks, ", ")+")")
	}
	sqlText := "SELECT " + strings.Join(sel, ", ") + " FROM " + qt + " WHERE " + strings.Join(where, " OR ")
	if req.Limit > 0 {
		sqlText += " LIMIT " + strconv.FormatInt(req.Limit, 10)
	}
	return sqlText, args, names, cols, nil
}

// DryRun returns the SELECT Access runs, with placeholders.
func (c *Conn) DryRun(ctx context.Context, req connector.AccessRequest) (string, error) {
	q, _, _, _, err := c.query(ctx, req)
	return q, err
}

// Access streams the matching rows.
func (c *Conn) Access(ctx context.Context, req connector.AccessRequest, out connector.RowWriter) error {
	q, args, names, cols, err := c.query(ctx, req)
	if err != nil {
		return err
	}
	rows, err := c.db.QueryContext(ctx, q, args...)
	if err != nil {
		return classify(fmt.Errorf("select from %q: %w", req.Collection.Name, err))
	}
	defer rows.Close()
	raw := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("scan %q: %w", req.Collection.Name, err)
		}
		row := make(connector.Row, len(names))
		for i, n := range names {
			v, err := decode(raw[i], cols[n])
			if err != nil {
				return fault.AsPermanent(fmt.Errorf("column %q of %q: %w", n, req.Collection.Name, err))
			}
			row[n] = v
		}
		if err := out.Write(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return classify(fmt.Errorf("read %q: %w", req.Collection.Name, err))
	}
	return nil
}

// Erase applies the batch in one transaction.
func (c *Conn) Erase(ctx context.Context, req connector.EraseRequest) (int64, error) {
	if c.readOnly {
		return 0, fault.AsPermanent(errors.New("the connection is read_only; erasure is refused"))
	}
	table := req.Collection.Name
	cols, err := c.columns(ctx, table)
	if err != nil {
		return 0, err
	}
	qt, _ := quote(table)
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, classify(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback()
	var total int64
	for i, u := range req.Updates {
		var sets, conds []string
		var args []any
		for _, k := range sortedKeys(u.Set) {
			col, err := column(cols, table, connector.Path{k})
			if err != nil || strings.Contains(k, ".") {
				return 0, fault.AsPermanent(fmt.Errorf("update %d: cannot set %q on %q (SQLite has no nested fields)", i, k, table))
			}
			q, _ := quote(col)
			bv, err := bind(u.Set[k], cols[col])
			if err != nil {
				return 0, fault.AsPermanent(fmt.Errorf("update %d: %s: %w", i, k, err))
			}
			sets = append(sets, q+" = ?")
			args = append(args, bv)
		}
		for _, k := range sortedKeys(u.Key) {
			col, err := column(cols, table, connector.Path{k})
			if err != nil {
				return 0, err
			}
			q, _ := quote(col)
			bv, err := bind(u.Key[k], cols[col])
			if err != nil {
				return 0, fault.AsPermanent(fmt.Errorf("update %d key %s: %w", i, k, err))
			}
			conds = append(conds, q+" = ?")
			args = append(args, bv)
		}
		res, err := tx.ExecContext(ctx, "UPDATE "+qt+" SET "+strings.Join(sets, ", ")+" WHERE "+strings.Join(conds, " AND "), args...)
		if err != nil {
			return 0, classify(fmt.Errorf("update %q: %w", table, err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		total += n
	}
	if err := tx.Commit(); err != nil {
		return 0, classify(fmt.Errorf("commit: %w", err))
	}
	return total, nil
}

func sortedKeys(m connector.Row) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// classify marks lock contention as transient; other errors stay unclassified.
func classify(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked") {
		return fault.AsTransient(err)
	}
	if strings.Contains(msg, "no such table") || strings.Contains(msg, "no such column") || strings.Contains(msg, "readonly") {
		return fault.AsPermanent(err)
	}
	return err
}

// bind converts a Go value to what the driver stores for the column type.
func bind(v any, t colType) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case value.Decimal:
		return string(x), nil
	case value.ObjectID:
		return x.String(), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case map[string]any, []any:
		b, err := json.Marshal(jsonable(x))
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case string:
		if t == tInt {
			// Let SQLite compare an integer column with the number.
			if n, err := strconv.ParseInt(x, 10, 64); err == nil {
				return n, nil
			}
		}
		return x, nil
	}
	return v, nil
}

// jsonable turns value types JSON cannot carry into strings.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = jsonable(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = jsonable(e)
		}
		return l
	case value.Decimal:
		return json.Number(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case value.ObjectID:
		return x.String()
	}
	return v
}

// decode converts what the driver returned to the column's Go type.
func decode(v any, t colType) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case tInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case tFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case tBool:
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
	case tDecimal:
		var d value.Decimal
		switch x := v.(type) {
		case string:
			d = value.Decimal(x)
		case []byte:
			d = value.Decimal(x)
		case int64:
			d = value.Decimal(strconv.FormatInt(x, 10))
		case float64:
			d = value.Decimal(strconv.FormatFloat(x, 'f', -1, 64))
		}
		if d.Valid() {
			return d, nil
		}
	case tTime:
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
				if ts, err := time.Parse(layout, x); err == nil {
					return ts, nil
				}
			}
		}
	case tJSON:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		default:
			return v, nil
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var out any
		if err := dec.Decode(&out); err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		return fromJSON(out), nil
	case tBlob:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case tText:
		if b, ok := v.([]byte); ok {
			return string(b), nil
		}
		return v, nil
	default:
		return v, nil
	}
	return nil, fmt.Errorf("cannot read %T as the column's declared type", v)
}

func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSON(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fromJSON(e)
		}
		return x
	}
	return v
}
