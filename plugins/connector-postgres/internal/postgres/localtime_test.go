package postgres

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

// TestTimesWithAndWithoutZone (issue 15): a timestamp without time zone
// (and a date) comes back as a value.LocalTime with the wall clock the
// column holds, whatever the session's time zone; a timestamptz comes back
// as the instant it is. A LocalTime bound back finds its row, and an
// erasure can write one.
func TestTimesWithAndWithoutZone(t *testing.T) {
	c, _ := open(t, `SET TIME ZONE 'Asia/Kolkata';
		CREATE TABLE events (id INT PRIMARY KEY, naive TIMESTAMP, day DATE, aware TIMESTAMPTZ);
		INSERT INTO events VALUES (1, '2021-01-01 01:00:00', '2021-01-02', '2021-01-01 01:00:00+00'),
		                          (2, '2021-01-01 01:00:00.5', NULL, NULL)`, schema.Config{})
	ctx := context.Background()
	coll := connector.Collection{Name: "events"}
	fields := []connector.Path{{"id"}, {"naive"}, {"day"}, {"aware"}}
	naive := value.Local(time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC))
	var rows collect
	if err := c.Access(ctx, connector.AccessRequest{Collection: coll, Fields: fields,
		Filters: []connector.Filter{{Field: connector.Path{"naive"}, Values: []any{naive}}}}, &rows); err != nil {
		t.Fatal(err)
	}
	want := connector.Row{"id": int64(1), "naive": naive, "day": value.Local(time.Date(2021, 1, 2, 0, 0, 0, 0, time.UTC)),
		"aware": time.Date(2021, 1, 1, 1, 0, 0, 0, time.UTC)}
	if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("rows %#v\nwant %#v", rows, want)
	}
	if s := rows[0]["naive"].(value.LocalTime).String(); s != "2021-01-01T01:00:00" {
		t.Errorf("naive prints %q, want 2021-01-01T01:00:00", s)
	}

	later := value.Local(time.Date(1999, 12, 31, 23, 59, 59, 123456000, time.UTC))
	res, err := c.Erase(ctx, connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(2)}, Set: connector.Row{"naive": later}}}})
	if err != nil || res.Rows != 1 {
		t.Fatalf("erase: %v %v", res, err)
	}
	rows = nil
	if err := c.Access(ctx, connector.AccessRequest{Collection: coll, Fields: fields,
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(2)}}}}, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0]["naive"] != later {
		t.Fatalf("after writing %s: %#v", later, rows)
	}
}
