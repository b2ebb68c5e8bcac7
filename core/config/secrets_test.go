package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/sdk/schema"
)

// Every value below is a secret that no rendered diagnostic may contain,
// even where the line holding it is shown as a snippet.
var planted = []string{
	"lit-secret-AAAA", "lit-secret-BBBB", "lit-secret-CCCC", "env-secret-DDDD", "lit-secret-EEEE",
	"lit-secret-FFFF", "lit-secret-GGGG", "env-secret-HHHH", "lit-secret-IIII", "lit-secret-JJJJ",
}

func assertNoSecrets(t *testing.T, out string) {
	t.Helper()
	for _, s := range planted {
		if strings.Contains(out, s) {
			t.Errorf("secret %q appears in:\n%s", s, out)
		}
		// Nor a recognisable part of it.
		if strings.Contains(out, s[len(s)-4:]+"\n") || strings.Contains(out, s[len(s)-4:]+`"`) {
			t.Errorf("part of secret %q appears in:\n%s", s, out)
		}
	}
}

func wantSummaries(t *testing.T, diags hcl.Diagnostics, summaries ...string) {
	t.Helper()
	for _, s := range summaries {
		found := false
		for _, d := range diags {
			if d.Summary == s {
				found = true
			}
		}
		if !found {
			t.Errorf("no diagnostic %q in:\n%s", s, dump(diags))
		}
	}
}

func TestSecretsNeverInSyntaxErrorSnippets(t *testing.T) {
	files := map[string]string{
		"a.hcl": "auth {\n  root_client_id = \"root\"\n  root_client_secret = \"lit-secret-AAAA\" \"extra\"\n}\n",
		"b.hcl": "drp {\n  jwt_secret = \"lit-secret-BBBB\n}\n",
		"c.hcl": "connection \"db\" {\n  plugin = \"p\"\n  access = \"read\"\n  config = {\n    password = \"lit-secret-IIII\" +\n  }\n}\n",
	}
	dir := writeDir(t, files)
	cfg, diags := loadWith(dir, nil)
	if !diags.HasErrors() {
		t.Fatal("want syntax errors")
	}
	out := render(t, cfg, diags)
	assertNoSecrets(t, out)
	if !strings.Contains(out, "root_client_secret = ") {
		t.Fatalf("the snippet should still show the attribute:\n%s", out)
	}
}

func TestSecretsNeverInValueErrors(t *testing.T) {
	files := map[string]string{
		"a.hcl": `
server {
  listen             = env("S")
  encryption_key     = "lit-secret-EEEE"
  max_parallel_nodes = env("S")
}
auth {
  root_client_id     = "root"
  root_client_secret = 1234567890
  token_ttl          = env("S")
}
drp {
  jwt_secret = <<EOT
lit-secret-CCCC
EOT
  agent "a" {
    token = "lit-secret-JJJJ"
    jwt_secret = "lit-secret-JJJJ"
  }
}
`,
	}
	_, cfg, diags := loadAll(t, files, map[string]string{"S": "env-secret-DDDD"})
	wantSummaries(t, diags, "Invalid value for listen", "Invalid value for encryption_key", "Incorrect attribute value type",
		"Invalid value for token_ttl", "Invalid value for jwt_secret")
	out := render(t, cfg, diags)
	assertNoSecrets(t, out)
	if strings.Contains(out, "1234567890") {
		t.Errorf("a numeric secret appears in:\n%s", out)
	}
}

func TestSecretsNeverInPluginConfigErrors(t *testing.T) {
	files := map[string]string{
		"a.hcl": `
connection "db" {
  plugin = "pg"
  access = "write"
  config = {
    password = "lit-secret-FFFF"
    pwd      = "lit-secret-GGGG"
    port     = env("S")
    host     = "db.internal"
    extra    = true
  }
}
storage "s" {
  plugin = "missing"
  config = { bucket = "b" }
}
`,
	}
	dir, cfg, diags := loadAll(t, files, map[string]string{"S": "env-secret-HHHH"})
	if len(diags) > 0 {
		t.Fatal(dump(diags))
	}
	pg := schema.Schema{Attributes: []schema.Attribute{
		{Name: "host", Type: schema.String, Required: true},
		{Name: "port", Type: schema.Int},
		{Name: "password", Type: schema.Int, Sensitive: true},
		{Name: "pwd", Type: schema.Bool, Sensitive: true},
		{Name: "database", Type: schema.String, Required: true},
	}}
	diags = cfg.CheckPluginConfigs(func(kind, name string) (schema.Schema, error) {
		if kind == schema.KindConnector && name == "pg" {
			return pg, nil
		}
		return schema.Schema{}, errors.New("no " + kind + " plugin " + name)
	})
	out := render(t, cfg, diags)
	assertNoSecrets(t, out)

	src := files["a.hcl"]
	for _, c := range []struct{ want, at string }{
		{`unknown attribute "extra"`, "true"},
		{`attribute "password" must be a int`, `"lit-secret-FFFF"`},
		{`attribute "pwd" must be a bool`, `"lit-secret-GGGG"`},
		{`attribute "port" must be a int`, `env("S")`},
		{`missing required attribute "database"`, "{\n    password"},
		{`storage "s" uses storage plugin "missing", which was not found in the plugin directory`, `"missing"`},
	} {
		want := posOf(t, src, c.at, 0)
		found := false
		for _, d := range diags {
			if strings.Contains(strings.ToLower(d.Detail), strings.ToLower(c.want)) {
				found = true
				if d.Subject == nil || d.Subject.Filename != dir+"/a.hcl" || d.Subject.Start.Line != want.Line || d.Subject.Start.Column != want.Column {
					t.Errorf("%q at %v; want line %d col %d", c.want, d.Subject, want.Line, want.Column)
				}
			}
		}
		if !found {
			t.Errorf("no diagnostic saying %q in:\n%s", c.want, dump(diags))
		}
	}
	if !strings.Contains(out, `password = "***************"`) || !strings.Contains(out, `pwd      = "***************"`) {
		t.Errorf("sensitive values must be masked in snippets:\n%s", out)
	}
	if !strings.Contains(out, `port     = env("S")`) {
		t.Errorf("env() names stay readable:\n%s", out)
	}
}
