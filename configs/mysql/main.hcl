# The shop in MySQL or MariaDB (one connector serves both), results on the
# local disk. Needs LETHE_MYSQL_DSN, in the Go MySQL driver's form:
#   lethe:secret@tcp(127.0.0.1:3306)/shop
#
# Relative paths are resolved against this directory, wherever Lethe is
# started from (plugins run with it as their working directory).

server {
  listen     = "127.0.0.1:8080"
  state_dir  = "../../data/mysql"
  plugin_dir = "../../bin/plugins"
}

connection "shop_db" {
  plugin       = "mysql"
  access       = "write"
  max_parallel = 4
  config = {
    dsn = env("LETHE_MYSQL_DSN")
  }
}

storage "local" {
  plugin = "local"
  format = "json"
  config = {
    dir = "../../data/mysql/results"
  }
}
