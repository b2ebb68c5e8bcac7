# The quick-start shop (SQLite), with access packages uploaded to an
# S3-compatible bucket as a zip of one CSV file per collection. Works with
# AWS S3 or a local MinIO. Needs LETHE_S3_ENDPOINT (for example
# http://127.0.0.1:9000 for MinIO), LETHE_S3_ACCESS_KEY_ID and
# LETHE_S3_SECRET_ACCESS_KEY. Plugins never see the host's environment
# (core/pluginhost passes only PATH, HOME and the like): credentials reach
# the plugin through its config, over the plugin connection. To use the
# default AWS chain instead (an instance role, ~/.aws/credentials, or a web
# identity token on Kubernetes), remove the two key attributes and let the
# plugin see the AWS variables it needs:
#
#   plugin "storage-s3" {
#     env = ["AWS_*"]
#   }
#
# See configs/README.md for a run against MinIO.
#
# Relative paths are resolved against this directory, wherever Lethe is
# started from (plugins run with it as their working directory).

server {
  listen     = "127.0.0.1:8080"
  state_dir  = "../../data/s3"
  plugin_dir = "../../bin/plugins"
}

# The quick start's database (configs/quickstart/main.hcl says how to create it).
connection "shop_db" {
  plugin = "sqlite"
  access = "write"
  config = {
    path = "../../data/quickstart/shop.db"
  }
}

storage "results" {
  plugin = "s3"
  format = "csv"
  config = {
    bucket     = "lethe-results"
    region     = "us-east-1"
    endpoint   = env("LETHE_S3_ENDPOINT")
    path_style = true # MinIO and most S3-compatible servers need path-style URLs
    access_key_id     = env("LETHE_S3_ACCESS_KEY_ID")
    secret_access_key = env("LETHE_S3_SECRET_ACCESS_KEY")
  }
}
