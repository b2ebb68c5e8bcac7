# An erasure whose masks do not depend on the request's secrets, so that
# the test can state every document after it.
policy "crm_erasure" {
  rule "emails" {
    action  = "erasure"
    targets = ["user.contact.email"]
    masking {
      strategy      = "string_rewrite"
      rewrite_value = "erased@example.invalid"
    }
  }
  rule "names" {
    action  = "erasure"
    targets = ["user.name", "user.childrens"]
    masking {
      strategy      = "string_rewrite"
      rewrite_value = "MASKED"
    }
  }
  rule "other_personal_data" {
    action  = "erasure"
    targets = ["user.contact.address", "user.contact.phone_number", "user.financial", "user.device.ip_address", "user.content.private"]
    masking {
      strategy = "null_rewrite"
    }
  }
}
