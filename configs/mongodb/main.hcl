# A customer-relationship database in MongoDB: nested documents, arrays of
# strings and arrays of objects. Results on the local disk.
#
# Needs LETHE_MONGO_URI: a MongoDB connection string such as
# mongodb://127.0.0.1:27017 (no authentication, as the FerretDB that
# `make test` starts) or mongodb://lethe:secret@db.internal:27017/?authSource=admin.
# The user needs find on the collections of database lethe_crm, and update
# for erasure. sample-data.json holds documents for every collection
# (Extended JSON, one key per collection), with jane@example.com as the
# data subject; load them (again, to undo an erasure) from the repository's
# root with
#
#   go run configs/mongodb/load-sample-data.go
#
# then run, after `make build`:
#
#   bin/lethe validate configs/mongodb
#   bin/lethe run configs/mongodb --policy access  --identity email=jane@example.com
#   bin/lethe run configs/mongodb --policy erasure --identity email=jane@example.com
#
# Without server.encryption_key, a development key for the state store is
# generated in data/mongodb (with a warning); set
# encryption_key = env("LETHE_ENCRYPTION_KEY") in production.
#
# Relative paths are resolved against this directory, wherever Lethe is
# started from (plugins run with it as their working directory).

server {
  listen     = "127.0.0.1:8080"
  state_dir  = "../../data/mongodb"
  plugin_dir = "../../bin/plugins"
}

connection "crm_mongo" {
  plugin       = "mongodb"
  access       = "write"
  max_parallel = 4
  config = {
    uri      = env("LETHE_MONGO_URI")
    database = "lethe_crm"
  }
}

storage "local" {
  plugin = "local"
  format = "json"
  config = {
    dir = "../../data/mongodb/results"
  }
}
