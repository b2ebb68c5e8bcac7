server {
  listen      = "127.0.0.1:8080"
  state_dir   = "./data"              # bbolt file, generated keys (0600) when none are given
  plugin_dir  = "./bin/plugins"
  encryption_key = env("LETHE_ENCRYPTION_KEY")   # 32 bytes, base64; optional in dev (generated)
  max_parallel_nodes = 8              # across a request
}

auth {
  root_client_id     = "lethe-root"
  root_client_secret = env("LETHE_ROOT_SECRET")
  token_ttl          = "1h"
}

drp {
  api_base   = "https://privacy.example.com/api/v1/drp"
  jwt_secret = env("LETHE_DRP_JWT_SECRET")    # default HS256 key for identity tokens
  callback_hosts = ["agent.example.org"]      # status_callback targets allowed

  agent "consumer_reports" {                  # an authorized agent
    token      = env("CR_AGENT_TOKEN")         # bearer token it presents
    jwt_secret = env("CR_AGENT_JWT_SECRET")    # HS256 key for its identity tokens
  }
}

plugin "connector-acme" {             # optional: pin a third-party plugin
  path   = "/opt/lethe/plugins/lethe-connector-acme"
  sha256 = "9f2c000000000000000000000000000000000000000000000000000000000000"
}

connection "app_db" {
  plugin      = "postgres"            # -> lethe-connector-postgres
  access      = "write"               # read | write; erasure on read connections is refused per node
  max_parallel = 4
  config = {                          # validated against the schema the plugin describes
    dsn = env("APP_DB_DSN")
  }
}

storage "results" {
  plugin = "s3"                       # -> lethe-storage-s3
  format = "json"                     # json | csv (zip of one CSV per collection)
  config = {
    bucket   = "dsr-results"
    endpoint = env("S3_ENDPOINT")
    region   = "us-east-1"
  }
}

dataset "app" {
  connection = "app_db"
  after      = ["billing"]            # every collection of app waits for all of billing

  collection "customer" {
    field "id" {
      categories  = ["user.unique_id"]
      primary_key = true
      type        = "integer"
    }
    field "email" {
      categories = ["user.contact.email"]
      identity   = "email"            # entry point, seeded from the request's identity "email"
      type       = "string"
    }
    field "name" {
      categories = ["user.name"]
      type       = "string"
      length     = 40                 # masked strings are truncated to this length
    }
    field "address_id" {
      categories = ["system.operations"]
      reference "app.address.id" {
        direction = "to"              # to: my values find rows there; from: their values find rows here;
      }                               # omitted: either way, oriented by whichever side is reached first
    }
  }

  collection "orders" {
    after       = ["app.login"]       # a real dependency
    erase_after = ["app.order_item"]  # erasure ordering
    field "customer_id" {
      categories = ["user.unique_id"]
      reference "app.customer.id" { direction = "from" }
    }
  }
}

dataset "mongo_app" {
  connection = "mongo"
  collection "customer_details" {
    field "_id" {
      type        = "object_id"
      primary_key = true
    }
    field "customer_id" {
      reference "app.customer.id" { direction = "from" }
    }
    field "workplace_info" {          # nested document
      field "employer" { categories = ["user.workplace"] }
      field "direct_reports" {
        type       = "string[]"       # array of strings
        categories = ["user.name"]
      }
    }
    field "emergency_contacts" {
      type = "object[]"
      field "email" { categories = ["user.contact.email"] }
      return_all_elements = true      # array entry point: keep/mask the whole array, not only matches
    }
  }
}

policy "access" {
  drp_action        = "access"        # one policy per DRP action
  execution_timeframe = "45d"         # due date = received + timeframe
  rule "user_data" {
    action  = "access"
    targets = ["user"]
    storage = "results"
  }
}

policy "erasure" {
  drp_action = "deletion"
  rule "contact_and_name" {
    action  = "erasure"
    targets = ["user.contact", "user.name"]
    masking {                         # one or more masking blocks, applied in order
      strategy  = "hmac"              # null_rewrite | string_rewrite | random_string_rewrite | hash | hmac | aes_encrypt
      algorithm = "SHA-256"
    }
  }
}

data_category "user.loyalty_points" {  # extend the default taxonomy
  parent      = "user"
  description = "Loyalty program balance"
}
