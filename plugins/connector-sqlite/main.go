// Command lethe-connector-sqlite is Lethe's connector for SQLite files, the
// embedded quick-start database.
package main

import (
	"github.com/lethehq/lethe/plugins/connector-sqlite/internal/sqlite"
	"github.com/lethehq/lethe/sdk/connector"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

func main() { connector.Serve(sqlite.Definition(version)) }
