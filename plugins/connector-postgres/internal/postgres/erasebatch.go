package postgres

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
)

// eraseStmt is one statement of an Erase: one update (idx, a plain UPDATE
// whose affected-row count is checked), or several updates of the same
// shape in one UPDATE ... FROM (VALUES ...) ... RETURNING that reports, for
// each row it changed, which update changed it (idxs, by position).
type eraseStmt struct {
	sql  string
	args []any
	idx  int   // the update, for a single statement
	idxs []int // the updates, for a batched one; nil for a single one
}

// maxBatchRows and maxBatchParams bound one batched UPDATE: a row per
// update, far below PostgreSQL's 65,535 bound parameters.
const (
	maxBatchRows   = 1000
	maxBatchParams = 30000
)

// batchable kinds are those whose values a typed VALUES list carries as
// the column's own type.
func batchable(c column) bool {
	switch c.kind {
	case kInt, kFloat, kDecimal, kBool, kTime, kLocalTime, kBytes, kText, kJSON, kJSONB:
		return true
	}
	return false
}

// shapeOf returns the shape of u (its key and set columns, in order) when
// it can share a statement with updates of the same shape: top-level
// columns only, of batchable kinds, keys not NULL.
func shapeOf(cols map[string]column, u connector.RowUpdate) (keys, sets []string, ok bool) {
	keys, sets = slices.Sorted(maps.Keys(u.Key)), slices.Sorted(maps.Keys(u.Set))
	if len(keys) == 0 || len(sets) == 0 {
		return nil, nil, false
	}
	for _, k := range keys {
		c, exists := cols[k]
		if !exists || !batchable(c) || u.Key[k] == nil {
			return nil, nil, false
		}
	}
	for _, k := range sets {
		c, exists := cols[k]
		if !exists || !batchable(c) {
			return nil, nil, false
		}
	}
	return keys, sets, true
}

// eraseStatements turns an Erase's updates into statements: updates of the
// same shape share batched statements, others (nested JSON members, odd
// types) get one UPDATE each. When a key appears twice (the engine sends
// each row once, but a plugin cannot assume it), every update gets its own
// UPDATE, in order, so that the later one wins as it would alone.
func eraseStatements(cols map[string]column, qualified, table string, updates []connector.RowUpdate) ([]eraseStmt, error) {
	type group struct {
		keys, sets []string
		idxs       []int
	}
	var order []string
	groups := map[string]*group{}
	var singles []int
	seen := map[string]bool{}
	repeated := false
	for i, u := range updates {
		var kb strings.Builder
		for _, k := range slices.Sorted(maps.Keys(u.Key)) {
			fmt.Fprintf(&kb, "%q=%T:%v\x00", k, u.Key[k], u.Key[k])
		}
		if seen[kb.String()] {
			repeated = true
		}
		seen[kb.String()] = true
		keys, sets, ok := shapeOf(cols, u)
		if !ok {
			singles = append(singles, i)
			continue
		}
		shape := strings.Join(keys, "\x00") + "\x01" + strings.Join(sets, "\x00")
		g := groups[shape]
		if g == nil {
			g = &group{keys: keys, sets: sets}
			groups[shape] = g
			order = append(order, shape)
		}
		g.idxs = append(g.idxs, i)
	}
	var out []eraseStmt
	one := func(i int) error {
		q, err := buildUpdate(cols, qualified, table, updates[i])
		if err != nil {
			return fmt.Errorf("update %d of %q: %w", i+1, table, err)
		}
		out = append(out, eraseStmt{sql: q.sql, args: q.args, idx: i})
		return nil
	}
	if repeated {
		for i := range updates {
			if err := one(i); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	for _, i := range singles {
		if err := one(i); err != nil {
			return nil, err
		}
	}
	for _, shape := range order {
		g := groups[shape]
		if len(g.idxs) == 1 {
			for _, i := range g.idxs {
				if err := one(i); err != nil {
					return nil, err
				}
			}
			continue
		}
		per := len(g.keys) + len(g.sets) + 1
		step := min(maxBatchRows, maxBatchParams/per)
		for lo := 0; lo < len(g.idxs); lo += step {
			st, err := buildBatchUpdate(cols, qualified, table, g.keys, g.sets, updates, g.idxs[lo:min(lo+step, len(g.idxs))])
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// buildBatchUpdate builds
//
//	UPDATE t SET "a" = v."s0" FROM (VALUES ($1::int4, $2::text, $3::int4), ...)
//	AS v("k0", "s0", "i") WHERE t."id" = v."k0" RETURNING v."i"
//
// for updates idxs, all of shape keys/sets. Text keys compare exactly, as
// in buildUpdate: the column's own comparison lets its index find the row,
// the "C" comparison keeps only identical bytes.
func buildBatchUpdate(cols map[string]column, qualified, table string, keys, sets []string, updates []connector.RowUpdate, idxs []int) (eraseStmt, error) {
	var p params
	casts := make([]string, 0, len(keys)+len(sets))
	for _, k := range append(append([]string(nil), keys...), sets...) {
		t, err := quote(cols[k].udt)
		if err != nil {
			return eraseStmt{}, err
		}
		casts = append(casts, "::"+t)
	}
	rows := make([]string, len(idxs))
	for r, i := range idxs {
		u := updates[i]
		cells := make([]string, 0, len(casts)+1)
		for c, k := range keys {
			bv, err := bind(u.Key[k], cols[k])
			if err != nil {
				return eraseStmt{}, fault.AsPermanent(fmt.Errorf("update %d of %q: key %s: %w", i+1, table, k, err))
			}
			cells = append(cells, p.add(bv)+casts[c])
		}
		for c, k := range sets {
			bv, err := bind(u.Set[k], cols[k])
			if err != nil {
				return eraseStmt{}, fault.AsPermanent(fmt.Errorf("update %d of %q: set %s: %w", i+1, table, k, err))
			}
			cells = append(cells, p.add(bv)+casts[len(keys)+c])
		}
		cells = append(cells, strconv.Itoa(r)+"::int4")
		rows[r] = "(" + strings.Join(cells, ", ") + ")"
	}
	names := make([]string, 0, len(keys)+len(sets)+1)
	var setSQL, conds []string
	for c, k := range keys {
		qc, err := quote(k)
		if err != nil {
			return eraseStmt{}, err
		}
		v := "v.\"k" + strconv.Itoa(c) + "\""
		names = append(names, `"k`+strconv.Itoa(c)+`"`)
		conds = append(conds, "t."+qc+" = "+v)
		if looseText(cols[k]) {
			conds = append(conds, exactText("t."+qc)+" = "+v+"::text")
		}
	}
	for c, k := range sets {
		qc, err := quote(k)
		if err != nil {
			return eraseStmt{}, err
		}
		names = append(names, `"s`+strconv.Itoa(c)+`"`)
		setSQL = append(setSQL, qc+" = v.\"s"+strconv.Itoa(c)+"\"")
	}
	names = append(names, `"i"`)
	sql := "UPDATE " + qualified + " AS t SET " + strings.Join(setSQL, ", ") +
		" FROM (VALUES " + strings.Join(rows, ", ") + ") AS v(" + strings.Join(names, ", ") + ")" +
		" WHERE " + strings.Join(conds, " AND ") + ` RETURNING v."i"`
	return eraseStmt{sql: sql, args: p.args, idxs: idxs}, nil
}
