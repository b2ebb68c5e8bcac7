package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

const importSample = `dataset:
  - fides_key: shop
    collections:
      - name: customer
        fields:
          - name: email
            data_categories: [user.contact.email]
            fidesops_meta: {identity: email, data_type: string}
          - name: city
            data_categories: [user.contact.city]
`

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "shop.yml")
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(good, []byte(importSample), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("dataset:\n  - fides_key: x\n    collections: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		args      []string
		code      int
		stdout    []string // substrings
		stderr    []string
		noStdout  bool
		parsesHCL bool
	}{
		{name: "flag after file", args: []string{"import", "fidesops", good, "--connection", "app_db"}, code: 0,
			stdout: []string{`dataset "shop"`, `connection = "app_db"`, `identity   = "email"`},
			stderr: []string{`warning: ` + good + `:10:31: data category "user.contact.city"`}, parsesHCL: true},
		{name: "flag before file", args: []string{"import", "fidesops", "-connection=app_db", good}, code: 0,
			stdout: []string{`connection = "app_db"`}, parsesHCL: true},
		{name: "default connection", args: []string{"import", "fidesops", good}, code: 0,
			stdout: []string{`connection = "shop"`}, stderr: []string{"--connection NAME"}, parsesHCL: true},
		{name: "malformed YAML", args: []string{"import", "fidesops", bad}, code: 1,
			stderr: []string{"error: " + bad + ":", "invalid YAML"}, noStdout: true},
		{name: "missing file", args: []string{"import", "fidesops", filepath.Join(dir, "nope.yml")}, code: 1,
			stderr: []string{"nope.yml"}, noStdout: true},
		{name: "no format", args: []string{"import"}, code: 2, stderr: []string{"Usage: lethe import fidesops"}, noStdout: true},
		{name: "unknown format", args: []string{"import", "dbt", good}, code: 2, stderr: []string{`unknown format "dbt"`}, noStdout: true},
		{name: "two files", args: []string{"import", "fidesops", good, good}, code: 2, stderr: []string{"exactly one"}, noStdout: true},
		{name: "unknown flag", args: []string{"import", "fidesops", "--nope", good}, code: 2, stderr: []string{"nope"}, noStdout: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(c.args, &stdout, &stderr); code != c.code {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, c.code, stderr.String())
			}
			for _, s := range c.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range c.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if c.noStdout && stdout.Len() > 0 {
				t.Errorf("unexpected stdout:\n%s", stdout.String())
			}
			if strings.Contains(stdout.String(), "warning:") {
				t.Errorf("warnings leaked into stdout")
			}
			if c.parsesHCL {
				if _, diags := hclsyntax.ParseConfig(stdout.Bytes(), "out.hcl", hcl.InitialPos); diags.HasErrors() {
					t.Errorf("stdout is not HCL: %s", diags.Error())
				}
			}
		})
	}
}
