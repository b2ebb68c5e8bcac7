package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/value"
)

// TestTimesWithAndWithoutZone (issue 15): time text without an offset
// comes back as a value.LocalTime, never as UTC; text with an offset (or
// Z) as the instant with its offset. The driver alone cannot tell them
// apart (it reads both as UTC), so Access selects time columns unparsed.
// A LocalTime bound back finds its row, and an erasure can write one.
func TestTimesWithAndWithoutZone(t *testing.T) {
	path := newDB(t, "t.db",
		`CREATE TABLE events (id INTEGER PRIMARY KEY, at DATETIME, day DATE)`,
		`INSERT INTO events VALUES (1, '2021-01-01 01:00:00', '2021-01-02'), (2, '2021-01-01T01:00:00Z', NULL),
			(3, '2021-01-01T01:00:00+05:30', NULL), (4, '2021-01-01T01:00:00', NULL)`)
	c := open(t, path, nil)
	coll := connector.Collection{Name: "events"}
	fields := []connector.Path{{"id"}, {"at"}, {"day"}}
	rows := access(t, c, connector.AccessRequest{Collection: coll, Fields: fields,
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1), int64(2), int64(3)}}}})
	if len(rows) != 3 {
		t.Fatalf("rows %v", rows)
	}
	byID := map[int64]connector.Row{}
	for _, r := range rows {
		byID[r["id"].(int64)] = r
	}
	if got, want := byID[1]["at"], value.Local(time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC)); got != want {
		t.Errorf("text without a zone: %#v, want %#v", got, want)
	}
	if got, want := byID[1]["day"], value.Local(time.Date(2021, 1, 2, 0, 0, 0, 0, time.UTC)); got != want {
		t.Errorf("a date: %#v, want %#v", got, want)
	}
	if got, ok := byID[2]["at"].(time.Time); !ok || !got.Equal(time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("text with Z: %#v, want the instant", byID[2]["at"])
	}
	if got, ok := byID[3]["at"].(time.Time); !ok || got.Format(time.RFC3339) != "2021-01-01T01:00:00+05:30" {
		t.Errorf("text with an offset: %#v, want it with its offset", byID[3]["at"])
	}

	naive := value.Local(time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC))
	rows = access(t, c, connector.AccessRequest{Collection: coll, Fields: fields,
		Filters: []connector.Filter{{Field: connector.Path{"at"}, Values: []any{naive}}}})
	ids := map[any]bool{}
	for _, r := range rows {
		ids[r["id"]] = true
	}
	if len(rows) != 2 || !ids[int64(1)] || !ids[int64(4)] {
		t.Errorf("filter by a LocalTime finds %v, want rows 1 and 4 (both spellings, not the instants)", rows)
	}
	later := value.Local(time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC))
	res, err := c.Erase(context.Background(), connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(2)}, Set: connector.Row{"at": later}}}})
	if err != nil || res.Rows != 1 {
		t.Fatalf("erase: %v %v", res, err)
	}
	rows = access(t, c, connector.AccessRequest{Collection: coll, Fields: fields,
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(2)}}}})
	if len(rows) != 1 || rows[0]["at"] != later {
		t.Fatalf("after writing %s: %v", later, rows)
	}
}
