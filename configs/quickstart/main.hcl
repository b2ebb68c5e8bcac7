# Quick start: one embedded SQLite database, results on the local disk, state
# in bbolt. No database server and no secret needed.
#
# Relative paths are resolved against this directory (configs/quickstart),
# wherever Lethe is started from: core resolves state_dir and plugin_dir, and
# plugins run with this directory as their working directory, so the
# connection's `path` and the storage's `dir` resolve the same way.

server {
  listen     = "127.0.0.1:8080"
  state_dir  = "../../data/quickstart" # bbolt file and the keys generated in dev mode
  plugin_dir = "../../bin/plugins"     # where `make build` puts the bundled plugins
}

# The shop database, created from sample-data.sql beside this file:
#   make quickstart (run from the repository root) loads sample-data.sql into it
connection "quickstart_db" {
  plugin = "sqlite"
  access = "write" # erasure requests update this database
  config = {
    path = "../../data/quickstart/shop.db"
  }
}

# Access packages land in ./data/quickstart/results, one JSON file per
# request and rule.
storage "local" {
  plugin = "local"
  format = "json"
  config = {
    dir = "../../data/quickstart/results"
  }
}
