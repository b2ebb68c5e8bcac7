// Command crashy is a connector fixture that crashes its process on the
// crash_on-th Access, Erase or Test call it serves (counted per process, so
// a restarted process serves the retried call). Collections:
//
//	pid      one row: its process id and the instance's label
//	partial  600 rows (more than one batch), then a crash
package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
)

var calls atomic.Int64

func main() {
	connector.Serve(connector.Definition{
		Name:    "crashy",
		Version: "0.0.1",
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "label", Type: schema.String, Required: true},
			{Name: "crash_on", Type: schema.Int, Default: int64(0)},
		}},
		New: func(_ context.Context, cfg schema.Config) (connector.Instance, error) {
			return &instance{label: cfg.String("label"), crashOn: cfg.Int("crash_on")}, nil
		},
	})
}

type instance struct {
	label   string
	crashOn int64
}

// count crashes the process when this is the crash_on-th call.
func (i *instance) count() {
	n := calls.Add(1)
	if n == i.crashOn {
		crash(n)
	}
}

// crash panics outside the RPC's recover, which kills the process.
func crash(n int64) {
	go panic(fmt.Sprintf("fixture crash on call %d", n))
	time.Sleep(time.Minute)
}

func (i *instance) Test(context.Context) error { i.count(); return nil }

func (i *instance) Access(_ context.Context, req connector.AccessRequest, out connector.RowWriter) error {
	i.count()
	switch req.Collection.Name {
	case "pid":
		return out.Write(connector.Row{"pid": int64(os.Getpid()), "label": i.label})
	case "partial":
		for n := range 600 {
			if err := out.Write(connector.Row{"n": int64(n)}); err != nil {
				return err
			}
		}
		// The first batch of 500 is sent; give gRPC time to flush it
		// before the process dies with the rest.
		time.Sleep(300 * time.Millisecond)
		crash(-1)
	}
	return fmt.Errorf("no collection %q", req.Collection.Name)
}

func (i *instance) Erase(_ context.Context, req connector.EraseRequest) (connector.EraseResult, error) {
	i.count()
	return connector.EraseResult{Rows: int64(len(req.Updates))}, nil
}

func (i *instance) Close(context.Context) error { return nil }
