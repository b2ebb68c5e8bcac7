package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

const identityDataset = `
connection "db" {
  plugin = "sqlite"
  access = "read"
}
dataset "shop" {
  connection = "db"
  collection "customers" {
    field "id" {
      type        = "integer"
      primary_key = true
    }
    field "email" {
      type       = "string"
      identity   = "email"
      categories = ["user.contact.email"]
    }
  }
  collection "tickets" {
    field "id" {
      type        = "integer"
      primary_key = true
    }
    field "agent_id" {
      type = "integer"
      reference "shop.customers.id" {
        direction = "from"
        %s
      }
    }
  }
}
`

func TestIdentityBlocks(t *testing.T) {
	cases := []struct {
		name  string
		block string
		want  map[string][]string
		diag  string // "" when valid; else "error: summary" or "warning: summary"
	}{
		{"none: exact match", ``, map[string][]string{}, ""},
		{"trim and lowercase", `identity "email" { normalize = ["trim", "lowercase"] }`, map[string][]string{"email": {"trim", "lowercase"}}, ""},
		{"casefold and nfc", `identity "email" { normalize = ["nfc", "casefold"] }`, map[string][]string{"email": {"nfc", "casefold"}}, ""},
		{"empty list", `identity "email" { normalize = [] }`, map[string][]string{}, ""},
		{"unknown step", `identity "email" { normalize = ["unaccent"] }`, nil, "error: Unknown normalization"},
		{"duplicate step", `identity "email" { normalize = ["trim", "trim"] }`, nil, "error: Duplicate normalization"},
		{"lowercase and casefold", `identity "email" { normalize = ["lowercase", "casefold"] }`, nil, "warning: Lowercase and casefold together"},
		{"undeclared identity", `identity "phone" { normalize = ["trim"] }`, nil, "warning: Identity not declared by any field"},
		{"not a list", `identity "email" { normalize = "trim" }`, nil, "error: Incorrect attribute value type"},
		{"unknown attribute", `identity "email" { lowercase = true }`, nil, "error: Unsupported argument"},
		{"twice", "identity \"email\" {}\nidentity \"email\" {}", nil, "error: Duplicate identity block"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg, diags := loadAll(t, map[string]string{
				"main.hcl": strings.Replace(identityDataset, "%s", "shared = true", 1) + tc.block,
			}, nil)
			if tc.diag == "" {
				if len(diags) > 0 {
					t.Fatalf("unexpected diagnostics:\n%s", dump(diags))
				}
				if got := cfg.Normalizations(); !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("normalizations %v, want %v", got, tc.want)
				}
				return
			}
			sev, summary, _ := strings.Cut(tc.diag, ": ")
			for _, d := range diags {
				if d.Summary == summary && (d.Severity == hcl.DiagError) == (sev == "error") {
					return
				}
			}
			t.Fatalf("want %s, got:\n%s", tc.diag, dump(diags))
		})
	}
}

// TestSharedAttribute: shared on a reference is a boolean, and lethe
// validate asks about a reference that looks like one person pointing at
// another until it is declared either way.
func TestSharedAttribute(t *testing.T) {
	cases := []struct {
		name, attr string
		shared     bool
		diag       string
	}{
		{"declared shared", "shared = true", true, ""},
		{"declared not shared", "shared = false", false, ""},
		{"undeclared role reference", "", false, "warning: Reference may join two different people"},
		{"not a boolean", `shared = "yes"`, false, "error: Incorrect attribute value type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg, diags := loadAll(t, map[string]string{"main.hcl": strings.Replace(identityDataset, "%s", tc.attr, 1)}, nil)
			if tc.diag == "" {
				if len(diags) > 0 {
					t.Fatalf("unexpected diagnostics:\n%s", dump(diags))
				}
				ref := cfg.Dataset("shop").Collection("tickets").Fields[1].References[0]
				if ref.Shared != tc.shared {
					t.Fatalf("shared = %v, want %v", ref.Shared, tc.shared)
				}
				return
			}
			sev, summary, _ := strings.Cut(tc.diag, ": ")
			for _, d := range diags {
				if d.Summary == summary && (d.Severity == hcl.DiagError) == (sev == "error") {
					if sev == "warning" && !strings.Contains(d.Detail, "shared = true") {
						t.Fatalf("the warning does not say how to declare it: %s", d.Detail)
					}
					return
				}
			}
			t.Fatalf("want %s, got:\n%s", tc.diag, dump(diags))
		})
	}
}
