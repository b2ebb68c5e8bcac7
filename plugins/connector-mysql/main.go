// Command lethe-connector-mysql is Lethe's connector for MySQL and MariaDB.
package main

import (
	"github.com/lethehq/lethe/plugins/connector-mysql/internal/mysql"
	"github.com/lethehq/lethe/sdk/connector"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

func main() { connector.Serve(mysql.Definition(version)) }
