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
