// Command benchconnector is a connector that makes its rows in memory, so
// that benchmarks and tests of the plugin boundary measure the boundary and
// nothing else. Access returns n rows, n being the first filter's first
// value (an int64), each {"id": k, "payload": <size bytes>}; Erase counts
// its updates and the bytes they carry.
package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
)

type inst struct{ payload string }

func (i *inst) Test(context.Context) error { return nil }

func (i *inst) Access(ctx context.Context, req connector.AccessRequest, out connector.RowWriter) error {
	n, ok := req.Filters[0].Values[0].(int64)
	if !ok {
		return fmt.Errorf("the first filter value must be the number of rows, got %T", req.Filters[0].Values[0])
	}
	for k := int64(0); k < n; k++ {
		if err := out.Write(connector.Row{"id": k, "payload": i.payload}); err != nil {
			return err
		}
	}
	return nil
}

// Erase reports the number of updates whose values carry exactly the
// configured payload size, so a test can tell that a batch arrived whole.
func (i *inst) Erase(_ context.Context, req connector.EraseRequest) (connector.EraseResult, error) {
	var n int64
	for _, u := range req.Updates {
		if s, _ := u.Set["payload"].(string); len(s) == len(i.payload) {
			n++
		}
	}
	return connector.EraseResult{Rows: n}, nil
}

func (i *inst) Close(context.Context) error { return nil }

func main() {
	connector.Serve(connector.Definition{
		Name: "bench", Version: "0.0.1",
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "size", Type: schema.Int, Default: int64(1000), Description: "payload bytes per row"},
		}},
		New: func(_ context.Context, cfg schema.Config) (connector.Instance, error) {
			return &inst{payload: strings.Repeat("x", int(cfg.Int("size")))}, nil
		},
	})
}
