package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/sdk/schema"
)

const baseHCL = `
connection "db" {
  plugin = "postgres"
  access = "write"
  config = { dsn = "postgres://u:pw-in-file@h/db" }
}
dataset "shop" {
  connection = "db"
  collection "customers" {
    field "id" {
      primary_key = true
      type        = "integer"
      categories  = ["user.unique_id"]
    }
    field "email" {
      type       = "string"
      categories = ["user.contact.email"]
      identity   = "email"
    }
  }
}
storage "local" {
  plugin = "local"
  config = { dir = "out" }
}
policy "access" {
  drp_action = "access"
  rule "all" {
    action  = "access"
    targets = ["user"]
    storage = "local"
  }
}
`

func schemas(_ context.Context, kind, plugin string) (schema.Schema, error) {
	switch kind + "/" + plugin {
	case "storage/local":
		return schema.Schema{Attributes: []schema.Attribute{
			{Name: "dir", Type: schema.String, Required: true},
			{Name: "file_mode", Type: schema.String},
		}}, nil
	case "connector/marked":
		return schema.Schema{Attributes: []schema.Attribute{
			{Name: "host", Type: schema.String, Destination: true},
			{Name: "port", Type: schema.Int, Destination: true},
			{Name: "sslmode", Type: schema.String, Destination: true},
			{Name: "user", Type: schema.String},
			{Name: "password", Type: schema.String, Sensitive: true},
			{Name: "max_connections", Type: schema.Int},
		}}, nil
	case "connector/file":
		return schema.Schema{Attributes: []schema.Attribute{
			{Name: "path", Type: schema.String, Required: true, Path: true},
		}}, nil
	case "connector/postgres":
		return schema.Schema{Attributes: []schema.Attribute{
			{Name: "dsn", Type: schema.String, Required: true, Sensitive: true},
			{Name: "schema", Type: schema.String},
		}}, nil
	}
	return schema.Schema{}, errors.New("no such plugin")
}

type fixture struct {
	dir string
	st  *store.Bolt
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "state"), store.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{dir: dir, st: st}
}

func (f *fixture) open(t *testing.T, extraHCL string) (*Catalog, error) {
	t.Helper()
	cfgDir := filepath.Join(f.dir, "cfg")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "main.hcl"), []byte(baseHCL+extraHCL), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(cfgDir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if diags := cfg.Validate(); diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var applied *config.Config
	c, err := Open(context.Background(), Options{Base: cfg, Store: f.st, Schema: schemas, Apply: func(c *config.Config) error { applied = c; return nil }})
	if err == nil && applied != c.Config() {
		t.Fatal("Open did not put the configuration in force")
	}
	return c, err
}

func TestChangesAreValidatedBeforeStored(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	c, err := f.open(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutStorage(ctx, StorageInput{Name: "API disk", Key: "api", Type: "local", Details: map[string]any{"dir": "api-out", "naming": "request_id"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutPolicy(ctx, PolicyInput{Name: "Export", Key: "export", ExecutionTimeframe: "30d"}); err != nil {
		t.Fatal(err)
	}
	var inv *InvalidError
	var decl *DeclaredError
	tests := []struct {
		name string
		do   func() error
		// check the error: invalid (with a problem mentioning want),
		// declared, or a plain error mentioning want.
		kind string
		want string
	}{
		{"second policy for a DRP action", func() error {
			_, err := c.PutPolicy(ctx, PolicyInput{Key: "dup", DRPAction: "access"})
			return err
		}, "invalid", "DRP action"},
		{"unknown DRP action", func() error { _, err := c.PutPolicy(ctx, PolicyInput{Key: "x", DRPAction: "sell"}); return err }, "plain", "not a DRP action"},
		{"bad timeframe", func() error {
			_, err := c.PutPolicy(ctx, PolicyInput{Key: "x", ExecutionTimeframe: "soon"})
			return err
		}, "invalid", "soon"},
		{"declared policy", func() error { _, err := c.PutPolicy(ctx, PolicyInput{Key: "access"}); return err }, "declared", "main.hcl"},
		{"rule on a declared policy", func() error {
			_, err := c.PutRule(ctx, "access", RuleInput{Key: "r", ActionType: "access", StorageDestinationKey: "local"})
			return err
		}, "declared", "main.hcl"},
		{"rule with an unknown storage", func() error {
			_, err := c.PutRule(ctx, "export", RuleInput{Key: "r", ActionType: "access", StorageDestinationKey: "nowhere"})
			return err
		}, "invalid", "nowhere"},
		{"erasure rule without masking", func() error {
			_, err := c.PutRule(ctx, "export", RuleInput{Key: "r", ActionType: "erasure"})
			return err
		}, "plain", "masking_strategy"},
		{"unknown masking parameter", func() error {
			_, err := c.PutRule(ctx, "export", RuleInput{Key: "r", ActionType: "erasure", MaskingStrategy: json.RawMessage(`{"strategy": "hash", "configuration": {"pepper": "x"}}`)})
			return err
		}, "invalid", "pepper"},
		{"unknown masking strategy", func() error {
			_, err := c.PutRule(ctx, "export", RuleInput{Key: "r", ActionType: "erasure", MaskingStrategy: json.RawMessage(`{"strategy": "rot13"}`)})
			return err
		}, "invalid", "rot13"},
		{"rule of a missing policy", func() error {
			_, err := c.PutRule(ctx, "ghost", RuleInput{Key: "r", ActionType: "access", StorageDestinationKey: "api"})
			return err
		}, "notfound", ""},
		{"storage with an unknown detail", func() error {
			_, err := c.PutStorage(ctx, StorageInput{Key: "s2", Type: "local", Details: map[string]any{"dir": "x", "colour": "red"}})
			return err
		}, "invalid", "colour"},
		{"storage without a required detail", func() error {
			_, err := c.PutStorage(ctx, StorageInput{Key: "s2", Type: "local"})
			return err
		}, "invalid", "dir"},
		{"storage of an unknown plugin", func() error {
			_, err := c.PutStorage(ctx, StorageInput{Key: "s2", Type: "ftp", Details: map[string]any{"dir": "x"}})
			return err
		}, "invalid", "ftp"},
		{"declared storage", func() error {
			_, err := c.PutStorage(ctx, StorageInput{Key: "local", Type: "local", Details: map[string]any{"dir": "x"}})
			return err
		}, "declared", "main.hcl"},
		{"secret of a declared connection", func() error {
			_, err := c.PutConnectionSecret(ctx, "db", json.RawMessage(`{"dsn": "x"}`), false)
			return err
		}, "declared", "main.hcl"},
		{"dataset clashing with a declared one", func() error {
			_, err := c.PutConnection(ctx, ConnectionInput{Key: "api_db", ConnectionType: "postgres", Access: "read"})
			if err != nil {
				return err
			}
			_, err = c.PutDataset(ctx, "api_db", json.RawMessage(`{"fides_key": "shop", "collections": []}`))
			return err
		}, "declared", "main.hcl"},
		{"dataset referencing a missing field", func() error {
			_, err := c.PutDataset(ctx, "api_db", json.RawMessage(`{"fides_key": "extra", "collections": [{"name": "orders", "fields": [
				{"name": "customer_id", "fidesops_meta": {"references": [{"dataset": "shop", "field": "customers.nope", "direction": "from"}]}}]}]}`))
			return err
		}, "invalid", "nope"},
		{"deleting a storage a policy uses", func() error {
			if _, err := c.PutRule(ctx, "export", RuleInput{Key: "all", ActionType: "access", StorageDestinationKey: "api"}); err != nil {
				return err
			}
			return c.DeleteStorage(ctx, "api")
		}, "invalid", "api"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, f.st)
			err := tc.do()
			switch tc.kind {
			case "invalid":
				if !errors.As(err, &inv) || !strings.Contains(strings.Join(inv.Problems, "\n"), tc.want) {
					t.Fatalf("got %v, want an InvalidError mentioning %q", err, tc.want)
				}
			case "declared":
				if !errors.As(err, &decl) || !strings.Contains(decl.File, tc.want) {
					t.Fatalf("got %v, want a DeclaredError naming %q", err, tc.want)
				}
			case "notfound":
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("got %v, want ErrNotFound", err)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
				}
			}
			if tc.name != "dataset clashing with a declared one" && tc.name != "deleting a storage a policy uses" {
				if after := snapshot(t, f.st); after != before {
					t.Errorf("a refused change was stored:\nbefore %s\nafter  %s", before, after)
				}
			}
		})
	}
}

// snapshot lists every stored object, for "nothing changed" checks.
func snapshot(t *testing.T, st *store.Bolt) string {
	t.Helper()
	var b strings.Builder
	for _, k := range kinds {
		objs, err := st.ListObjects(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			b.WriteString(k + "/" + o.Key + "@" + string(rune('0'+o.Version)) + " ")
		}
	}
	return b.String()
}

func TestObjectsSurviveReopenAndSecretsStayHidden(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	c, err := f.open(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutConnection(ctx, ConnectionInput{Name: "API DB", Key: "api_db", ConnectionType: "postgres", Access: "read"}); err != nil {
		t.Fatalf("a connection whose secret comes later: %v", err)
	}
	if _, err := c.PutConnectionSecret(ctx, "api_db", json.RawMessage(`{"colour": "x"}`), false); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("a secret with an unknown key: %v", err)
	}
	const dsn = "postgres://api:very-secret-pw@h/db"
	if _, err := c.PutConnectionSecret(ctx, "api_db", json.RawMessage(`{"dsn": "`+dsn+`"}`), false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutPolicy(ctx, PolicyInput{Name: "Forget me", Key: "forget"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRule(ctx, "forget", RuleInput{Name: "Names", Key: "names", ActionType: "erasure",
		MaskingStrategy: json.RawMessage(`{"strategy": "string_rewrite", "configuration": {"rewrite_value": "MASKED", "format_preservation": {"suffix": "!"}}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutTarget(ctx, "forget", "names", TargetInput{DataCategory: "user.contact.email"}); err != nil {
		t.Fatal(err)
	}
	view, err := c.Connection(ctx, "api_db")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(view)
	if strings.Contains(string(data), "very-secret-pw") || !view.HasSecret {
		t.Fatalf("connection view: %s", data)
	}
	data, _ = json.Marshal(c.Connections(ctx))
	if strings.Contains(string(data), "pw-in-file") {
		t.Fatalf("a declared connection's secret is shown: %s", data)
	}

	// Reopen: everything is back, with the secret merged into the config.
	c2, err := f.open(t, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := c2.Config()
	if x := cfg.Connection("api_db"); x == nil || x.Config["dsn"] != dsn {
		t.Fatalf("connection after reopen: %+v", x)
	}
	p := cfg.Policy("forget")
	if p == nil || len(p.Rules) != 1 || p.Rules[0].Masking[0].RewriteValue != "MASKED" || p.Rules[0].Masking[0].Suffix != "!" || p.Rules[0].Targets[0] != "user.contact.email" {
		t.Fatalf("policy after reopen: %+v", p)
	}
	// A file that now contradicts a stored object stops Open.
	if _, err := f.open(t, "\npolicy \"forget\" {\n  rule \"x\" {\n    action = \"access\"\n    targets = [\"user\"]\n    storage = \"local\"\n  }\n}\n"); err == nil {
		t.Fatal("Open accepted a stored policy that a file now declares too")
	}
	// Deleting the connection takes its secret with it.
	if err := c2.DeleteConnection(ctx, "api_db"); err != nil {
		t.Fatal(err)
	}
	if objs, _ := f.st.ListObjects(ctx, KindConnectionSecret); len(objs) != 0 {
		t.Fatalf("secrets left: %d", len(objs))
	}
}
