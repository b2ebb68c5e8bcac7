# What a request does. `access` answers the DRP right to know: every field
# categorised under `user` goes into the package. `erasure` answers the
# right to delete, with a different masking strategy per kind of data.

policy "access" {
  drp_action          = "access"
  execution_timeframe = "45d"

  rule "user_data" {
    action  = "access"
    targets = ["user"]
    storage = "results"
  }
}

policy "erasure" {
  drp_action          = "deletion"
  execution_timeframe = "45d"

  # E-mail addresses and phone numbers are replaced by a keyed hash: the
  # same address masks to the same value in every table of one request, so
  # rows that belonged together still do.
  rule "contact_details" {
    action  = "erasure"
    targets = ["user.contact.email", "user.contact.phone_number"]
    masking {
      strategy  = "hmac"
      algorithm = "SHA-256"
    }
  }

  rule "names" {
    action  = "erasure"
    targets = ["user.name"]
    masking {
      strategy      = "string_rewrite"
      rewrite_value = "MASKED"
    }
  }

  # Postal addresses, card details, IP addresses and what people wrote to
  # support are removed outright.
  rule "other_personal_data" {
    action  = "erasure"
    targets = ["user.contact.address", "user.financial", "user.device.ip_address", "user.content.private"]
    masking {
      strategy = "null_rewrite"
    }
  }
}
