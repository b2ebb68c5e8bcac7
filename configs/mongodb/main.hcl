# A customer-relationship database in MongoDB: nested documents, arrays of
# strings and arrays of objects. Results on the local disk. Needs
# LETHE_MONGO_URI, for example mongodb://127.0.0.1:27017. sample-data.json
# holds documents for every collection (Extended JSON, one key per
# collection), with jane@example.com as the data subject.
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
