package config

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/sdk/schema"
)

const fuzzSecret = "fuzz-secret-value-7f3a9c"

// FuzzLoad feeds arbitrary bytes to the loader as one file. It must never
// panic, every diagnostic must name a file, and a secret that came from the
// environment must never be rendered.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.hcl")
	examples, _ := filepath.Glob("../../configs/*/*.hcl")
	seeds = append(seeds, examples...)
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		baseConfig,
		"",
		"x = " + strings.Repeat("[", 100),
		"a = \"${\"${\"${1}\"}\"}\"\n",
		"a = <<-EOT\n  ${[[[1]]]}\n  EOT\n",
		"a = \"%{if true}%{for x in [1]}${x}%{endfor}%{endif}\"\n",
		"server {\n  listen = env(\"FUZZ\")\n  max_parallel_nodes = env(\"FUZZ\")\n}\n",
		"auth {\n  root_client_secret = env(\"FUZZ\") \"x\"\n}\n",
		"connection \"c\" {\n  plugin = \"p\"\n  access = \"read\"\n  config = { dsn = env(\"FUZZ\"), n = 1e400, \"k\" = [1, {a = null}] }\n}\n",
		"dataset \"d\" {\n  connection = \"c\"\n  collection \"c\" {\n    field \"f\" {\n      reference \"d.c\" {}\n      field \"g\" { type = \"object[]\" }\n    }\n  }\n}\n",
		"data_category \"user.x\" {\n  parent = \"user\"\n}\ndata_category \"user.x.y\" {\n  parent = \"user.z\"\n}\n",
		"/* unterminated comment",
		"a = 1 /* x */ + !!-2 ? 3 : 4 // y\n# z\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "f.hcl"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, diags := newLoader(dir, func(k string) (string, bool) {
			if k == "FUZZ" {
				return fuzzSecret, true
			}
			return "", false
		}).load()
		if !diags.HasErrors() {
			diags = append(diags, cfg.Validate()...)
			diags = append(diags, cfg.CheckPluginConfigs(func(kind, name string) (schema.Schema, error) {
				return schema.Schema{Attributes: []schema.Attribute{
					{Name: "dsn", Type: schema.Int, Sensitive: true},
					{Name: "n", Type: schema.String},
				}}, nil
			})...)
		}
		for _, d := range diags {
			if d.Subject == nil || d.Subject.Filename == "" {
				t.Fatalf("diagnostic without file: %s: %s", d.Summary, d.Detail)
			}
		}
		var out bytes.Buffer
		if err := cfg.WriteDiagnostics(&out, diags, 0, false); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(fuzzSecret)) && strings.Contains(out.String(), fuzzSecret) {
			t.Fatalf("the environment secret was rendered:\n%s", out.String())
		}
		_ = cfg.WriteDiagnostics(io.Discard, hcl.Diagnostics{}, 80, true)
	})
}
