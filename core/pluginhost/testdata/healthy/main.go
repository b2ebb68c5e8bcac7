// Command healthy is a well-behaved connector fixture for the pluginhost
// tests. Collections:
//
//	users  the rows of a small table whose filter matches, with the
//	       instance's label
//	env    one row: the names of the environment variables it sees
//	pid    one row: its process id
//	leaky  no row: logs an error quoting the filter value, as a plugin
//	       that logs its database's errors would, and fails with it
//
// Every start writes "<executable>.ran", so tests can prove that a refused
// binary was never executed.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
)

var users = []connector.Row{
	{"id": int64(1), "email": "ada@example.com"},
	{"id": int64(2), "email": "bob@example.com"},
	{"id": int64(3), "email": "cy@example.com"},
}

func main() {
	if exe, err := os.Executable(); err == nil {
		_ = os.WriteFile(exe+".ran", []byte("ran\n"), 0o600)
	}
	// Built before Serve, so it keeps the real stderr the host reads.
	logger := hclog.New(&hclog.LoggerOptions{Name: "fixture", Output: os.Stderr, JSONFormat: true, Level: hclog.Info})
	connector.Serve(connector.Definition{
		Name:    "healthy",
		Version: "1.2.3",
		DryRun:  true,
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "label", Type: schema.String, Required: true},
			{Name: "token", Type: schema.String, Sensitive: true},
		}},
		New: func(_ context.Context, cfg schema.Config) (connector.Instance, error) {
			logger.Info("fixture instance created", "label", cfg.String("label"))
			return &instance{label: cfg.String("label"), logger: logger}, nil
		},
	})
}

type instance struct {
	label  string
	logger hclog.Logger
}

func (i *instance) Test(context.Context) error { return nil }

func (i *instance) Access(_ context.Context, req connector.AccessRequest, out connector.RowWriter) error {
	switch req.Collection.Name {
	case "env":
		var names []any
		env := os.Environ()
		sort.Strings(env)
		for _, kv := range env {
			name, _, _ := strings.Cut(kv, "=")
			names = append(names, name)
		}
		return out.Write(connector.Row{"names": names})
	case "pid":
		return out.Write(connector.Row{"pid": int64(os.Getpid()), "label": i.label})
	case "leaky":
		err := fmt.Errorf(`invalid input syntax for type uuid: "%v"`, req.Filters[0].Values[0])
		i.logger.Error("query failed "+fmt.Sprint(req.Filters[0].Values[0]), "error", err)
		return err
	case "users":
		for _, u := range users {
			if matches(u, req.Filters) {
				row := connector.Row{"label": i.label}
				for _, f := range req.Fields {
					row[f[0]] = u[f[0]]
				}
				if err := out.Write(row); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return fmt.Errorf("no collection %q", req.Collection.Name)
}

func matches(row connector.Row, filters []connector.Filter) bool {
	for _, f := range filters {
		for _, v := range f.Values {
			if row[f.Field[0]] == v {
				return true
			}
		}
	}
	return false
}

func (i *instance) Erase(_ context.Context, req connector.EraseRequest) (connector.EraseResult, error) {
	return connector.EraseResult{Rows: int64(len(req.Updates))}, nil
}

func (i *instance) DryRun(_ context.Context, req connector.AccessRequest) (string, error) {
	return fmt.Sprintf("SELECT ... FROM %s -- %s", req.Collection.Name, i.label), nil
}

func (i *instance) Close(context.Context) error { return nil }
