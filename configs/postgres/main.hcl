# The shop in PostgreSQL, results on the local disk, with the API secured
# as in production: the root client secret and the DRP key come from the
# environment. Needs LETHE_PG_DSN, LETHE_ROOT_SECRET, LETHE_DRP_JWT_SECRET
# and LETHE_ENCRYPTION_KEY (32 bytes, base64).
#
# Relative paths are resolved against this directory, wherever Lethe is
# started from (plugins run with it as their working directory).

server {
  listen             = "127.0.0.1:8080"
  state_dir          = "../../data/postgres"
  plugin_dir         = "../../bin/plugins"
  encryption_key     = env("LETHE_ENCRYPTION_KEY")
  max_parallel_nodes = 8
}

auth {
  root_client_id     = "lethe-root"
  root_client_secret = env("LETHE_ROOT_SECRET")
  token_ttl          = "1h"
}

drp {
  api_base   = "http://127.0.0.1:8080/api/v1/drp"
  jwt_secret = env("LETHE_DRP_JWT_SECRET")
}

# For example: postgres://lethe:secret@127.0.0.1:5432/shop?sslmode=disable
connection "shop_db" {
  plugin       = "postgres"
  access       = "write"
  max_parallel = 4
  config = {
    dsn = env("LETHE_PG_DSN")
  }
}

storage "local" {
  plugin = "local"
  format = "json"
  config = {
    dir = "../../data/postgres/results"
  }
}
