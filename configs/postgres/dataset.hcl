# The shop of the quick start (configs/quickstart/dataset.hcl, where every
# collection and reference is explained), served by PostgreSQL. Load the
# tables with: psql "$LETHE_PG_DSN" -f configs/quickstart/sample-data.sql

dataset "shop" {
  connection  = "shop_db"
  description = "Example web shop"

  collection "customers" {
    # Mask a customer last, after the rows that point at them.
    erase_after = ["shop.orders", "shop.payment_cards", "shop.logins"]

    field "id" {
      type        = "integer"
      categories  = ["user.unique_id"]
      primary_key = true
    }
    field "email" {
      type       = "string"
      categories = ["user.contact.email"]
      identity   = "email"
    }
    field "name" {
      type       = "string"
      categories = ["user.name"]
      length     = 40 # the column is VARCHAR(40): masked values are cut to fit
    }
    field "phone" {
      type       = "string"
      categories = ["user.contact.phone_number"]
      identity   = "phone_number"
      length     = 40 # VARCHAR(40): an HMAC (64 hex digits) is cut to fit
    }
    field "address_id" {
      type       = "integer"
      categories = ["system.operations"]
      reference "shop.addresses.id" {
        direction = "to"
      }
    }
    field "created_at" {
      type       = "string"
      categories = ["system.operations"]
    }
  }

  collection "addresses" {
    field "id" {
      type        = "integer"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "street" {
      type       = "string"
      categories = ["user.contact.address.street"]
    }
    field "city" {
      type       = "string"
      categories = ["user.contact.address.city"]
    }
    field "state" {
      type       = "string"
      categories = ["user.contact.address.state"]
    }
    field "postal_code" {
      type       = "string"
      categories = ["user.contact.address.postal_code"]
    }
    field "country" {
      type       = "string"
      categories = ["user.contact.address.country"]
    }
  }

  collection "orders" {
    # Items go before the order they belong to.
    erase_after = ["shop.order_items"]

    field "id" {
      type        = "integer"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "customer_id" {
      type       = "integer"
      categories = ["user.unique_id"]
      reference "shop.customers.id" {
        direction = "from"
      }
    }
    field "shipping_address_id" {
      type       = "integer"
      categories = ["system.operations"]
      reference "shop.addresses.id" {
        direction = "to"
      }
    }
    field "placed_at" {
      type       = "string"
      categories = ["user.behavior.purchase_history"]
    }
    field "status" {
      type       = "string"
      categories = ["system.operations"]
    }
    field "total" {
      type       = "float"
      categories = ["user.behavior.purchase_history"]
    }
  }

  collection "order_items" {
    field "id" {
      type        = "integer"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "order_id" {
      type       = "integer"
      categories = ["system.operations"]
      reference "shop.orders.id" {
        direction = "from"
      }
    }
    field "product_id" {
      type       = "integer"
      categories = ["user.behavior.purchase_history"]
      reference "shop.products.id" {
        direction = "to"
      }
    }
    field "quantity" {
      type       = "integer"
      categories = ["user.behavior.purchase_history"]
    }
    field "unit_price" {
      type       = "float"
      categories = ["system.operations"]
    }
  }

  # The catalogue holds no personal data; it is reached from order_items so
  # that an access package can say what was bought.
  collection "products" {
    field "id" {
      type        = "integer"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "name" {
      type       = "string"
      categories = ["system.operations"]
    }
    field "price" {
      type       = "float"
      categories = ["system.operations"]
    }
  }

  collection "payment_cards" {
    field "id" {
      type        = "integer"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "customer_id" {
      type       = "integer"
      categories = ["user.unique_id"]
      reference "shop.customers.id" {
        direction = "from"
      }
    }
    field "billing_address_id" {
      type       = "integer"
      categories = ["system.operations"]
      reference "shop.addresses.id" {
        direction = "to"
      }
    }
    field "card_holder" {
      type       = "string"
      categories = ["user.name"]
      length     = 40
    }
    field "ccn" {
      type       = "string"
      categories = ["user.financial.credit_card"]
    }
    field "expiry" {
      type       = "string"
      categories = ["user.financial.credit_card"]
    }
    field "preferred" {
      type       = "boolean"
      categories = ["system.operations"]
    }
  }

  collection "logins" {
    field "id" {
      type        = "integer"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "customer_id" {
      type       = "integer"
      categories = ["user.unique_id"]
      # No direction: reached first from customers, so customers -> logins.
      reference "shop.customers.id" {}
    }
    field "logged_in_at" {
      type       = "string"
      categories = ["user.behavior.browsing_history"]
    }
    field "ip_address" {
      type       = "string"
      categories = ["user.device.ip_address"]
    }
  }

  # A ticket names two people: who opened it and who was copied. Both are
  # entry points for the `email` identity.
  collection "support_tickets" {
    field "id" {
      type        = "integer"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "requester_email" {
      type       = "string"
      categories = ["user.contact.email"]
      identity   = "email"
    }
    field "cc_email" {
      type       = "string"
      categories = ["user.contact.email"]
      identity   = "email"
    }
    field "subject" {
      type       = "string"
      categories = ["user.content.private"]
    }
    field "body" {
      type       = "string"
      categories = ["user.content.private"]
    }
    field "assignee_id" {
      type       = "integer"
      categories = ["system.operations"]
      # An employee's own request also finds the tickets they handled, but
      # a ticket is its requester's, not its assignee's: the reference is
      # shared. The assignee's package shows only this field of those
      # tickets (their own id), their erasure leaves the tickets alone, and
      # the tickets lead nowhere further for them.
      reference "shop.employees.id" {
        direction = "from"
        shared    = true
      }
    }
    field "opened_at" {
      type       = "string"
      categories = ["system.operations"]
    }
  }

  collection "employees" {
    field "id" {
      type        = "integer"
      categories  = ["user.unique_id"]
      primary_key = true
    }
    field "email" {
      type       = "string"
      categories = ["user.contact.email"]
      identity   = "email"
    }
    field "name" {
      type       = "string"
      categories = ["user.name"]
      length     = 40
    }
    field "job_title" {
      type       = "string"
      categories = ["user.job_title"]
    }
    field "address_id" {
      type       = "integer"
      categories = ["system.operations"]
      reference "shop.addresses.id" {
        direction = "to"
      }
    }
  }

  collection "visits" {
    field "id" {
      type        = "integer"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "email" {
      type       = "string"
      categories = ["user.contact.email"]
      identity   = "email"
    }
    field "page" {
      type       = "string"
      categories = ["user.behavior.browsing_history"]
    }
    field "visited_at" {
      type       = "string"
      categories = ["user.behavior.browsing_history"]
    }
    field "ip_address" {
      type       = "string"
      categories = ["user.device.ip_address"]
    }
  }

  # Monthly reports are computed from visits: read them after visits so a
  # package shows both from the same moment.
  collection "reports" {
    after = ["shop.visits"]

    field "id" {
      type        = "integer"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "email" {
      type       = "string"
      categories = ["user.contact.email"]
      identity   = "email"
    }
    field "month" {
      type       = "integer"
      categories = ["system.operations"]
    }
    field "year" {
      type       = "integer"
      categories = ["system.operations"]
    }
    field "total_visits" {
      type       = "integer"
      categories = ["user.behavior.browsing_history"]
    }
  }
}
