package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
)

type unknownColumnError struct {
	table, column string
	known         []string
}

func (e *unknownColumnError) Error() string {
	return fmt.Sprintf("table %q has no column %q (its columns: %s)", e.table, e.column, strings.Join(e.known, ", "))
}

// resolve finds the column of path p. A nested path needs a json or jsonb
// column; the members below it are returned as a text[] path.
func resolve(cols map[string]column, table string, p connector.Path) (col string, members []string, err error) {
	if len(p) == 0 {
		return "", nil, fault.AsPermanent(errors.New("empty field path"))
	}
	c, ok := cols[p[0]]
	if !ok {
		known := make([]string, 0, len(cols))
		for n := range cols {
			known = append(known, n)
		}
		sort.Strings(known)
		return "", nil, fault.AsPermanent(&unknownColumnError{table: table, column: p[0], known: known})
	}
	if len(p) == 1 {
		return p[0], nil, nil
	}
	if c.kind != kJSON && c.kind != kJSONB {
		return "", nil, fault.AsPermanent(fmt.Errorf("field %s: column %q of table %q is %s, not json or jsonb, so it has no nested fields", p, p[0], table, c.udt))
	}
	for _, m := range p[1:] {
		if m == "" || strings.ContainsRune(m, 0) {
			return "", nil, fault.AsPermanent(fmt.Errorf("field %s: a JSON member name may not be empty or contain NUL", p))
		}
	}
	return p[0], p[1:], nil
}

// params numbers the placeholders of one statement.
type params struct{ args []any }

func (p *params) add(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

// selectQuery is the SELECT of an access request, ready to run.
type selectQuery struct {
	sql   string
	args  []any
	names []string // result columns
	cols  []column
}

// buildSelect turns req into one SELECT:
//
//	SELECT "a", "b" FROM "s"."t" WHERE "x" IN ($1, $2) OR "doc" #>> $3 IN ($4) LIMIT n
//
// A nested field selects its top-level column.
func buildSelect(cols map[string]column, qualified, table string, req connector.AccessRequest) (selectQuery, error) {
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
		sel = append(sel, qc)
		q.names = append(q.names, col)
		q.cols = append(q.cols, cols[col])
	}
	if len(sel) == 0 {
		return selectQuery{}, fault.AsPermanent(errors.New("no field requested"))
	}
	if len(req.Filters) == 0 {
		return selectQuery{}, fault.AsPermanent(errors.New("access without a filter would read the whole table"))
	}
	var p params
	var where []string
	for _, f := range req.Filters {
		col, members, err := resolve(cols, table, f.Field)
		if err != nil {
			return selectQuery{}, err
		}
		if len(f.Values) == 0 {
			return selectQuery{}, fault.AsPermanent(fmt.Errorf("filter on %s has no values", f.Field))
		}
		qc, err := quote(col)
		if err != nil {
			return selectQuery{}, err
		}
		expr, target := qc, cols[col]
		if members != nil {
			expr = "(" + qc + " #>> " + p.add(members) + ")"
			target = column{kind: kText, udt: "text"}
		}
		vals := make([]any, len(f.Values))
		marks := make([]string, len(f.Values))
		for i, v := range f.Values {
			if members != nil {
				v = jsonScalarText(v)
			}
			bv, err := bind(v, target)
			if err != nil {
				return selectQuery{}, fault.AsPermanent(fmt.Errorf("filter on %s: %w", f.Field, err))
			}
			vals[i] = bv
			marks[i] = p.add(bv)
		}
		in := expr + " IN (" + strings.Join(marks, ", ") + ")"
		if members == nil && looseText(target) {
			// The column may compare loosely (a nondeterministic
			// collation, citext, char(n) padding): the IN list in its own
			// collation lets the server use its index, the comparison in
			// "C" keeps only the exact matches.
			exact := make([]string, len(vals))
			for i, v := range vals {
				exact[i] = p.add(v) + "::text"
			}
			in = "(" + in + " AND " + exactText(qc) + " IN (" + strings.Join(exact, ", ") + "))"
		}
		where = append(where, in)
	}
	q.sql = "SELECT " + strings.Join(sel, ", ") + " FROM " + qualified + " WHERE " + strings.Join(where, " OR ")
	if req.Limit > 0 {
		q.sql += " LIMIT " + strconv.FormatInt(req.Limit, 10)
	}
	q.args = p.args
	return q, nil
}

// looseText tells whether a column holds text that may compare loosely:
// text, varchar, char(n), citext and name (a domain over them reports its
// base type). uuid is text to the connector but a value to the server.
func looseText(c column) bool {
	return c.kind == kText && c.udt != "uuid"
}

// exactText is column qc as text in the "C" collation, which compares
// byte for byte: the cast drops citext's case folding and char(n)'s
// padding, COLLATE "C" overrides a nondeterministic collation.
func exactText(qc string) string {
	return qc + `::text COLLATE "C"`
}

// jsonScalarText is how #>> prints a JSON scalar, to compare with v.
func jsonScalarText(v any) any {
	switch x := v.(type) {
	case nil, string:
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	if s, err := jsonText(v); err == nil {
		return s
	}
	return fmt.Sprint(v)
}

func (c *Conn) selectFor(ctx context.Context, req connector.AccessRequest) (selectQuery, error) {
	qualified, err := c.table(req.Collection.Name)
	if err != nil {
		return selectQuery{}, err
	}
	return withColumns(ctx, c, req.Collection.Name, func(cols map[string]column) (selectQuery, error) {
		return buildSelect(cols, qualified, req.Collection.Name, req)
	})
}

// DryRun returns the SELECT that Access runs, with placeholders.
func (c *Conn) DryRun(ctx context.Context, req connector.AccessRequest) (string, error) {
	q, err := c.selectFor(ctx, req)
	return q.sql, err
}

// Access streams the matching rows to out, one row at a time: memory stays
// bounded by the SDK's batch, whatever the size of the result.
func (c *Conn) Access(ctx context.Context, req connector.AccessRequest, out connector.RowWriter) error {
	q, err := c.selectFor(ctx, req)
	if err != nil {
		return err
	}
	rows, err := c.pool.Query(ctx, q.sql, q.args...)
	if err != nil {
		return classify(fmt.Errorf("select from %q: %w", req.Collection.Name, err))
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return classify(fmt.Errorf("read a row of %q: %w", req.Collection.Name, err))
		}
		row := make(connector.Row, len(q.names))
		for i, n := range q.names {
			row[n] = decode(vals[i], q.cols[i])
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
//	UPDATE "s"."t" SET "a" = $1, "doc" = jsonb_set("doc", $2, $3::jsonb, false) WHERE "id" = $4 AND ...
//
// jsonb_set with create_missing false leaves absent members absent. A
// json (not jsonb) column goes through jsonb and back.
func buildUpdate(cols map[string]column, qualified, table string, u connector.RowUpdate) (updateQuery, error) {
	var p params
	var sets []string
	nested := map[string]string{} // column -> expression so far
	var nestedOrder []string
	for _, k := range slices.Sorted(maps.Keys(u.Set)) {
		path := connector.Path{k}
		if _, exact := cols[k]; !exact && strings.Contains(k, ".") {
			path = strings.Split(k, ".")
		}
		col, members, err := resolve(cols, table, path)
		if err != nil {
			return updateQuery{}, fmt.Errorf("set %s: %w", k, err)
		}
		qc, err := quote(col)
		if err != nil {
			return updateQuery{}, err
		}
		if members == nil {
			bv, err := bind(u.Set[k], cols[col])
			if err != nil {
				return updateQuery{}, fault.AsPermanent(fmt.Errorf("set %s: %w", k, err))
			}
			sets = append(sets, qc+" = "+p.add(bv))
			continue
		}
		doc, err := jsonText(u.Set[k])
		if err != nil {
			return updateQuery{}, fault.AsPermanent(fmt.Errorf("set %s: %w", k, err))
		}
		expr, ok := nested[col]
		if !ok {
			nestedOrder = append(nestedOrder, col)
			expr = qc
			if cols[col].kind == kJSON {
				expr = qc + "::jsonb"
			}
		}
		nested[col] = "jsonb_set(" + expr + ", " + p.add(members) + "::text[], " + p.add(doc) + "::jsonb, false)"
	}
	for _, col := range nestedOrder {
		qc, _ := quote(col)
		expr := nested[col]
		if cols[col].kind == kJSON {
			expr += "::json"
		}
		sets = append(sets, qc+" = "+expr)
	}
	if len(sets) == 0 {
		return updateQuery{}, fault.AsPermanent(errors.New("the update sets no field"))
	}
	var conds []string
	for _, k := range slices.Sorted(maps.Keys(u.Key)) {
		col, members, err := resolve(cols, table, connector.Path{k})
		if err != nil {
			return updateQuery{}, fmt.Errorf("key %s: %w", k, err)
		}
		if members != nil {
			return updateQuery{}, fault.AsPermanent(fmt.Errorf("key %s: a key must be a column", k))
		}
		qc, err := quote(col)
		if err != nil {
			return updateQuery{}, err
		}
		if u.Key[k] == nil {
			return updateQuery{}, fault.AsPermanent(fmt.Errorf("key %s is NULL; a row is updated by a non-null key", k))
		}
		bv, err := bind(u.Key[k], cols[col])
		if err != nil {
			return updateQuery{}, fault.AsPermanent(fmt.Errorf("key %s: %w", k, err))
		}
		if looseText(cols[col]) {
			// As in buildSelect: the index finds the row, "C" decides.
			conds = append(conds, qc+" = "+p.add(bv), exactText(qc)+" = "+p.add(bv)+"::text")
			continue
		}
		conds = append(conds, qc+" = "+p.add(bv))
	}
	if len(conds) == 0 {
		return updateQuery{}, fault.AsPermanent(errors.New("the update has no key; erasure updates rows by key only"))
	}
	return updateQuery{
		sql:  "UPDATE " + qualified + " SET " + strings.Join(sets, ", ") + " WHERE " + strings.Join(conds, " AND "),
		args: p.args,
	}, nil
}

// Erase applies the batch in one transaction, sent as one pipeline, and
// returns the number of rows its updates matched. PostgreSQL counts a row
// whose values did not change too, so a repeated Erase reports the same
// count. An update whose key matches more than one row rolls the whole
// batch back: the key is not unique, and erasing every row it matches
// could erase someone else's.
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
	qualified, err := c.table(table)
	if err != nil {
		return 0, err
	}
	stmts, err := withColumns(ctx, c, table, func(cols map[string]column) ([]eraseStmt, error) {
		return eraseStatements(cols, qualified, table, req.Updates)
	})
	if err != nil || len(stmts) == 0 {
		return 0, err
	}
	var total int64
	err = pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, s := range stmts {
			b.Queue(s.sql, s.args...)
		}
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		for _, s := range stmts {
			if s.idxs == nil {
				tag, err := br.Exec()
				if err != nil {
					return fmt.Errorf("update %d of %q: %w", s.idx+1, table, err)
				}
				if n := tag.RowsAffected(); n > 1 {
					// Returning an error rolls the transaction back.
					return notUniqueError(table, s.idx+1, req.Updates[s.idx].Key, n)
				}
				total += tag.RowsAffected()
				continue
			}
			rows, err := br.Query()
			if err != nil {
				return fmt.Errorf("updates %d to %d of %q: %w", s.idxs[0]+1, s.idxs[len(s.idxs)-1]+1, table, err)
			}
			hits := make([]int64, len(s.idxs))
			for rows.Next() {
				var r int32
				if err := rows.Scan(&r); err != nil {
					rows.Close()
					return fmt.Errorf("updates of %q: %w", table, err)
				}
				if r >= 0 && int(r) < len(hits) {
					hits[r]++
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("updates %d to %d of %q: %w", s.idxs[0]+1, s.idxs[len(s.idxs)-1]+1, table, err)
			}
			for r, n := range hits {
				if n > 1 {
					i := s.idxs[r]
					return notUniqueError(table, i+1, req.Updates[i].Key, n)
				}
				total += n
			}
		}
		return br.Close()
	})
	if err != nil {
		return 0, classify(fmt.Errorf("erase in %q: %w", table, err))
	}
	return total, nil
}

// notUniqueError says that update i's key matched n rows. It names the key
// fields, never their values.
func notUniqueError(table string, i int, key connector.Row, n int64) error {
	return fault.AsPermanent(fmt.Errorf("update %d of %q: its key (%s) matched %d rows, so it is not unique; "+
		"the batch was rolled back and nothing in it was changed. Declare a unique key for this collection in the dataset "+
		"(its primary key, or columns that together identify one row)", i, table, strings.Join(slices.Sorted(maps.Keys(key)), ", "), n))
}
