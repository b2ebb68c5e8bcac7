// Command lethe-connector-mongodb is Lethe's connector for MongoDB and the
// servers that speak its wire protocol, such as FerretDB.
package main

import (
	"github.com/lethehq/lethe/plugins/connector-mongodb/internal/mongodb"
	"github.com/lethehq/lethe/sdk/connector"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

func main() { connector.Serve(mongodb.Definition(version)) }
