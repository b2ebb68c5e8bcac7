package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const validateHCL = `
connection "db" {
  plugin = "sqlite"
  access = "write"
  config = { path = "app.db" }
}

storage "results" {
  plugin = "local"
  config = { path = "out" }
}

dataset "app" {
  connection = "db"
  collection "customer" {
    field "id" {
      type        = "integer"
      primary_key = true
    }
    field "email" {
      type       = "string"
      identity   = "email"
      categories = ["user.contact.email"]
    }
    field "phone" {
      categories = ["user.contact.phone_number"]
    }
  }
  collection "orders" {
    field "id" {
      type        = "integer"
      primary_key = true
    }
    field "customer_id" {
      type = "integer"
      reference "app.customer.id" { direction = "from" }
    }
  }
}

policy "access" {
  drp_action = "access"
  rule "all" {
    action  = "access"
    targets = ["user"]
    storage = "results"
  }
}

policy "erasure" {
  drp_action = "deletion"
  rule "contact" {
    action  = "erasure"
    targets = ["user.contact"]
    masking { strategy = "hash" }
  }
}
`

func validateDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runValidateCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(append([]string{"validate"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidateCommand(t *testing.T) {
	valid := validateDir(t, map[string]string{"main.hcl": validateHCL})
	broken := validateDir(t, map[string]string{
		"main.hcl": validateHCL,
		"more.hcl": "dataset \"extra\" {\n  connection = \"db\"\n  collection \"c\" {\n    field \"f\" {\n      type = \"strin\"\n    }\n  }\n}\n",
	})
	// Valid on its own, but the graph is not: nothing reaches app2.lonely.
	unreachable := validateDir(t, map[string]string{
		"main.hcl": validateHCL,
		"more.hcl": "dataset \"app2\" {\n  connection = \"db\"\n  collection \"lonely\" {\n    field \"id\" {\n      type = \"integer\"\n    }\n  }\n}\n",
	})
	// Orders name a referrer among the customers: one person pointing at
	// another, not declared shared.
	referrer := validateDir(t, map[string]string{
		"main.hcl": validateHCL,
		"more.hcl": "dataset \"app2\" {\n  connection = \"db\"\n  collection \"signups\" {\n    field \"referred_by\" {\n      type = \"integer\"\n      reference \"app.customer.id\" {}\n    }\n  }\n}\n",
	})
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr []string
	}{
		{name: "valid with a warning", args: []string{valid}, code: 0,
			stdout: valid + ": 1 dataset, 2 collections, 2 policies: valid, 1 warning\n",
			stderr: []string{"Warning: Masked field without type", "main.hcl line 25", `field "phone"`}},
		{name: "errors", args: []string{broken}, code: 1,
			stdout: broken + ": 2 datasets, 3 collections, 2 policies: invalid, 1 error, 1 warning\n",
			stderr: []string{"Error: Unknown field type", "more.hcl line 5", `5:       type = "strin"`, `Field "extra.c.f" has type "strin"`}},
		{name: "person to person reference", args: []string{referrer}, code: 0, stdout: "valid, 2 warnings",
			stderr: []string{"Warning: Reference may join two different people", "more.hcl line 6", "write shared = true in the reference block", "shared = false to silence"}},
		{name: "graph errors", args: []string{unreachable}, code: 1, stdout: "invalid", stderr: []string{"app2.lonely"}},
		{name: "flags after the directory", args: []string{valid, "--start-timeout", "5s"}, code: 0, stdout: "valid"},
		{name: "plugins not found", args: []string{"--plugins", "--plugin-dir", t.TempDir(), valid}, code: 1,
			stdout: "invalid, 2 errors",
			stderr: []string{"Error: Plugin not found", `Connection "db" uses connector plugin "sqlite", which was not found in the plugin directory`, `Storage "results" uses storage plugin "local"`}},
		{name: "no directory", args: nil, code: 2, stderr: []string{"give exactly one configuration directory", "Usage: lethe validate"}},
		{name: "two directories", args: []string{valid, broken}, code: 2, stderr: []string{"give exactly one configuration directory"}},
		{name: "bad flag", args: []string{"--nope", valid}, code: 2, stderr: []string{"flag provided but not defined: -nope"}},
		{name: "help", args: []string{"-h"}, code: 0, stderr: []string{"Usage: lethe validate", "Exit status: 0 when"}},
		{name: "missing directory", args: []string{filepath.Join(valid, "nope")}, code: 1,
			stderr: []string{"Error: Cannot read the configuration directory"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runValidateCmd(tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout %q, want it to contain %q", stdout, tc.stdout)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
}

func TestValidateCommandHidesSecrets(t *testing.T) {
	const secret = "hunter2-but-much-longer"
	t.Setenv("LETHE_VALIDATE_TEST_SECRET", secret)
	dir := validateDir(t, map[string]string{
		"main.hcl": validateHCL,
		"auth.hcl": `
auth {
  root_client_id     = "root"
  root_client_secret = "` + secret + `" "oops"
}
`,
		"server.hcl": `
server {
  listen = env("LETHE_VALIDATE_TEST_SECRET")
}
`,
	})
	code, stdout, stderr := runValidateCmd(dir)
	if code != 1 || !strings.Contains(stderr, "root_client_secret = ") || !strings.Contains(stderr, `listen = env("LETHE_VALIDATE_TEST_SECRET")`) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, secret) || strings.Contains(stdout+stderr, "hunter2") {
		t.Fatalf("the secret was printed:\n%s", stderr)
	}
}
