package execute

import (
	"context"
	"reflect"
	"testing"

	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/sdk/connector"
)

// The help desk: staff handle tickets that customers open. A ticket's
// assignee is a member of staff, but the ticket is the requester's: the
// reference from tickets to staff is shared.
const helpdeskHCL = `
dataset "desk" {
  connection = "db"
  collection "staff" {
    field "id" {
      type        = "integer"
      primary_key = true
      categories  = ["user.unique_id"]
    }
    field "email" {
      type       = "string"
      identity   = "email"
      categories = ["user.contact.email"]
    }
  }
  collection "tickets" {
    field "id" {
      type        = "integer"
      primary_key = true
      categories  = ["system.operations"]
    }
    field "requester" {
      type       = "string"
      identity   = "email"
      categories = ["user.contact.email"]
    }
    field "body" {
      type       = "string"
      categories = ["user.content.private"]
    }
    # Not personal data of the ticket's requester; in a shared row it holds
    # the assignee's id (staff.id, user.unique_id), so her package shows it.
    field "assignee_id" {
      type       = "integer"
      categories = ["system.operations"]
      reference "desk.staff.id" {
        direction = "from"
        shared    = true
      }
    }
  }
  # Notes hang off tickets: reached through a shared ticket, they would be
  # another person's.
  collection "notes" {
    field "id" {
      type        = "integer"
      primary_key = true
      categories  = ["system.operations"]
    }
    field "ticket_id" {
      type       = "integer"
      categories = ["system.operations"]
      reference "desk.tickets.id" {
        direction = "from"
      }
    }
    field "text" {
      type       = "string"
      categories = ["user.content.private"]
    }
  }
}
`

func helpdeskDB() *memDB {
	db := newMemDB()
	db.tables["staff"] = []connector.Row{
		{"id": int64(1), "email": "carol@example.com"},
		{"id": int64(2), "email": "dave@example.com"},
	}
	db.tables["tickets"] = []connector.Row{
		{"id": int64(1), "requester": "jane@example.com", "body": "jane's", "assignee_id": int64(1)},
		{"id": int64(2), "requester": "bob@example.com", "body": "bob's", "assignee_id": int64(2)},
		{"id": int64(3), "requester": "alice@example.com", "body": "alice's", "assignee_id": int64(1)},
		// Carol opened a ticket that she handles herself: it is hers.
		{"id": int64(4), "requester": "carol@example.com", "body": "carol's", "assignee_id": int64(1)},
	}
	db.tables["notes"] = []connector.Row{
		{"id": int64(10), "ticket_id": int64(1), "text": "about jane"},
		{"id": int64(30), "ticket_id": int64(3), "text": "about alice"},
		{"id": int64(40), "ticket_id": int64(4), "text": "about carol"},
	}
	return db
}

const helpdeskPolicies = `
policy "access" {
  rule "all" {
    action  = "access"
    targets = ["user"]
    storage = "mem"
  }
}
policy "erase" {
  rule "all" {
    action  = "access"
    targets = ["user"]
    storage = "mem"
  }
  rule "private" {
    action  = "erasure"
    targets = ["user.content.private", "user.contact.email"]
    masking {
      strategy = "null_rewrite"
    }
  }
}
`

func TestSharedReferences(t *testing.T) {
	cases := []struct {
		name    string
		email   string
		pkg     map[string][]map[string]any
		counts  map[string]store.NodeCounts
		changed map[string][]int64 // rows erasure changes, by table: ids
	}{{
		// Carol is the assignee of tickets 1 and 3: her package shows that
		// she is (the pointing field), not their text or requesters; their
		// notes are not reached; erasure leaves them alone.
		name:  "assignee",
		email: "carol@example.com",
		pkg: map[string][]map[string]any{
			"desk:staff": {{"id": 1.0, "email": "carol@example.com"}},
			"desk:tickets": {
				{"assignee_id": 1.0},
				{"assignee_id": 1.0},
				{"requester": "carol@example.com", "body": "carol's"},
			},
			"desk:notes": {{"text": "about carol"}},
		},
		counts: map[string]store.NodeCounts{
			"desk.staff":   {Found: 1},
			"desk.tickets": {Found: 3, Shared: 2},
			"desk.notes":   {Found: 1},
		},
		changed: map[string][]int64{"staff": {1}, "tickets": {4}, "notes": {40}},
	}, {
		// Jane is a requester and no member of staff: nothing shared.
		name:  "requester",
		email: "jane@example.com",
		pkg: map[string][]map[string]any{
			"desk:tickets": {{"requester": "jane@example.com", "body": "jane's"}},
			"desk:notes":   {{"text": "about jane"}},
		},
		counts: map[string]store.NodeCounts{
			"desk.staff":   {},
			"desk.tickets": {Found: 1},
			"desk.notes":   {Found: 1},
		},
		changed: map[string][]int64{"tickets": {1}, "notes": {10}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"main.hcl": mainHCL, "desk.hcl": helpdeskHCL, "policies.hcl": helpdeskPolicies}
			// Access.
			e := newEnv(t, helpdeskDB(), files)
			eng := e.engine(t, nil)
			id := e.submit(t, eng, "access", map[string]string{"email": tc.email})
			req, err := eng.Run(context.Background(), id)
			if err != nil || req.Status != store.StatusComplete {
				t.Fatalf("run: %v (%v)", err, req)
			}
			got := decodePackage(t, e.mem.get(id+"/all.json"))
			for k, v := range got {
				if len(v) == 0 {
					delete(got, k)
				}
			}
			if !reflect.DeepEqual(got, tc.pkg) {
				t.Errorf("package:\n got %v\nwant %v", got, tc.pkg)
			}
			if !reflect.DeepEqual(req.Counts, tc.counts) {
				t.Errorf("counts %v, want %v", req.Counts, tc.counts)
			}
			// Shared inputs add no query: one per collection.
			if got := e.db.calls.Load(); got != 3 {
				t.Errorf("%d Access calls, want 3 (one per collection)", got)
			}

			// Erasure: only the subject's rows change.
			e = newEnv(t, helpdeskDB(), files)
			eng = e.engine(t, nil)
			before := e.db.snapshot()
			id = e.submit(t, eng, "erase", map[string]string{"email": tc.email})
			req, err = eng.Run(context.Background(), id)
			if err != nil || req.Status != store.StatusComplete {
				t.Fatalf("erase: %v (%v)", err, req)
			}
			after := e.db.snapshot()
			changed := map[string][]int64{}
			for table, rows := range before {
				for i, row := range rows {
					if !reflect.DeepEqual(row, after[table][i]) {
						changed[table] = append(changed[table], row["id"].(int64))
					}
				}
			}
			if !reflect.DeepEqual(changed, tc.changed) {
				t.Errorf("erasure changed %v, want %v", changed, tc.changed)
			}
			shared := map[string]int64{}
			evs, err := e.st.Events(context.Background(), id, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.Type == store.EventRowsShared {
					shared[string(ev.Phase)+" "+ev.Node] = ev.Rows
				}
			}
			want := map[string]int64{}
			if n := tc.counts["desk.tickets"].Shared; n > 0 {
				want = map[string]int64{"access desk.tickets": n, "erasure desk.tickets": n}
			}
			if !reflect.DeepEqual(shared, want) {
				t.Errorf("rows_shared events %v, want %v", shared, want)
			}
		})
	}
}

func TestSharedView(t *testing.T) {
	cases := []struct {
		name string
		row  connector.Row
		want connector.Row
	}{
		{"top-level field", connector.Row{"id": int64(1), "body": "x", "assignee_id": int64(7), sharedKey: []any{"assignee_id"}},
			connector.Row{"assignee_id": int64(7)}},
		{"nested field", connector.Row{"meta": map[string]any{"agent": "a1", "note": "x"}, "body": "y", sharedKey: []any{"meta.agent"}},
			connector.Row{"meta": map[string]any{"agent": "a1"}}},
		{"through an array", connector.Row{"people": []any{map[string]any{"ref": int64(1), "name": "x"}, map[string]any{"ref": int64(2), "name": "y"}}, sharedKey: []any{"people.ref"}},
			connector.Row{"people": []any{map[string]any{"ref": int64(1)}, map[string]any{"ref": int64(2)}}}},
		{"two pointing fields", connector.Row{"a": int64(1), "b": int64(2), "c": int64(3), sharedKey: []any{"a", "b"}},
			connector.Row{"a": int64(1), "b": int64(2)}},
		{"no pointing field matched", connector.Row{"a": int64(1), sharedKey: []any{}}, connector.Row{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := sharedView(tc.row); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
