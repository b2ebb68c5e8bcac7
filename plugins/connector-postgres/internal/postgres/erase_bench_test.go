package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
)

// BenchmarkEraseVsFloor erases 10,000 rows (an e-mail and a name each, by
// primary key, in batches of 500 as the engine sends them) through the
// connector, and the same updates issued directly with pgx in the fastest
// plain form, one UPDATE ... FROM (VALUES ...) per batch, in the same run.
// Reported: both times and their ratio.
func BenchmarkEraseVsFloor(b *testing.B) {
	const rows, batch = 10000, 500
	c, dsn := open(b, `CREATE TABLE people (id INT PRIMARY KEY, email TEXT, name TEXT);
		INSERT INTO people SELECT g, 'p' || g || '@example.com', 'Person ' || g FROM generate_series(1, 10000) g`, schema.Config{})
	conn := pgtestConnect(b, dsn)
	ctx := context.Background()
	var engineT, floorT time.Duration
	for i := range b.N {
		mask := fmt.Sprintf("m%d", i)
		start := time.Now()
		for lo := 1; lo <= rows; lo += batch {
			ups := make([]connector.RowUpdate, 0, batch)
			for id := lo; id < lo+batch; id++ {
				ups = append(ups, connector.RowUpdate{Key: connector.Row{"id": int64(id)}, Set: connector.Row{"email": mask, "name": nil}})
			}
			res, err := c.Erase(ctx, connector.EraseRequest{Collection: connector.Collection{Name: "people"}, Updates: ups})
			if err != nil || res.Rows != batch {
				b.Fatalf("erase: %v %v", res, err)
			}
		}
		engineT += time.Since(start)

		mask = fmt.Sprintf("f%d", i)
		start = time.Now()
		for lo := 1; lo <= rows; lo += batch {
			var vals []string
			args := []any{}
			for id := lo; id < lo+batch; id++ {
				n := len(args)
				vals = append(vals, "($"+strconv.Itoa(n+1)+"::int4, $"+strconv.Itoa(n+2)+"::text, $"+strconv.Itoa(n+3)+"::text)")
				args = append(args, id, mask, nil)
			}
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				tag, err := tx.Exec(ctx, `UPDATE people AS t SET email = v.email, name = v.name FROM (VALUES `+strings.Join(vals, ", ")+`) AS v(id, email, name) WHERE t.id = v.id`, args...)
				if err == nil && tag.RowsAffected() != batch {
					err = fmt.Errorf("%d rows", tag.RowsAffected())
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		floorT += time.Since(start)
	}
	b.ReportMetric(float64(engineT.Milliseconds())/float64(b.N), "engine-ms")
	b.ReportMetric(float64(floorT.Milliseconds())/float64(b.N), "floor-ms")
	b.ReportMetric(float64(engineT)/float64(floorT), "x-floor")
}

func pgtestConnect(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
