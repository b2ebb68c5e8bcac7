// Package connector is what a connector plugin's author writes against: a
// Definition with a constructor, an Instance with four methods, and one
// Serve call in main. gRPC and go-plugin stay hidden.
//
//	func main() {
//		connector.Serve(connector.Definition{
//			Name:    "acme",
//			Version: "1.0.0",
//			Config:  schema.Schema{Attributes: []schema.Attribute{{Name: "dsn", Type: schema.String, Required: true, Sensitive: true}}},
//			New:     acme.New,
//		})
//	}
//
// Core owns the graph, policies, masking and retries. An instance only
// executes: "return these fields of rows whose field is in these values" and
// "set these fields on the rows with these keys".
//
// Errors name columns and codes, not values. As a net under that rule, the
// SDK removes the values of a call (its filter values, an erasure's keys
// and values) from the text of the errors and panics the call returns
// before they leave the plugin (see package redact), and the host does so
// again. Values an instance logs itself are redacted by the host only while
// it remembers the call; do not log them.
package connector
