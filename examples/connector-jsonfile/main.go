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
