package mysql

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

// TestTimesWithAndWithoutZone (issue 15): DATETIME and DATE come back as
// value.LocalTime (the wall clock the column holds), TIMESTAMP as the
// instant it is (the session runs in UTC). A LocalTime bound back finds
// its row, and an erasure can write one.
func TestTimesWithAndWithoutZone(t *testing.T) {
	c, _ := openTest(t, "CREATE TABLE events (id INT PRIMARY KEY, naive DATETIME(6), day DATE, aware TIMESTAMP(6) NULL);"+
		"SET time_zone = '+00:00';"+
		"INSERT INTO events VALUES (1, '2021-01-01 01:00:00', '2021-01-02', '2021-01-01 01:00:00'), (2, '2021-01-01 01:00:00.5', NULL, NULL)", schema.Config{})
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
