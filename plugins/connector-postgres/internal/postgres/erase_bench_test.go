package postgres

import (
	"testing"

	"github.com/lethehq/lethe/plugins/connector-postgres/internal/pgtest"
	"github.com/lethehq/lethe/sdk/schema"
)

// BenchmarkEraseVsFloor: the erasure benchmark (pgtest.BenchErase) with the
// connector in process.
func BenchmarkEraseVsFloor(b *testing.B) {
	c, dsn := open(b, pgtest.EraseTableDDL, schema.Config{})
	pgtest.BenchErase(b, pgtest.Connect(b, dsn), c.Erase)
}
