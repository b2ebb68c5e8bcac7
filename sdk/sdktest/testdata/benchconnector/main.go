// Command benchconnector is a connector that makes rows in memory, so the
// benchmarks measure the plugin boundary and nothing else. Access returns
// `rows` rows (the first filter value, an int64) of `size` bytes each.
package main

import (
	"context"
	"strings"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
)

type inst struct{ payload string }

func (i *inst) Test(context.Context) error { return nil }

func (i *inst) Access(ctx context.Context, req connector.AccessRequest, out connector.RowWriter) error {
	n, _ := req.Filters[0].Values[0].(int64)
	for k := int64(0); k < n; k++ {
		if err := out.Write(connector.Row{"id": k, "payload": i.payload}); err != nil {
			return err
		}
	}
	return nil
}

func (i *inst) Erase(_ context.Context, req connector.EraseRequest) (int64, error) {
	return int64(len(req.Updates)), nil
}

func (i *inst) Close(context.Context) error { return nil }

func main() {
	connector.Serve(connector.Definition{
		Name: "bench", Version: "0.0.1",
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "size", Type: schema.Int, Default: int64(1000)},
		}},
		New: func(_ context.Context, cfg schema.Config) (connector.Instance, error) {
			return &inst{payload: strings.Repeat("x", int(cfg.Int("size")))}, nil
		},
	})
}
