# Quick start: one embedded SQLite database, results on the local disk, state
# in bbolt. No database server and no secret needed.
#
# Relative paths in this directory are resolved against the directory Lethe
# is started from, not against this file: run it from the repository root,
# as `make quickstart` does (bin/lethe validate configs/quickstart).

server {
  listen     = "127.0.0.1:8080"
  state_dir  = "./data/quickstart" # bbolt file and the keys generated in dev mode
  plugin_dir = "./bin/plugins"     # where `make build` puts the bundled plugins
}

# The shop database, created from sample-data.sql beside this file:
#   sqlite3 data/quickstart/shop.db < configs/quickstart/sample-data.sql
connection "quickstart_db" {
  plugin = "sqlite"
  access = "write" # erasure requests update this database
  config = {
    path = "./data/quickstart/shop.db"
  }
}

# Access packages land in ./data/quickstart/results, one JSON file per
# request and rule.
storage "local" {
  plugin = "local"
  format = "json"
  config = {
    dir = "./data/quickstart/results"
  }
}
