// Command sink is a storage fixture that reads each upload to the end and
// reports where it "landed". With crash_on set it crashes its process on
// that upload (counted per process) after reading the first chunk.
package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/storage"
)

var uploads atomic.Int64

func main() {
	storage.Serve(storage.Definition{
		Name:    "sink",
		Version: "2.0.0",
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "prefix", Type: schema.String, Required: true},
			{Name: "crash_on", Type: schema.Int, Default: int64(0)},
		}},
		New: func(_ context.Context, cfg schema.Config) (storage.Store, error) {
			return &store{prefix: cfg.String("prefix"), crashOn: cfg.Int("crash_on")}, nil
		},
	})
}

type store struct {
	prefix  string
	crashOn int64
}

func (s *store) Test(context.Context) error { return nil }

func (s *store) Upload(_ context.Context, obj storage.Object, r io.Reader) (storage.Result, error) {
	n := uploads.Add(1)
	if n == s.crashOn {
		buf := make([]byte, 1)
		_, _ = io.ReadFull(r, buf)
		go panic(fmt.Sprintf("sink fixture crash on upload %d", n))
		time.Sleep(time.Minute)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return storage.Result{}, err
	}
	return storage.Result{Location: s.prefix + "/" + obj.Key}, nil
}

func (s *store) Close(context.Context) error { return nil }
