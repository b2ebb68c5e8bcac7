package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/value"
)

type unknownColumnError struct {
	table, column string
	known         []string
}

func (e *unknownColumnError) Error() string {
	return fmt.Sprintf("table %q has no column %q (its columns: %s)", e.table, e.column, strings.Join(e.known, ", "))
}

// resolve finds the column of path p. A nested path needs a JSON column;
// its JSON path ($."a"."b") is returned for json_extract / json_replace.
func resolve(cols map[string]colType, table string, p connector.Path) (col string, jsonPath string, err error) {
	if len(p) == 0 {
		return "", "", fault.AsPermanent(errors.New("empty field path"))
	}
	t, ok := cols[p[0]]
	if !ok {
		known := make([]string, 0, len(cols))
		for n := range cols {
			known = append(known, n)
		}
		sort.Strings(known)
		return "", "", fault.AsPermanent(&unknownColumnError{table: table, column: p[0], known: known})
	}
	if len(p) == 1 {
		return p[0], "", nil
	}
	if t != tJSON {
		return "", "", fault.AsPermanent(fmt.Errorf("field %s: column %q of table %q is not declared JSON, so it has no nested fields", p, p[0], table))
	}
	var b strings.Builder
	b.WriteString("$")
	for _, part := range p[1:] {
		if part == "" || strings.ContainsAny(part, "\"\x00") {
			return "", "", fault.AsPermanent(fmt.Errorf("field %s: a JSON member name may not be empty or contain '\"'", p))
		}
		b.WriteString(`."`)
		b.WriteString(part)
		b.WriteString(`"`)
	}
	return p[0], b.String(), nil
}

// selectQuery is the SELECT of an access request, ready to run.
type selectQuery struct {
	sql   string
	args  []any
	names []string  // result columns
	types []colType // their types
}

// buildSelect turns req into one SELECT:
//
//	SELECT "a", "b" FROM "t" WHERE "x" IN (?, ?) OR json_extract("doc", ?) IN (?) LIMIT n
//
// A nested field selects its top-level column.
func buildSelect(cols map[string]colType, req connector.AccessRequest) (selectQuery, error) {
	table := req.Collection.Name
	qt, err := quote(table)
	if err != nil {
		return selectQuery{}, err
	}
	var q selectQuery
	var sel []string
	seen := map[string]bool{}
	for _, f := range req.Fields {
		col, _, err := resolve(cols, table, f[:1])
		if err != nil {
			return selectQuery{}, err
		}
		if seen[col] {
			continue
		}
		seen[col] = true
		qc, err := quote(col)
		if err != nil {
			return selectQuery{}, err
		}
		if cols[col] == tTime {
			// The driver parses a DATE/DATETIME/TIMESTAMP column's text
			// itself and cannot tell "01:00:00" from "01:00:00Z" (both
			// UTC): unary + keeps the value and drops the declared type,
			// so decode sees the text and whether it names a zone.
			qc = "+" + qc + " AS " + qc
		}
		sel = append(sel, qc)
		q.names = append(q.names, col)
		q.types = append(q.types, cols[col])
	}
	if len(sel) == 0 {
		return selectQuery{}, fault.AsPermanent(errors.New("no field requested"))
	}
	if len(req.Filters) == 0 {
		return selectQuery{}, fault.AsPermanent(errors.New("access without a filter would read the whole table"))
	}
	var where []string
	for _, f := range req.Filters {
		col, jsonPath, err := resolve(cols, table, f.Field)
		if err != nil {
			return selectQuery{}, err
		}
		qc, err := quote(col)
		if err != nil {
			return selectQuery{}, err
		}
		expr, t := qc, cols[col]
		if jsonPath != "" {
			expr, t = "json_extract("+qc+", ?)", tAny
			q.args = append(q.args, jsonPath)
		}
		if len(f.Values) == 0 {
			return selectQuery{}, fault.AsPermanent(fmt.Errorf("filter on %s has no values", f.Field))
		}
		values := f.Values
		if t == tTime {
			// A time in no zone is text in SQLite, spelled with a space
			// (its own date functions) or a "T" (ISO 8601): look for both.
			values = nil
			for _, v := range f.Values {
				values = append(values, v)
				if lt, ok := v.(value.LocalTime); ok {
					values = append(values, lt.String())
				}
			}
		}
		marks := make([]string, len(values))
		vals := make([]any, len(values))
		text := false
		for i, v := range values {
			bv, err := bind(v, t)
			if err != nil {
				return selectQuery{}, fault.AsPermanent(fmt.Errorf("filter on %s: %w", f.Field, err))
			}
			marks[i] = "?"
			vals[i] = bv
			_, isText := bv.(string)
			text = text || isText
		}
		list := strings.Join(marks, ", ")
		q.args = append(q.args, vals...)
		if jsonPath == "" && text && (t == tText || t == tAny) {
			// The column's collation (NOCASE, RTRIM) may ignore case or
			// trailing spaces: the IN list in that collation lets SQLite
			// use the column's index, COLLATE BINARY keeps only the exact
			// matches. (json_extract's text compares with BINARY already.)
			where = append(where, "("+expr+" IN ("+list+") AND "+expr+" COLLATE BINARY IN ("+list+"))")
			q.args = append(q.args, vals...)
			continue
		}
		where = append(where, expr+" IN ("+list+")")
	}
	q.sql = "SELECT " + strings.Join(sel, ", ") + " FROM " + qt + " WHERE " + strings.Join(where, " OR ")
	if req.Limit > 0 {
		q.sql += " LIMIT " + strconv.FormatInt(req.Limit, 10)
	}
	return q, nil
}

// DryRun returns the SELECT that Access runs, with placeholders.
func (c *Conn) DryRun(ctx context.Context, req connector.AccessRequest) (string, error) {
	q, err := withColumns(ctx, c, req.Collection.Name, func(cols map[string]colType) (selectQuery, error) {
		return buildSelect(cols, req)
	})
	return q.sql, err
}

// Access streams the matching rows to out, one row at a time: memory stays
// bounded by the SDK's batch, whatever the size of the result.
func (c *Conn) Access(ctx context.Context, req connector.AccessRequest, out connector.RowWriter) error {
	q, err := withColumns(ctx, c, req.Collection.Name, func(cols map[string]colType) (selectQuery, error) {
		return buildSelect(cols, req)
	})
	if err != nil {
		return err
	}
	rows, err := c.db.QueryContext(ctx, q.sql, q.args...)
	if err != nil {
		return classify(fmt.Errorf("select from %q: %w", req.Collection.Name, err))
	}
	defer rows.Close()
	raw := make([]any, len(q.names))
	ptrs := make([]any, len(q.names))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return classify(fmt.Errorf("read a row of %q: %w", req.Collection.Name, err))
		}
		row := make(connector.Row, len(q.names))
		for i, n := range q.names {
			row[n] = decode(raw[i], q.types[i])
		}
		if err := out.Write(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return classify(fmt.Errorf("read %q: %w", req.Collection.Name, err))
	}
	return nil
}

// updateQuery is the UPDATE of one row update.
type updateQuery struct {
	sql  string
	args []any
}

// buildUpdate turns u into
//
//	UPDATE "t" SET "a" = ?, "doc" = json_replace("doc", ?, ?) WHERE "id" = ? AND ...
//
// Nested fields of a JSON column are replaced with json_replace, which
// leaves members that do not exist absent.
func buildUpdate(cols map[string]colType, table string, u connector.RowUpdate) (updateQuery, error) {
	qt, err := quote(table)
	if err != nil {
		return updateQuery{}, err
	}
	var q updateQuery
	var sets []string
	nested := map[string][]string{} // column -> "?, <value expr>" pairs
	var nestedArgs = map[string][]any{}
	var nestedOrder []string
	for _, k := range slices.Sorted(maps.Keys(u.Set)) {
		path := connector.Path{k}
		if _, exact := cols[k]; !exact && strings.Contains(k, ".") {
			path = strings.Split(k, ".")
		}
		col, jsonPath, err := resolve(cols, table, path)
		if err != nil {
			return updateQuery{}, fmt.Errorf("set %s: %w", k, err)
		}
		if jsonPath == "" {
			qc, err := quote(col)
			if err != nil {
				return updateQuery{}, err
			}
			bv, err := bind(u.Set[k], cols[col])
			if err != nil {
				return updateQuery{}, fault.AsPermanent(fmt.Errorf("set %s: %w", k, err))
			}
			sets = append(sets, qc+" = ?")
			q.args = append(q.args, bv)
			continue
		}
		expr, arg, err := jsonArg(u.Set[k])
		if err != nil {
			return updateQuery{}, fault.AsPermanent(fmt.Errorf("set %s: %w", k, err))
		}
		if _, ok := nested[col]; !ok {
			nestedOrder = append(nestedOrder, col)
		}
		nested[col] = append(nested[col], "?, "+expr)
		nestedArgs[col] = append(nestedArgs[col], jsonPath, arg)
	}
	for _, col := range nestedOrder {
		qc, _ := quote(col)
		sets = append(sets, qc+" = json_replace("+qc+", "+strings.Join(nested[col], ", ")+")")
		q.args = append(q.args, nestedArgs[col]...)
	}
	if len(sets) == 0 {
		return updateQuery{}, fault.AsPermanent(errors.New("the update sets no field"))
	}
	var conds []string
	for _, k := range slices.Sorted(maps.Keys(u.Key)) {
		col, jsonPath, err := resolve(cols, table, connector.Path{k})
		if err != nil {
			return updateQuery{}, fmt.Errorf("key %s: %w", k, err)
		}
		if jsonPath != "" {
			return updateQuery{}, fault.AsPermanent(fmt.Errorf("key %s: a key must be a column", k))
		}
		qc, err := quote(col)
		if err != nil {
			return updateQuery{}, err
		}
		bv, err := bind(u.Key[k], cols[col])
		if err != nil {
			return updateQuery{}, fault.AsPermanent(fmt.Errorf("key %s: %w", k, err))
		}
		if _, isText := bv.(string); isText && (cols[col] == tText || cols[col] == tAny) {
			// As in buildSelect: the index finds the row, BINARY decides.
			conds = append(conds, qc+" = ?", qc+" COLLATE BINARY = ?")
			q.args = append(q.args, bv, bv)
			continue
		}
		conds = append(conds, qc+" = ?")
		q.args = append(q.args, bv)
	}
	if len(conds) == 0 {
		return updateQuery{}, fault.AsPermanent(errors.New("the update has no key; erasure updates rows by key only"))
	}
	q.sql = "UPDATE " + qt + " SET " + strings.Join(sets, ", ") + " WHERE " + strings.Join(conds, " AND ")
	return q, nil
}

// Erase applies the batch in one transaction and returns the number of
// rows its updates matched. SQLite counts a row whose values did not change
// too, so a repeated Erase reports the same count. An update whose key
// matches more than one row rolls the whole batch back: the key is not
// unique, and erasing every row it matches could erase someone else's.
func (c *Conn) Erase(ctx context.Context, req connector.EraseRequest) (connector.EraseResult, error) {
	n, err := c.erase(ctx, req)
	return connector.EraseResult{Rows: n}, err
}

// erase is Erase, returning the rows changed.
func (c *Conn) erase(ctx context.Context, req connector.EraseRequest) (int64, error) {
	if c.readOnly {
		return 0, fault.AsPermanent(errors.New("the connection is read_only, so erasure is refused; set read_only = false to allow it"))
	}
	table := req.Collection.Name
	queries, err := withColumns(ctx, c, table, func(cols map[string]colType) ([]updateQuery, error) {
		out := make([]updateQuery, len(req.Updates))
		for i, u := range req.Updates {
			q, err := buildUpdate(cols, table, u)
			if err != nil {
				return nil, fmt.Errorf("update %d of %q: %w", i+1, table, err)
			}
			out[i] = q
		}
		return out, nil
	})
	if err != nil {
		return 0, err
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, classify(fmt.Errorf("begin a transaction on %q: %w", table, err))
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{} // updates of one batch mostly share their SQL
	var total int64
	for i, q := range queries {
		stmt, ok := stmts[q.sql]
		if !ok {
			if stmt, err = tx.PrepareContext(ctx, q.sql); err != nil {
				return 0, classify(fmt.Errorf("update %d of %q: %w", i+1, table, err))
			}
			defer stmt.Close()
			stmts[q.sql] = stmt
		}
		res, err := stmt.ExecContext(ctx, q.args...)
		if err != nil {
			return 0, classify(fmt.Errorf("update %d of %q: %w", i+1, table, err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("update %d of %q: %w", i+1, table, err)
		}
		if n > 1 {
			// The deferred Rollback undoes the batch.
			return 0, notUniqueError(table, i+1, req.Updates[i].Key, n)
		}
		total += n
	}
	if err := tx.Commit(); err != nil {
		return 0, classify(fmt.Errorf("commit the updates of %q: %w", table, err))
	}
	return total, nil
}

// jsonArg returns how a value is passed to json_replace: SQL text, numbers
// and NULL become JSON strings, numbers and null; booleans, maps and lists
// go through json().
func jsonArg(v any) (string, any, error) {
	switch x := v.(type) {
	case nil, int64, float64, string:
		return "?", x, nil
	case bool:
		if x {
			return "json(?)", "true", nil
		}
		return "json(?)", "false", nil
	case []byte:
		return "", nil, errors.New("bytes cannot be stored inside a JSON document")
	case value.Decimal:
		return "?", string(x), nil
	case map[string]any, []any:
		s, err := jsonText(x)
		return "json(?)", s, err
	}
	bv, err := bind(v, tAny)
	return "?", bv, err
}

// notUniqueError says that update i's key matched n rows. It names the key
// fields, never their values.
func notUniqueError(table string, i int, key connector.Row, n int64) error {
	return fault.AsPermanent(fmt.Errorf("update %d of %q: its key (%s) matched %d rows, so it is not unique; "+
		"the batch was rolled back and nothing in it was changed. Declare a unique key for this collection in the dataset "+
		"(its primary key, or columns that together identify one row)", i, table, strings.Join(slices.Sorted(maps.Keys(key)), ", "), n))
}
