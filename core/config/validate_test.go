package config

import (
	"testing"
)

// ds wraps collection blocks in a dataset "d" on connection "db".
func ds(collections string) string {
	return "dataset \"d\" {\n  connection = \"db\"\n" + collections + "\n}\n"
}

// erasure is a policy without DRP action holding one erasure rule.
func erasure(targets, masking string) string {
	return "policy \"p\" {\n  rule \"r\" {\n    action = \"erasure\"\n    targets = " + targets + "\n" + masking + "\n  }\n}\n"
}

func TestValidateDatasetRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "unknown type", file: ds(`collection "c" {
    field "f" { type = "strin" }
  }`), want: `Field "d.c.f" has type "strin"; use one of string, integer, float, boolean, object_id, object`, at: `"strin"`},
		{name: "unknown array type", file: ds(`collection "c" {
    field "f" { type = "int[]" }
  }`), want: `has type "int[]"`, at: `"int[]"`},
		{name: "sub-fields under a scalar", file: ds(`collection "c" {
    field "f" {
      type = "string"
      field "g" { type = "string" }
    }
  }`), want: `Field "d.c.f" has sub-fields, so its type must be "object" or "object[]"`, at: `"string"`},
		{name: "categories on an object", file: ds(`collection "c" {
    field "f" {
      categories = ["user.contact"]
      field "g" { type = "string" }
    }
  }`), want: `Field "d.c.f" is an object, which carries no categories itself`, at: `["user.contact"]`},
		{name: "identity on an object", file: ds(`collection "c" {
    field "f" {
      type = "object"
      identity = "email"
    }
  }`), want: `Field "d.c.f" is an object and cannot be an identity`, at: `"email"`},
		{name: "unknown category with suggestion", file: ds(`collection "c" {
    field "f" {
      categories = ["user.name", "user.contact.emial"]
    }
  }`), want: `category "user.contact.emial", which is not in the taxonomy (did you mean "user.contact.email"?)`, at: `"user.contact.emial"`},
		{name: "moved category suggests new place", file: ds(`collection "c" {
    field "f" { categories = ["user.contact.city"] }
  }`), want: `(did you mean "user.contact.address.city"?)`, at: `"user.contact.city"`},
		{name: "declared category is known", file: ds(`collection "c" {
    field "f" { categories = ["user.loyalty"] }
    field "g" { categories = ["user.loyalty.points2"] }
  }`) + "data_category \"user.loyalty\" {\n  parent = \"user\"\n}\n",
			want: `category "user.loyalty.points2", which is not in the taxonomy;`, at: `"user.loyalty.points2"`},
		{name: "reference to unknown dataset", file: ds(`collection "c" {
    field "f" {
      reference "ap.customer.id" {}
    }
  }`), want: `Field "d.c.f" references "ap.customer.id", but no dataset "ap" is declared (did you mean "app"?)`, at: `"ap.customer.id"`},
		{name: "reference to unknown collection", file: ds(`collection "c" {
    field "f" {
      reference "app.customers.id" {}
    }
  }`), want: `dataset "app" has no collection "customers" (did you mean "customer"?)`, at: `"app.customers.id"`},
		{name: "reference to unknown field", file: ds(`collection "c" {
    field "f" {
      reference "app.customer.mail" {}
    }
  }`), want: `references "app.customer.mail", but "app.customer.mail" is not declared (did you mean "email"?)`, at: `"app.customer.mail"`},
		{name: "reference to unknown sub-field", file: ds(`collection "c" {
    field "doc" {
      field "a" { type = "string" }
    }
    field "f" { type = "string" }
  }
  collection "c2" {
    field "g" {
      reference "d.c.doc.b" {}
    }
  }`), want: `references "d.c.doc.b", but "d.c.doc.b" is not declared`, at: `"d.c.doc.b"`},
		{name: "self reference", file: ds(`collection "c" {
    field "id" { type = "integer" }
    field "parent_id" {
      reference "d.c.id" { direction = "to" }
    }
  }`), want: `Field "d.c.parent_id" references "d.c.id" in the same collection`, at: `"d.c.id"`},
		{name: "direction", file: ds(`collection "c" {
    field "f" {
      reference "app.customer.id" { direction = "both" }
    }
  }`), want: `has direction "both"; use "to"`, at: `"both"`},
		{name: "return_all_elements on scalar", file: ds(`collection "c" {
    field "f" {
      type = "string"
      return_all_elements = true
    }
  }`), want: `Field "d.c.f" is not an array: return_all_elements applies only to types ending in []`, at: "true"},
		{name: "after unknown dataset", file: "dataset \"d\" {\n  connection = \"db\"\n  after = [\"app\", \"billing\"]\n  collection \"c\" {\n    field \"f\" {}\n  }\n}\n",
			want: `Dataset "d": after names dataset "billing", which is not declared`, at: `"billing"`},
		{name: "after itself", file: "dataset \"d\" {\n  connection = \"db\"\n  after = [\"d\"]\n  collection \"c\" {\n    field \"f\" {}\n  }\n}\n",
			want: `after names its own dataset "d"`, at: `"d"]`},
		{name: "erase_after unknown collection", file: ds(`collection "c" {
    erase_after = ["app.order"]
    field "f" {}
  }`), want: `erase_after names "app.order", but dataset "app" has no collection "order" (did you mean "orders"?)`, at: `"app.order"`},
		{name: "after malformed", file: ds(`collection "c" {
    after = ["app.customer.id"]
    field "f" {}
  }`), want: `after entry "app.customer.id" must be a dataset name or dataset.collection`, at: `"app.customer.id"`},
		{name: "collection after itself", file: ds(`collection "c" {
    after = ["d.c"]
    field "f" {}
  }`), want: `after names the collection itself`, at: `"d.c"`},
		{name: "unknown connection", file: "dataset \"d\" {\n  connection = \"dbb\"\n  collection \"c\" {\n    field \"f\" {}\n  }\n}\n",
			want: `Dataset "d" uses connection "dbb", which is not declared (did you mean "db"?)`, at: `"dbb"`},
		{name: "no collection", file: ds(""), want: `Dataset "d" has no collection`, at: `dataset "d"`},
		{name: "no field", file: ds(`collection "c" {
  }`), want: `Collection "d.c" has no field`, at: `collection "c"`},
		{name: "duplicate collection", file: ds(`collection "c" {
    field "f" {}
  }
  collection "c" {
    field "f" {}
  }`), want: `Dataset "d" already has a collection named "c" at`, at: `collection "c"`, nth: 1},
		{name: "duplicate field", file: ds(`collection "c" {
    field "f" {}
    field "f" {}
  }`), want: `Field "d.c.f" is already declared at`, at: `field "f"`, nth: 1},
		{name: "dataset name with dot", file: "dataset \"d.x\" {\n  connection = \"db\"\n  collection \"c\" {\n    field \"f\" {}\n  }\n}\n",
			want: `Dataset name "d.x" may only contain letters, digits, '_' and '-'`, at: `dataset "d.x"`},
		{name: "dot in field name warns", file: ds(`collection "c" {
    field "a.b" {}
  }`), want: `Field "d.c.a.b" has a '.' in its name`, at: `field "a.b"`, warn: true},
		{name: "negative length", file: ds(`collection "c" {
    field "f" { length = -1 }
  }`), want: `"length" must be a whole number from 1 to`, at: "-1"},
	})
}

func TestValidatePolicyRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "access rule without storage", file: "policy \"p\" {\n  rule \"r\" {\n    action = \"access\"\n    targets = [\"user\"]\n  }\n}\n",
			want: `rule "r" of policy "p" is an access rule: name the storage destination`, at: `rule "r"`},
		{name: "access rule with masking", file: "policy \"p\" {\n  rule \"r\" {\n    action = \"access\"\n    targets = [\"user\"]\n    storage = \"results\"\n    masking { strategy = \"hash\" }\n  }\n}\n",
			want: `is an access rule and cannot mask data`, at: "masking"},
		{name: "unknown storage", file: "policy \"p\" {\n  rule \"r\" {\n    action = \"access\"\n    targets = [\"user\"]\n    storage = \"result\"\n  }\n}\n",
			want: `names storage "result", which is not declared (did you mean "results"?)`, at: `"result"`},
		{name: "erasure rule with storage", file: erasure(`["user.name"]`, "    storage = \"results\"\n    masking { strategy = \"null_rewrite\" }"),
			want: `is an erasure rule and has no storage destination; remove storage`, at: `"results"`},
		{name: "erasure rule without masking", file: erasure(`["user.name"]`, ""),
			want: `is an erasure rule: add at least one masking block`, at: `rule "r"`},
		{name: "unsupported action", file: "policy \"p\" {\n  rule \"r\" {\n    action = \"consent\"\n    targets = [\"user\"]\n  }\n}\n",
			want: `consent rules are not supported`, at: `"consent"`},
		{name: "unknown action", file: "policy \"p\" {\n  rule \"r\" {\n    action = \"delete\"\n    targets = [\"user\"]\n  }\n}\n",
			want: `action "delete" is not "access" or "erasure"`, at: `"delete"`},
		{name: "unknown target", file: erasure(`["user.nam"]`, "    masking { strategy = \"null_rewrite\" }"),
			want: `targets "user.nam", which is not a data category (did you mean "user.name"?)`, at: `"user.nam"`},
		{name: "no targets", file: erasure(`[]`, "    masking { strategy = \"null_rewrite\" }"),
			want: `has no targets`, at: `[]`},
		{name: "unknown strategy", file: erasure(`["user.name"]`, "    masking { strategy = \"redact\" }"),
			want: `strategy "redact" is not one of null_rewrite, string_rewrite, random_string_rewrite, hash, hmac, aes_encrypt`, at: `"redact"`},
		{name: "unknown algorithm", file: erasure(`["user.name"]`, "    masking {\n      strategy = \"hmac\"\n      algorithm = \"MD5\"\n    }"),
			want: `algorithm "MD5" is not "SHA-256" or "SHA-512"`, at: `"MD5"`},
		{name: "algorithm on a rewrite", file: erasure(`["user.name"]`, "    masking {\n      strategy = \"null_rewrite\"\n      algorithm = \"SHA-256\"\n    }"),
			want: `algorithm does not apply to strategy "null_rewrite"`, at: `"SHA-256"`},
		{name: "aes mode", file: erasure(`["user.name"]`, "    masking {\n      strategy = \"aes_encrypt\"\n      mode = \"CBC\"\n    }"),
			want: `mode "CBC" is not supported; aes_encrypt supports only "GCM"`, at: `"CBC"`},
		{name: "rewrite without value", file: erasure(`["user.name"]`, "    masking { strategy = \"string_rewrite\" }"),
			want: `string_rewrite needs rewrite_value`, at: "masking"},
		{name: "length on hash", file: erasure(`["user.name"]`, "    masking {\n      strategy = \"hash\"\n      length = 10\n    }"),
			want: `length does not apply to strategy "hash"`, at: "10"},
		{name: "suffix on null", file: erasure(`["user.name"]`, "    masking {\n      strategy = \"null_rewrite\"\n      format_preservation { suffix = \"@x\" }\n    }"),
			want: `format_preservation does not apply to strategy "null_rewrite"`, at: `"@x"`},
		{name: "masking after null", file: erasure(`["user.name"]`, "    masking { strategy = \"null_rewrite\" }\n    masking { strategy = \"hash\" }"),
			want: `the masking blocks after it do nothing`, at: "masking", nth: 1, warn: true},
		{name: "overlap with ancestor", file: `policy "p" {
  rule "contact" {
    action  = "erasure"
    targets = ["user.contact"]
    masking { strategy = "null_rewrite" }
  }
  rule "email" {
    action  = "erasure"
    targets = ["user.name", "user.contact.email"]
    masking { strategy = "null_rewrite" }
  }
}`, want: `target "user.contact" of erasure rule "contact" covers target "user.contact.email" of erasure rule "email"`, at: `"user.contact.email"`},
		{name: "overlap same target", file: `policy "p" {
  rule "a" {
    action  = "erasure"
    targets = ["user.name"]
    masking { strategy = "null_rewrite" }
  }
  rule "b" {
    action  = "erasure"
    targets = ["user.name"]
    masking { strategy = "hash" }
  }
}`, want: `Erasure rules "a" and "b" of policy "p" both target "user.name"`, at: `"user.name"`, nth: 1},
		{name: "descendant before ancestor", file: `policy "p" {
  rule "a" {
    action  = "erasure"
    targets = ["user.contact.email"]
    masking { strategy = "null_rewrite" }
  }
  rule "b" {
    action  = "erasure"
    targets = ["user"]
    masking { strategy = "null_rewrite" }
  }
}`, want: `target "user" of erasure rule "b" covers target "user.contact.email" of erasure rule "a"`, at: `"user"`},
		{name: "duplicate target in a rule", file: erasure(`["user.name", "user.name"]`, "    masking { strategy = \"null_rewrite\" }"),
			want: `lists "user.name" twice`, at: `"user.name"`, nth: 1},
		{name: "drp action twice", file: "policy \"p\" {\n  drp_action = \"access\"\n  rule \"r\" {\n    action = \"access\"\n    targets = [\"user\"]\n    storage = \"results\"\n  }\n}\n",
			want: `Policies "access" at`, at: `"access"`},
		{name: "drp action twice across spellings", noBase: true, extra: map[string]string{"a.hcl": `
storage "results" {
  plugin = "local"
}
policy "a" {
  drp_action = "sale:opt-out"
  rule "r" {
    action = "access"
    targets = ["user"]
    storage = "results"
  }
}`}, file: "policy \"p\" {\n  drp_action = \"sale:opt_out\"\n  rule \"r\" {\n    action = \"access\"\n    targets = [\"user\"]\n    storage = \"results\"\n  }\n}\n",
			want: `both declare drp_action "sale:opt_out"`, at: `"sale:opt_out"`},
		{name: "unknown drp action", file: "policy \"p\" {\n  drp_action = \"erase\"\n  rule \"r\" {\n    action = \"access\"\n    targets = [\"user\"]\n    storage = \"results\"\n  }\n}\n",
			want: `drp_action "erase" is not a DRP action; use one of access, deletion, sale:opt_out`, at: `"erase"`},
		{name: "policy without rules", file: "policy \"p\" {\n}\n", want: `Policy "p" has no rule`, at: `policy "p"`},
		{name: "duplicate rule", file: "policy \"p\" {\n  rule \"r\" {\n    action = \"access\"\n    targets = [\"user\"]\n    storage = \"results\"\n  }\n  rule \"r\" {\n    action = \"access\"\n    targets = [\"user\"]\n    storage = \"results\"\n  }\n}\n",
			want: `Policy "p" already has a rule named "r" at`, at: `rule "r"`, nth: 1},
	})
}

func TestValidateErasureWarnings(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "non-null strategy on untyped field", file: ds(`collection "c" {
    field "id" {
      type = "integer"
      primary_key = true
    }
    field "phone" { categories = ["user.contact.phone_number"] }
  }`), want: `Field "d.c.phone" has no declared type, but erasure rule "contact" of policy "erasure" masks it with "string_rewrite"`, at: `field "phone"`, warn: true},
		{name: "non-null strategy on integer field", file: ds(`collection "c" {
    field "id" {
      type = "integer"
      primary_key = true
    }
    field "zip" {
      type = "integer"
      categories = ["user.contact.address.postal_code"]
    }
  }`), want: `Field "d.c.zip" has type "integer", but erasure rule "contact" of policy "erasure" masks it with "string_rewrite"`, at: `"integer"`, nth: 1, warn: true},
		{name: "no primary key", file: ds(`collection "c" {
    field "email" {
      type = "string"
      categories = ["user.contact.email"]
    }
  }`), want: `Collection "d.c" has fields that erasure rule "contact" of policy "erasure" masks, but no field with primary_key = true`, at: `collection "c"`, warn: true},
		{name: "read-only connection", file: "dataset \"d\" {\n  connection = \"ro\"\n  collection \"c\" {\n    field \"id\" {\n      type = \"integer\"\n      primary_key = true\n    }\n    field \"email\" {\n      type = \"string\"\n      categories = [\"user.contact.email\"]\n    }\n  }\n}\n",
			want: `its connection "ro" has access = "read", so erasure will be refused`, at: `"ro"`, warn: true},
		{name: "drp without policies", noBase: true, file: "drp {\n  jwt_secret = \"0123456789abcdef0123456789abcdef\"\n}\n",
			want: "no policy has a drp_action", at: "drp", warn: true},
	})
}

// A null_rewrite on an untyped field is fine: no warning.
func TestNullRewriteOnUntypedFieldIsQuiet(t *testing.T) {
	_, _, diags := loadAll(t, map[string]string{"a.hcl": `
connection "db" {
  plugin = "postgres"
  access = "write"
}
dataset "d" {
  connection = "db"
  collection "c" {
    field "id" {
      type = "integer"
      primary_key = true
    }
    field "phone" { categories = ["user.contact.phone_number"] }
  }
}
policy "p" {
  rule "r" {
    action = "erasure"
    targets = ["user.contact"]
    masking { strategy = "null_rewrite" }
  }
}`}, nil)
	if len(diags) != 0 {
		t.Fatalf("want no diagnostics, got:\n%s", dump(diags))
	}
}
