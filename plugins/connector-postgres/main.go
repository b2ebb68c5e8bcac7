// Command lethe-connector-postgres is Lethe's connector for PostgreSQL.
package main

import (
	"github.com/lethehq/lethe/plugins/connector-postgres/internal/postgres"
	"github.com/lethehq/lethe/sdk/connector"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

func main() { connector.Serve(postgres.Definition(version)) }
