# The MongoDB side of TestMongoAcrossPostgres: customer data kept as
# documents, in a database whose name the test chooses (the connection's
# config.database). customer_details is found through a Postgres customer
# id; rewards.loyalty_cards (Postgres) is found through a value of a
# nested document here. The other collections are found by e-mail through
# arrays: of scalars and of documents, with and without return_all_elements.

dataset "crm" {
  connection  = "crm_mongo"
  description = "Customer relationship data (MongoDB)"

  # Found by the id of a Postgres row: shop.customers.id -> customer_id.
  collection "customer_details" {
    field "_id" {
      type        = "object_id"
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
    field "birthday" {
      type       = "string"
      categories = ["user.demographic.date_of_birth"]
    }
    field "gender" {
      type       = "string"
      categories = ["user.demographic.gender"]
    }
    field "workplace" { # a nested document, two levels deep
      field "employer" {
        type       = "string"
        categories = ["user.workplace"]
      }
      field "position" {
        type       = "string"
        categories = ["user.job_title"]
      }
      field "address" {
        field "street" {
          type       = "string"
          categories = ["user.contact.address.street"]
        }
        field "city" {
          type       = "string"
          categories = ["user.contact.address.city"]
        }
      }
    }
    field "loyalty" { # its card_number finds rewards.loyalty_cards in Postgres
      field "card_number" {
        type       = "string"
        categories = ["system.operations"]
      }
      field "tier" {
        type       = "string"
        categories = ["system.operations"]
      }
    }
    field "children" { # an array of scalars that is not an entry point: whole
      type       = "string[]"
      categories = ["user.childrens"]
    }
    field "emergency_contacts" { # an array of documents, not an entry point: whole
      type = "object[]"
      field "name" {
        type       = "string"
        categories = ["user.name"]
      }
      field "phone" {
        type       = "string"
        categories = ["user.contact.phone_number"]
      }
    }
  }

  # An array of scalars as the entry point: only the matching e-mail is
  # returned and masked.
  collection "profiles" {
    field "_id" {
      type        = "object_id"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "emails" {
      type       = "string[]"
      categories = ["user.contact.email"]
      identity   = "email"
    }
    field "phones" { # not an entry point: every element
      type       = "string[]"
      categories = ["user.contact.phone_number"]
    }
    field "display_name" {
      type       = "string"
      categories = ["user.name"]
    }
    field "interests" {
      type       = "string[]"
      categories = ["user.behavior"]
    }
  }

  # An array of documents as the entry point: only the messages that match
  # (sent by the requester, or mentioning them) are returned and masked;
  # inside them, only the matching mentions.
  collection "conversations" {
    field "_id" {
      type        = "object_id"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "subject" {
      type       = "string"
      categories = ["system.operations"]
    }
    field "messages" {
      type = "object[]"
      field "sender_email" {
        type       = "string"
        categories = ["user.contact.email"]
        identity   = "email"
      }
      field "chat_name" {
        type       = "string"
        categories = ["user.name"]
      }
      field "text" {
        type       = "string"
        categories = ["user.content.private"]
      }
      field "mentions" {
        type       = "string[]"
        categories = ["user.contact.email"]
        identity   = "email"
      }
    }
  }

  # An array of documents with return_all_elements: every member is
  # returned and masked.
  collection "households" {
    field "_id" {
      type        = "object_id"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "members" {
      type                = "object[]"
      return_all_elements = true
      field "email" {
        type       = "string"
        categories = ["user.contact.email"]
        identity   = "email"
      }
      field "name" {
        type       = "string"
        categories = ["user.name"]
      }
    }
    field "points" {
      type       = "integer"
      categories = ["system.operations"]
    }
  }

  # An array of scalars with return_all_elements: every recipient.
  collection "newsletters" {
    field "_id" {
      type        = "object_id"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "list" {
      type       = "string"
      categories = ["system.operations"]
    }
    field "recipients" {
      type                = "string[]"
      return_all_elements = true
      categories          = ["user.contact.email"]
      identity            = "email"
    }
  }
}
