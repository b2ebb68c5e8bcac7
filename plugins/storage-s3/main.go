// Command lethe-storage-s3 is Lethe's storage plugin for Amazon S3 and
// S3-compatible servers such as MinIO.
package main

import (
	"github.com/lethehq/lethe/plugins/storage-s3/internal/s3store"
	"github.com/lethehq/lethe/sdk/storage"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

func main() { storage.Serve(s3store.Definition(version)) }
