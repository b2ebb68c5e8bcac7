# Customer data kept as documents. Paths into documents are written with
# nested field blocks; a reference or an address names them with dots
# (crm.profiles.contact.phones).
#
# Arrays: a field typed "string[]" or "object[]" matches a request when any
# element matches. By default only the matching elements are returned and
# masked; return_all_elements = true keeps and masks the whole array.

dataset "crm" {
  connection  = "crm_mongo"
  description = "Customer relationship data (MongoDB)"

  collection "customers" {
    erase_after = ["crm.customer_details"]

    field "_id" {
      type        = "object_id"
      categories  = ["system.operations"]
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
    field "phone" {
      type       = "string"
      categories = ["user.contact.phone_number"]
      identity   = "phone_number"
    }
    field "address" { # a nested document
      field "street" {
        type       = "string"
        categories = ["user.contact.address.street"]
      }
      field "city" {
        type       = "string"
        categories = ["user.contact.address.city"]
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
    field "tags" {
      type       = "string[]"
      categories = ["system.operations"]
    }
  }

  collection "customer_details" {
    field "_id" {
      type        = "object_id"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "customer_id" {
      type       = "object_id"
      categories = ["user.unique_id"]
      reference "crm.customers._id" {
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
    field "workplace_info" {
      type = "object"
      field "employer" {
        type       = "string"
        categories = ["user.workplace"]
      }
      field "position" {
        type       = "string"
        categories = ["user.job_title"]
      }
      field "direct_reports" { # other people's names: an array of strings
        type       = "string[]"
        categories = ["user.name"]
      }
    }
    field "emergency_contacts" { # an array of documents
      type = "object[]"
      field "name" {
        type       = "string"
        categories = ["user.name"]
      }
      field "relationship" {
        type       = "string"
        categories = ["user"]
      }
      field "phone" {
        type       = "string"
        categories = ["user.contact.phone_number"]
      }
    }
    field "children" {
      type       = "string[]"
      categories = ["user.childrens"]
    }
  }

  # Profiles derived by the data team. Each e-mail in derived_emails is an
  # entry point; only the elements that match are returned and masked.
  collection "profiles" {
    field "_id" {
      type        = "object_id"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "internal_id" {
      type       = "string"
      categories = ["system.operations"]
    }
    field "contact" {
      field "derived_emails" {
        type       = "string[]"
        categories = ["user.contact.email"]
        identity   = "email"
      }
      field "phones" {
        type       = "string[]"
        categories = ["user.contact.phone_number"]
        identity   = "phone_number"
      }
    }
    field "interests" {
      type       = "string[]"
      categories = ["user.behavior"]
    }
  }

  collection "feedback" {
    # Read the customer first, so a package shows both from the same moment.
    after = ["crm.customers"]

    field "_id" {
      type        = "object_id"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "customer_information" {
      field "email" {
        type       = "string"
        categories = ["user.contact.email"]
        identity   = "email"
      }
      field "phone" {
        type       = "string"
        categories = ["user.contact.phone_number"]
      }
      field "internal_customer_id" {
        type       = "string"
        categories = ["system.operations"]
        # The customer who left the feedback is the profile's owner: the
        # profile is theirs, not someone else's. shared = false (the
        # default) says so explicitly.
        reference "crm.profiles.internal_id" {
          direction = "to"
          shared    = false
        }
      }
    }
    field "rating" {
      type       = "integer"
      categories = ["user"]
    }
    field "message" {
      type       = "string"
      categories = ["user.content.private"]
    }
  }

  # Chat threads: a thread holds messages from several people. Only the
  # messages the requester sent match; the others stay untouched.
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
    field "thread" {
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
      field "message" {
        type       = "string"
        categories = ["user.content.private"]
      }
    }
  }

  # Loyalty accounts shared by a household. Any owner's e-mail finds the
  # account, and return_all_elements makes the whole owners array part of
  # the answer (and of the erasure), not only the matching owner.
  collection "loyalty_accounts" {
    field "_id" {
      type        = "object_id"
      categories  = ["system.operations"]
      primary_key = true
    }
    field "owners" {
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
      categories = ["user"]
    }
    field "tier" {
      type       = "string"
      categories = ["system.operations"]
    }
  }
}
