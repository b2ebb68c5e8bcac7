package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/graph"
	"github.com/lethehq/lethe/core/plan"
	"github.com/lethehq/lethe/core/policy"
)

// The identity values used in these tests; none may ever be printed.
const (
	secretEmail = "j.doe.private@example.org"
	secretPhone = "+15550100"
)

const planTestHCL = `
connection "app_db" {
  plugin = "postgres"
  access = "write"
  config = { dsn = "postgres://localhost/app" }
}
connection "sms_db" {
  plugin = "mysql"
  access = "read"
  config = { dsn = "mysql://localhost/sms" }
}
storage "results" {
  plugin = "local"
  config = { path = "/tmp/results" }
}

dataset "app" {
  connection = "app_db"
  collection "customer" {
    field "id" {
      categories  = ["user.unique_id"]
      primary_key = true
      type        = "integer"
    }
    field "email" {
      categories = ["user.contact.email"]
      identity   = "email"
      type       = "string"
    }
  }
  collection "orders" {
    field "id" {
      categories  = ["system.operations"]
      primary_key = true
    }
    field "customer_id" {
      categories = ["user.unique_id"]
      reference "app.customer.id" { direction = "from" }
    }
  }
}

dataset "sms" {
  connection = "sms_db"
  collection "log" {
    field "phone" {
      categories = ["user.contact.phone_number"]
      identity   = "phone_number"
      type       = "string"
    }
  }
}

policy "access" {
  rule "all" {
    action  = "access"
    targets = ["user"]
    storage = "results"
  }
}

policy "forget" {
  rule "contact" {
    action  = "erasure"
    targets = ["user.contact"]
    masking { strategy = "null_rewrite" }
  }
}
`

func configDir(t *testing.T, hcl string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestPlanCommand(t *testing.T) {
	dir := configDir(t, planTestHCL)
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // substrings
		notStdout  []string
		stderr     []string
		exactLines int // when > 0, stdout has this many lines
	}{
		{
			name: "access policy, email only",
			args: []string{"plan", dir, "--policy", "access", "--identity", "email=" + secretEmail},
			stdout: []string{
				"Policy: access (access)\nIdentities: email\n",
				"  1. app.customer\n       seed    email <- identity email\n  2. app.orders\n       after   app.customer\n       input   customer_id <- app.customer.id\n",
				"Skipped (1 collection not reached with these identities):\n  sms.log  needs identity phone_number\n",
			},
			notStdout: []string{"Erasure order"},
		},
		{
			name:   "erasure policy, flags before the directory",
			args:   []string{"plan", "--identity", "email=" + secretEmail, "--policy", "forget", "--identity", "phone_number=" + secretPhone, dir},
			stdout: []string{"Policy: forget (erasure)\nIdentities: email, phone_number\n", "Erasure order (3 collections):\n  1. app.orders\n  2. sms.log\n  3. app.customer\n       after   app.orders\n"},
		},
		{
			name:   "unknown identity names are reported, not fatal",
			args:   []string{"plan", dir, "--policy", "access", "--identity", "email=" + secretEmail, "--identity", "loyalty_id=" + secretPhone},
			stdout: []string{"Ignored identities (no field declares them): loyalty_id\n"},
		},
		{
			name:   "no supplied identity reaches anything",
			args:   []string{"plan", dir, "--policy", "access", "--identity", "loyalty_id=" + secretPhone},
			code:   1,
			stderr: []string{`lethe plan: policy "access": plan: no supplied identity reaches any collection: supplied loyalty_id; the datasets declare email, phone_number`},
		},
		{
			name:   "unknown policy",
			args:   []string{"plan", dir, "--policy", "nope", "--identity", "email=" + secretEmail},
			code:   1,
			stderr: []string{`lethe plan: no policy "nope"; declared policies: access, forget`},
		},
		{
			name:   "missing policy",
			args:   []string{"plan", dir, "--identity", "email=" + secretEmail},
			code:   2,
			stderr: []string{"give the request's policy with --policy NAME"},
		},
		{
			name:   "malformed identity is not echoed",
			args:   []string{"plan", dir, "--policy", "access", "--identity", secretEmail},
			code:   2,
			stderr: []string{"1 --identity argument(s) are not NAME=VALUE"},
		},
		{
			name:   "empty identity value",
			args:   []string{"plan", dir, "--policy", "access", "--identity", "email="},
			code:   2,
			stderr: []string{"--identity email has an empty value"},
		},
		{
			name:   "identity given twice",
			args:   []string{"plan", dir, "--policy", "access", "--identity", "email=" + secretEmail, "--identity", "email=" + secretPhone},
			code:   2,
			stderr: []string{"--identity email is given more than once"},
		},
		{
			name:   "no identity",
			args:   []string{"plan", dir, "--policy", "access"},
			code:   2,
			stderr: []string{"give at least one --identity NAME=VALUE"},
		},
		{
			name:   "two directories",
			args:   []string{"plan", dir, dir, "--policy", "access", "--identity", "email=" + secretEmail},
			code:   2,
			stderr: []string{"give exactly one configuration directory"},
		},
		{
			name:   "missing directory",
			args:   []string{"plan", filepath.Join(dir, "nope"), "--policy", "access", "--identity", "email=" + secretEmail},
			code:   1,
			stderr: []string{"Cannot read the configuration directory"},
		},
		{
			name:   "help",
			args:   []string{"plan", "-h"},
			stderr: []string{"Usage: lethe plan DIR --policy NAME", "-identity NAME=VALUE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.notStdout {
				if strings.Contains(stdout, s) {
					t.Errorf("stdout has %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			for _, secret := range []string{secretEmail, secretPhone} {
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("output contains the identity value %q:\n%s\n%s", secret, stdout, stderr)
				}
			}
		})
	}
}

func TestPlanCommandJSON(t *testing.T) {
	dir := configDir(t, planTestHCL)
	args := []string{"plan", dir, "--policy", "forget", "--identity", "email=" + secretEmail, "--json"}
	code, first, stderr := runCmd(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(first, secretEmail) {
		t.Fatal("JSON contains the identity value")
	}
	var decoded struct {
		Identities []string `json:"identities"`
		Nodes      []struct {
			Address      string   `json:"address"`
			Dependencies []string `json:"dependencies"`
		} `json:"nodes"`
		Erasure []struct {
			Address string `json:"address"`
		} `json:"erasure"`
		Skipped []struct {
			Address    string   `json:"address"`
			Identities []string `json:"identities"`
		} `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(first), &decoded); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, first)
	}
	if len(decoded.Nodes) != 2 || decoded.Nodes[1].Address != "app.orders" || strings.Join(decoded.Nodes[1].Dependencies, ",") != "app.customer" {
		t.Errorf("nodes = %+v", decoded.Nodes)
	}
	if len(decoded.Erasure) != 2 || decoded.Erasure[0].Address != "app.orders" {
		t.Errorf("erasure = %+v", decoded.Erasure)
	}
	if len(decoded.Skipped) != 1 || decoded.Skipped[0].Address != "sms.log" || strings.Join(decoded.Skipped[0].Identities, ",") != "phone_number" {
		t.Errorf("skipped = %+v", decoded.Skipped)
	}
	// Byte-identical on a second run.
	if _, second, _ := runCmd(args...); second != first {
		t.Errorf("second run differs:\n%s\n%s", first, second)
	}
}

func TestPlanCommandGraphErrors(t *testing.T) {
	// A directed reference cycle: the configuration loads and validates,
	// but the graph is rejected with a diagnostic naming the cycle.
	hcl := `
connection "db" {
  plugin = "postgres"
  access = "read"
  config = { dsn = "x" }
}
dataset "d" {
  connection = "db"
  collection "a" {
    field "email" {
      identity = "email"
      categories = ["user.contact.email"]
    }
    field "b_id" {
      categories = ["system.operations"]
      reference "d.b.id" { direction = "to" }
    }
  }
  collection "b" {
    field "id" { categories = ["system.operations"] }
    field "a_email" {
      categories = ["system.operations"]
      reference "d.a.email" { direction = "to" }
    }
  }
}
policy "p" {
  rule "r" {
    action = "erasure"
    targets = ["user.contact"]
    masking { strategy = "null_rewrite" }
  }
}
`
	dir := configDir(t, hcl)
	code, stdout, stderr := runCmd("plan", dir, "--policy", "p", "--identity", "email="+secretEmail)
	if code != 1 || stdout != "" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	if !strings.Contains(stderr, "Dependency cycle: d.a -> d.b -> d.a") || !strings.Contains(stderr, "main.hcl line") {
		t.Errorf("stderr:\n%s", stderr)
	}

	// lethe graph still draws it, and fails.
	code, stdout, stderr = runCmd("graph", dir)
	if code != 1 || !strings.Contains(stdout, `"d.a" -> "d.b" [label="b_id -> id"];`) || !strings.Contains(stderr, "Dependency cycle") {
		t.Errorf("graph: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// writePlan on a graph built in Go: the erasure order follows the policy's
// rules, and the query previewer's text lands under each collection.
func TestWritePlan(t *testing.T) {
	dss := []*dataset.Dataset{{
		Name: "app", Connection: "db",
		Collections: []*dataset.Collection{
			{Name: "customer", Fields: []*dataset.Field{{Name: "id"}, {Name: "email", Identity: "email"}}},
			{Name: "orders", Fields: []*dataset.Field{{Name: "cid", References: []dataset.Reference{{
				Target: dataset.FieldAddress{Dataset: "app", Collection: "customer", Field: dataset.Path{"id"}}, Direction: dataset.DirectionFrom,
			}}}}},
		},
	}}
	g, diags := graph.Build(dss)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	access := &policy.Policy{Name: "a", Rules: []*policy.Rule{{Name: "r", Action: policy.ActionAccess}}}
	both := &policy.Policy{Name: "b", Rules: []*policy.Rule{{Name: "r", Action: policy.ActionAccess}, {Name: "e", Action: policy.ActionErasure}}}

	var calls []string
	preview := func(_ context.Context, n *plan.Node) (string, error) {
		calls = append(calls, n.Address.String())
		if n.Address.Collection == "orders" {
			return "", errors.New("connector not running")
		}
		return "SELECT id, email\nFROM customer WHERE email IN ($1)", nil
	}
	var out, errOut bytes.Buffer
	if code := writePlan(&out, &errOut, g, access, planRequest{identities: []string{"email"}}, false, preview); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := `Policy: a (access)
Identities: email

Access order (2 collections):
  1. app.customer
       seed    email <- identity email
       query   SELECT id, email
               FROM customer WHERE email IN ($1)
  2. app.orders
       after   app.customer
       input   cid <- app.customer.id
       query   (not available: connector not running)
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if strings.Join(calls, " ") != "app.customer app.orders" {
		t.Errorf("previewer calls = %v", calls)
	}

	out.Reset()
	if code := writePlan(&out, &errOut, g, both, planRequest{identities: []string{"email"}}, false, nil); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "Policy: b (access, erasure)\n") ||
		!strings.Contains(out.String(), "Erasure order (2 collections):\n  1. app.orders\n  2. app.customer\n       after   app.orders\n") ||
		strings.Contains(out.String(), "query") {
		t.Errorf("output:\n%s", out.String())
	}
}
