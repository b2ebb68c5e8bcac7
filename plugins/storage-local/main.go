// Command lethe-storage-local is Lethe's storage plugin for a local directory.
package main

import (
	"github.com/lethehq/lethe/plugins/storage-local/internal/local"
	"github.com/lethehq/lethe/sdk/storage"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

func main() { storage.Serve(local.Definition(version)) }
