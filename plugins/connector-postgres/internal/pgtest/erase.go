package pgtest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lethehq/lethe/sdk/connector"
)

// The erasure benchmark: EraseRows people rows (an e-mail and a name each)
// erased by primary key in batches of EraseBatchSize, as the engine sends
// them.
const (
	EraseRows      = 10000
	EraseBatchSize = 500
	EraseTableDDL  = `CREATE TABLE people (id INT PRIMARY KEY, email TEXT, name TEXT);
		INSERT INTO people SELECT g, 'p' || g || '@example.com', 'Person ' || g FROM generate_series(1, 10000) g`
)

// BenchErase runs the erasure benchmark b.N times through erase (the
// connector, in process or through its plugin process) and through the
// floor: the same updates issued directly with pgx on conn, as one UPDATE
// ... FROM (VALUES ...) per batch, in the same run. It reports both times
// and their ratio.
func BenchErase(b *testing.B, conn *pgx.Conn, erase func(context.Context, connector.EraseRequest) (connector.EraseResult, error)) {
	ctx := context.Background()
	var engineT, floorT time.Duration
	for i := range b.N {
		mask := fmt.Sprintf("m%d", i)
		start := time.Now()
		for lo := 1; lo <= EraseRows; lo += EraseBatchSize {
			ups := make([]connector.RowUpdate, 0, EraseBatchSize)
			for id := lo; id < lo+EraseBatchSize; id++ {
				ups = append(ups, connector.RowUpdate{Key: connector.Row{"id": int64(id)}, Set: connector.Row{"email": mask, "name": nil}})
			}
			res, err := erase(ctx, connector.EraseRequest{Collection: connector.Collection{Name: "people"}, Updates: ups})
			if err != nil || res.Rows != EraseBatchSize {
				b.Fatalf("erase: %v %v", res, err)
			}
		}
		engineT += time.Since(start)

		mask = fmt.Sprintf("f%d", i)
		start = time.Now()
		for lo := 1; lo <= EraseRows; lo += EraseBatchSize {
			var vals []string
			args := []any{}
			for id := lo; id < lo+EraseBatchSize; id++ {
				n := len(args)
				vals = append(vals, "($"+strconv.Itoa(n+1)+"::int4, $"+strconv.Itoa(n+2)+"::text, $"+strconv.Itoa(n+3)+"::text)")
				args = append(args, id, mask, nil)
			}
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				tag, err := tx.Exec(ctx, `UPDATE people AS t SET email = v.email, name = v.name FROM (VALUES `+strings.Join(vals, ", ")+`) AS v(id, email, name) WHERE t.id = v.id`, args...)
				if err == nil && tag.RowsAffected() != EraseBatchSize {
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
