// Command lethe-connector-jsonfile is an example connector plugin: it serves
// a JSON file as a dataset, each top-level key a collection of rows.
//
//	{
//	  "customers": [{"id": 1, "email": "jane@example.com", "address": {"city": "Lyon"}}],
//	  "orders":    [{"id": 10, "customer_id": 1, "total": 25.5}]
//	}
//
// It is the template docs/plugins.md walks through: copy this directory,
// rename the module and the plugin, and replace the file handling in
// jsonfile.go with calls to your database. jsonfile_test.go runs the SDK's
// conformance suite against it, in process and as a real plugin process.
//
// Lethe does not bundle it: `make build` leaves it out of bin/plugins.
// Build it with `go build -o lethe-connector-jsonfile .` and put the binary
// in the plugin directory.
package main

import (
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/schema"
)

// version is the plugin's own semantic version, reported by Describe and by
// `lethe plugins`. Release builds set it with
// -ldflags "-X main.version=1.2.3".
var version = "0.1.0"

// definition describes the plugin: its name (the binary is
// lethe-connector-<Name>), its version and the schema of a connection's
// `config = {...}`. The SDK validates a config against the schema, applies
// the defaults and only then calls New.
func definition() connector.Definition {
	return connector.Definition{
		Name:        "jsonfile",
		Version:     version,
		Description: "Example connector: a JSON file whose top-level keys are collections of rows.",
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "path", Type: schema.String, Required: true,
				Description: "the JSON file: an object whose keys are collections, each an array of row objects"},
			{Name: "read_only", Type: schema.Bool, Default: false,
				Description: "refuse erasure; access still works"},
		}},
		New: newConn,
	}
}

func main() { connector.Serve(definition()) }
