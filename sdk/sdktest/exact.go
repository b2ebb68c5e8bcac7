package sdktest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/lethehq/lethe/sdk/connector"
)

// exactRow is a row of the exact-matching checks: its email and the
// spellings of it that must not match it.
type exactRow struct {
	id       int64
	email    string
	variants map[string]string // what differs -> the other spelling
}

// exactRows are stored values and spellings that a case-, accent-, width-
// or pad-insensitive comparison, or one that equates Unicode normal forms,
// would take for them. Only the exact bytes may match.
var exactRows = []exactRow{
	{1, "jane@example.com", map[string]string{
		"upper case":               "JANE@EXAMPLE.COM",
		"capital initial":          "Jane@example.com",
		"accent":                   "jane@exämple.com",
		"trailing space":           "jane@example.com ",
		"case, accent and space":   "JANE@EXÄMPLE.COM ",
		"full-width letters":       "ｊａｎｅ@example.com",
		"full-width commercial at": "jane＠example.com",
		"leading space":            " jane@example.com",
	}},
	{2, "jos\u00e9@example.com", map[string]string{ // NFC
		"NFD of an NFC value": "jose\u0301@example.com",
		"no accent":           "jose@example.com",
	}},
	{3, "rene\u0301e@example.com", map[string]string{ // NFD
		"NFC of an NFD value": "ren\u00e9e@example.com",
	}},
	{4, "Mixed.Case@Example.com", map[string]string{
		"lower case": "mixed.case@example.com",
	}},
	{5, "pad@example.com ", map[string]string{
		"without the stored trailing space": "pad@example.com",
	}},
	{6, "ｗｉｄｅ@example.com", map[string]string{
		"half-width of a full-width value": "wide@example.com",
	}},
	{7, "straße@example.com", map[string]string{
		"ss for ß": "strasse@example.com",
	}},
}

// runExactMatch checks that filters and erase keys compare strings
// exactly, on the conformance collection and on every loose collection.
func (fx ConnectorFixture) runExactMatch(t *testing.T, ctxFor func(*testing.T) context.Context,
	access func(context.Context, *testing.T, connector.AccessRequest) []connector.Row,
	erase func(context.Context, connector.EraseRequest) (int64, error)) {
	type target struct {
		name  string
		reset func(t testing.TB, rows []connector.Row) connector.Collection
		seed  func() []connector.Row
	}
	full := func() []connector.Row {
		rows := make([]connector.Row, len(exactRows))
		for i, e := range exactRows {
			rows[i] = fx.row(e.id, fmt.Sprintf("name %d", e.id))
			rows[i]["email"] = e.email
		}
		return rows
	}
	small := func() []connector.Row {
		rows := make([]connector.Row, len(exactRows))
		for i, e := range exactRows {
			rows[i] = connector.Row{"id": e.id, "email": e.email, "name": fmt.Sprintf("name %d", e.id)}
		}
		return rows
	}
	targets := []target{{name: "conformance collection", seed: full, reset: func(t testing.TB, rows []connector.Row) connector.Collection {
		fx.Reset(t, rows)
		return fx.Collection
	}}}
	names := make([]string, 0, len(fx.Loose))
	for n := range fx.Loose {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		targets = append(targets, target{name: n, seed: small, reset: fx.Loose[n]})
	}
	fields := []connector.Path{{"id"}, {"email"}, {"name"}}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			ctx := ctxFor(t)
			seed := tg.seed()
			coll := tg.reset(t, seed)
			byEmail := func(t *testing.T, vals ...any) []int64 {
				t.Helper()
				return ids(access(ctx, t, connector.AccessRequest{Collection: coll, Fields: fields,
					Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: vals}}}))
			}
			var all []any
			for _, e := range exactRows {
				if got := byEmail(t, e.email); !slices.Equal(got, []int64{e.id}) {
					t.Errorf("the exact value of row %d matched ids %v, want [%d]", e.id, got, e.id)
				}
				for what, v := range e.variants {
					all = append(all, v)
					if got := byEmail(t, v); len(got) > 0 {
						t.Errorf("%s (%+q) of row %d's %+q matched ids %v; want none: identities match exactly", what, v, e.id, e.email, got)
					}
				}
			}
			// Every spelling at once, with one exact value.
			if got := byEmail(t, append(all, exactRows[0].email)...); !slices.Equal(got, []int64{exactRows[0].id}) {
				t.Errorf("an IN list of every variant and one exact value matched ids %v, want [%d]", got, exactRows[0].id)
			}

			// Erase keys compare exactly too.
			var updates []connector.RowUpdate
			for _, e := range exactRows {
				for _, v := range e.variants {
					updates = append(updates,
						connector.RowUpdate{Key: connector.Row{"email": v}, Set: connector.Row{"name": "wrongly erased"}},
						connector.RowUpdate{Key: connector.Row{"id": e.id, "email": v}, Set: connector.Row{"name": "wrongly erased"}})
				}
			}
			n, err := erase(ctx, connector.EraseRequest{RequestID: "conformance", Collection: coll, Updates: updates})
			if err != nil || n != 0 {
				t.Errorf("Erase by keys that differ from every row's: %d rows affected, %v; want 0 and no error", n, err)
			}
			var idVals []any
			for _, e := range exactRows {
				idVals = append(idVals, e.id)
			}
			got := access(ctx, t, connector.AccessRequest{Collection: coll, Fields: fields,
				Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: idVals}}})
			if len(got) != len(seed) {
				t.Fatalf("after the Erase: %d rows, want %d", len(got), len(seed))
			}
			for i, r := range got {
				if r["name"] != seed[i]["name"] || r["email"] != seed[i]["email"] {
					t.Errorf("row %v was changed by an Erase whose keys differ from its own: name %q", r["id"], r["name"])
				}
			}
			n, err = erase(ctx, connector.EraseRequest{RequestID: "conformance", Collection: coll, Updates: []connector.RowUpdate{
				{Key: connector.Row{"email": exactRows[1].email}, Set: connector.Row{"name": "erased"}},
			}})
			if err != nil || n != 1 {
				t.Errorf("Erase by the exact value: %d rows affected, %v; want 1", n, err)
			}
			got = access(ctx, t, connector.AccessRequest{Collection: coll, Fields: fields,
				Filters: []connector.Filter{{Field: connector.Path{"name"}, Values: []any{"erased"}}}})
			if !slices.Equal(ids(got), []int64{exactRows[1].id}) {
				t.Errorf("Erase by the exact value changed ids %v, want [%d]", ids(got), exactRows[1].id)
			}
		})
	}
}
