package config

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

func TestDuplicateAcrossFilesNamesTheFirst(t *testing.T) {
	files := map[string]string{
		"a.hcl": "connection \"db\" {\n  plugin = \"p\"\n  access = \"read\"\n}\n\ndataset \"app\" {\n  connection = \"db\"\n  collection \"c\" {\n    field \"f\" {}\n  }\n}\n",
		"b.hcl": "\ndataset \"app\" {\n  connection = \"db\"\n  collection \"c\" {\n    field \"f\" {}\n  }\n}\n",
	}
	dir, cfg, diags := loadAll(t, files, nil)
	if len(diags) != 1 {
		t.Fatalf("want one diagnostic, got:\n%s", dump(diags))
	}
	d := diags[0]
	wantFirst := fmt.Sprintf("already declared at %s:6,1", filepath.Join(dir, "a.hcl"))
	if d.Subject.Filename != filepath.Join(dir, "b.hcl") || d.Subject.Start.Line != 2 || !strings.Contains(d.Detail, wantFirst) {
		t.Fatalf("got %s:%d %q; want b.hcl:2 saying %q", d.Subject.Filename, d.Subject.Start.Line, d.Detail, wantFirst)
	}
	if len(cfg.Datasets) != 1 {
		t.Fatalf("the duplicate must not be kept: %d datasets", len(cfg.Datasets))
	}
}

func TestFilesLoadInNameOrder(t *testing.T) {
	files := map[string]string{
		"b.hcl": "connection \"db\" {\n  plugin = \"p\"\n  access = \"read\"\n}\ndataset \"second\" {\n  connection = \"db\"\n  collection \"c\" {\n    field \"f\" {}\n  }\n}\n",
		"a.hcl": "dataset \"first\" {\n  connection = \"db\"\n  collection \"c\" {\n    field \"f\" {}\n  }\n}\n",
		// Not configuration: ignored.
		"notes.txt":   "dataset {",
		".hidden.hcl": "dataset {",
	}
	for i := 0; i < 3; i++ {
		_, cfg, diags := loadAll(t, files, nil)
		if len(diags) > 0 {
			t.Fatal(dump(diags))
		}
		if cfg.Datasets[0].Name != "first" || cfg.Datasets[1].Name != "second" {
			t.Fatalf("datasets in order %s, %s", cfg.Datasets[0].Name, cfg.Datasets[1].Name)
		}
	}
}

func TestEnvAndFile(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	files := map[string]string{
		"main.hcl": `
server {
  encryption_key = env("KEY")
  state_dir      = "state"
}
auth {
  root_client_id     = "root"
  root_client_secret = file("secrets/root")
  token_ttl          = "${env("TTL")}m"
}
drp {
  jwt_secret = file("./secrets/jwt")
}
`,
		"secrets/root": "root-secret-0123456789\n",
		"secrets/jwt":  "jwt-secret-0123456789abcdef0123456789\r\n",
	}
	dir, cfg, diags := loadAll(t, files, map[string]string{"KEY": key, "TTL": "90"})
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			t.Fatal(dump(diags))
		}
	}
	if got := cfg.Server.EncryptionKey.Reveal(); got != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("encryption key %q", got)
	}
	if got := cfg.Auth.RootClientSecret.Reveal(); got != "root-secret-0123456789" {
		t.Fatalf("file() gave %q; want the content without its trailing newline", got)
	}
	if got := cfg.DRP.JWTSecret.Reveal(); got != "jwt-secret-0123456789abcdef0123456789" {
		t.Fatalf("file() gave %q; want the content without its trailing CRLF", got)
	}
	if cfg.Auth.TokenTTL != 90*time.Minute {
		t.Fatalf("token_ttl %v", cfg.Auth.TokenTTL)
	}
	if want, _ := filepath.Abs(filepath.Join(dir, "state")); cfg.Server.StateDir != want {
		t.Fatalf("state_dir %q, want %q (relative to the configuration directory)", cfg.Server.StateDir, want)
	}
	// Secrets print redacted.
	for _, s := range []string{fmt.Sprint(cfg.Auth.RootClientSecret), fmt.Sprintf("%v %+v", cfg.Auth, cfg.DRP), fmt.Sprintf("%#v", cfg.Server)} {
		if strings.Contains(s, "root-secret") || strings.Contains(s, "jwt-secret") || strings.Contains(s, "0123456789abcdef0123456789abcdef") {
			t.Fatalf("a secret printed: %s", s)
		}
	}
}

func TestFileThroughSymlinkOutsideIsRefused(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("outside-secret-value"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := writeDir(t, map[string]string{"a.hcl": "auth {\n  root_client_id = \"r\"\n  root_client_secret = file(\"link\")\n}\n"})
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "link")); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	cfg, diags := loadWith(dir, nil)
	out := render(t, cfg, diags)
	if !diags.HasErrors() || !strings.Contains(out, `file "link" leads outside the configuration directory`) {
		t.Fatalf("want a refusal, got:\n%s", out)
	}
	if strings.Contains(out, "outside-secret-value") {
		t.Fatal("the file's content leaked")
	}
}

func TestDollarBraceEscapeRoundTrips(t *testing.T) {
	_, cfg, diags := loadAll(t, map[string]string{"a.hcl": "auth {\n  root_client_id = \"root\"\n  root_client_secret = \"pa$${ss}%%{x}word-0123456789\"\n}\n"}, nil)
	if diags.HasErrors() {
		t.Fatal(dump(diags))
	}
	if got := cfg.Auth.RootClientSecret.Reveal(); got != "pa${ss}%{x}word-0123456789" {
		t.Fatalf("secret %q", got)
	}
}

func TestDataCategoriesAcrossFiles(t *testing.T) {
	// The child comes in an earlier file than its parent.
	files := map[string]string{
		"a.hcl": "data_category \"user.loyalty.points\" {\n  parent = \"user.loyalty\"\n  description = \"Balance\"\n}\n",
		"b.hcl": "data_category \"user.loyalty\" {\n  parent = \"user\"\n}\n" + `
connection "db" {
  plugin = "p"
  access = "read"
}
dataset "d" {
  connection = "db"
  collection "c" {
    field "f" { categories = ["user.loyalty.points"] }
  }
}
policy "p" {
  rule "r" {
    action = "erasure"
    targets = ["user.loyalty"]
    masking { strategy = "null_rewrite" }
  }
}`,
	}
	_, cfg, diags := loadAll(t, files, nil)
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			t.Fatal(dump(diags))
		}
	}
	if !cfg.Taxonomy.Has("user.loyalty.points") || cfg.Taxonomy.Get("user.loyalty.points").Description != "Balance" {
		t.Fatal("declared category missing from the taxonomy")
	}
	if len(cfg.Categories) != 2 || cfg.Categories[0].Name != "user.loyalty" {
		t.Fatalf("categories %+v", cfg.Categories)
	}
}

func TestRefusedBeforeParsing(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want string
	}{
		{"100k brackets", "x = " + strings.Repeat("[", 100_000), "Nesting too deep"},
		{"200k parentheses", "x = " + strings.Repeat("(", 200_000) + "1" + strings.Repeat(")", 200_000), "Nesting too deep"},
		{"braces", strings.Repeat("a {\n", 70), "Nesting too deep"},
		{"nested templates", "x = \"" + strings.Repeat("${\"", 70), "Nesting too deep"},
		{"heredoc templates", "x = <<EOT\n" + strings.Repeat("${[", 40) + "\nEOT\n", "Nesting too deep"},
		{"template directives", "x = \"" + strings.Repeat("%{if true}", 70) + "\"", "Nesting too deep"},
		{"unary run", "x = " + strings.Repeat("!", 100_000) + "true", "Expression too complex"},
		{"negation run", "x = " + strings.Repeat("- ", 100_000) + "1", "Expression too complex"},
		{"binary chain", "x = 1" + strings.Repeat("+1", 100_000), "Expression too complex"},
		{"conditional chain", "x = " + strings.Repeat("true ? 1 : ", 100_000) + "1", "Expression too complex"},
		{"chain over lines in brackets", "x = [1\n" + strings.Repeat("+1\n", 1000) + "]", "Expression too complex"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeDir(t, map[string]string{"a.hcl": tc.src})
			cfg, diags := loadWith(dir, nil)
			if len(diags) != 1 || diags[0].Summary != tc.want || diags[0].Subject == nil || diags[0].Subject.Filename != filepath.Join(dir, "a.hcl") {
				t.Fatalf("want one %q diagnostic on a.hcl, got:\n%s", tc.want, dump(diags))
			}
			out := render(t, cfg, diags)
			if len(out) > 2000 {
				t.Fatalf("rendering is %d bytes long; the offending line must not be echoed", len(out))
			}
		})
	}
}

// Nesting and chains a real configuration uses pass the pre-scan.
func TestOrdinaryNestingPasses(t *testing.T) {
	deep := strings.Repeat("field \"f\" {\n", 30) + strings.Repeat("}\n", 30)
	src := `
connection "db" {
  plugin = "p"
  access = "read"
  config = { a = { b = [[1, 2], [3]] }, c = "x-${"y"}" }
}
dataset "d" {
  connection = "db"
  after = [` + strings.Repeat(`"d", `, 300) + `"d"]
  collection "c" {
    ` + deep + `
  }
}
`
	dir := writeDir(t, map[string]string{"a.hcl": src, "b.hcl": "# comment with [[[[ ((( {{{ \n/* " + strings.Repeat("[", 500) + " */\n" + `data_category "user.x" {
  parent = "user"
  description = <<EOT
  brackets in a heredoc: ` + strings.Repeat("[", 500) + `
  EOT
}
`})
	_, diags := loadWith(dir, nil)
	if diags.HasErrors() {
		t.Fatal(dump(diags))
	}
}

func TestTooLargeFile(t *testing.T) {
	dir := writeDir(t, map[string]string{"big.hcl": "# " + strings.Repeat("x", MaxFileSize) + "\n"})
	_, diags := loadWith(dir, nil)
	if len(diags) != 1 || diags[0].Summary != "Configuration file too large" || diags[0].Subject.Filename != filepath.Join(dir, "big.hcl") {
		t.Fatalf("got:\n%s", dump(diags))
	}
}

func TestTooManyFiles(t *testing.T) {
	files := map[string]string{}
	for i := 0; i <= MaxFiles; i++ {
		files[fmt.Sprintf("f%04d.hcl", i)] = ""
	}
	dir := writeDir(t, files)
	_, diags := loadWith(dir, nil)
	if len(diags) != 1 || diags[0].Summary != "Too many configuration files" || !strings.Contains(diags[0].Detail, "1001") || diags[0].Subject.Filename != dir {
		t.Fatalf("got:\n%s", dump(diags))
	}
}

func TestDirectoryProblems(t *testing.T) {
	_, diags := loadWith(filepath.Join(t.TempDir(), "missing"), nil)
	if len(diags) != 1 || diags[0].Summary != "Cannot read the configuration directory" {
		t.Fatalf("got:\n%s", dump(diags))
	}
	_, diags = loadWith(t.TempDir(), nil)
	if len(diags) != 1 || diags[0].Summary != "No configuration files" {
		t.Fatalf("got:\n%s", dump(diags))
	}
	dir := writeDir(t, map[string]string{"a.hcl": "", "b.hcl.json": "{}"})
	_, diags = loadWith(dir, nil)
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || !strings.Contains(diags[0].Detail, "b.hcl.json is ignored") {
		t.Fatalf("got:\n%s", dump(diags))
	}
}

func TestDiagnosticsAreDeterministic(t *testing.T) {
	files := map[string]string{
		"a.hcl": ds(`collection "c" {
    field "f" { categories = ["nope.a", "nope.b"] }
    field "g" {
      reference "x.y.z" {}
    }
  }`),
		"b.hcl": erasure(`["user", "user.name", "nope"]`, "    masking { strategy = \"hash\" }"),
		"c.hcl": "connection \"db\" {\n  plugin = \"p\"\n  access = \"write\"\n  config = { z = 1, a = 2, m = 3 }\n}\n",
	}
	var first string
	for i := 0; i < 5; i++ {
		dir, cfg, diags := loadAll(t, files, nil)
		out := strings.ReplaceAll(render(t, cfg, diags), dir, "DIR")
		if i == 0 {
			first = out
			if !strings.Contains(out, "nope.a") {
				t.Fatalf("unexpected output:\n%s", out)
			}
		} else if out != first {
			t.Fatalf("run %d differs:\n%s\n---\n%s", i, out, first)
		}
	}
}

func TestForExpressionsRefused(t *testing.T) {
	for _, src := range []string{
		"dataset \"d\" {\n  after = [for x in [\"a\", \"b\"]: x]\n}\n",
		"dataset \"d\" {\n  description = \"%{for x in [1, 2]}${x}%{endfor}\"\n}\n",
		// Nested, this would take 3^40 steps to evaluate.
		"dataset \"d\" {\n  after = " + strings.Repeat("[for x in [1, 2, 3]: ", 40) + "1" + strings.Repeat("]", 40) + "\n}\n",
	} {
		dir := writeDir(t, map[string]string{"a.hcl": src})
		_, diags := loadWith(dir, nil)
		if len(diags) != 1 || diags[0].Summary != "For expressions are not supported" || diags[0].Subject.Start.Line != 2 {
			t.Fatalf("%s: got:\n%s", src, dump(diags))
		}
	}
}

func TestDefaultsWithoutBlocks(t *testing.T) {
	_, cfg, diags := loadAll(t, map[string]string{"a.hcl": "# nothing but defaults\n"}, nil)
	if len(diags) > 0 {
		t.Fatal(dump(diags))
	}
	if cfg.Server.Listen != DefaultListen || cfg.Server.MaxParallelNodes != DefaultMaxParallelNodes || cfg.Server.LogLevel != "info" ||
		cfg.Auth.TokenTTL != DefaultTokenTTL || cfg.Server.StateDir != "" || cfg.Server.EncryptionKey.IsSet() {
		t.Fatalf("defaults: %+v %+v", cfg.Server, cfg.Auth)
	}
	_, cfg, _ = loadAll(t, map[string]string{"a.hcl": "server {\n  max_parallel_nodes = 2\n}\nconnection \"c\" {\n  plugin = \"p\"\n  access = \"write\"\n}\nstorage \"s\" {\n  plugin = \"p\"\n}\n"}, nil)
	if cfg.Server.Listen != DefaultListen || cfg.Server.MaxParallelNodes != 2 {
		t.Fatalf("server: %+v", cfg.Server)
	}
	if c := cfg.Connection("c"); c.MaxParallel != DefaultMaxParallel || c.Config == nil || c.ConfigRange != (hcl.Range{}) {
		t.Fatalf("connection: %+v", c)
	}
	if s := cfg.Storage("s"); s.Format != FormatJSON {
		t.Fatalf("storage: %+v", s)
	}
}

// scanBytes recognises heredoc markers in ASCII only; the lexer accepts any
// Unicode letter. The token check behind it still sees the brackets after
// such a heredoc as code and refuses them.
func TestTokenCheckBacksTheByteScan(t *testing.T) {
	src := "x = <<ÉOT\n\"\nÉOT\ny = " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n"
	if d := scanBytes([]byte(src), "a.hcl"); d != nil {
		t.Fatalf("scanBytes refused it (%s); the test needs an input it misreads", d.Summary)
	}
	dir := writeDir(t, map[string]string{"a.hcl": src})
	_, diags := loadWith(dir, nil)
	if len(diags) != 1 || diags[0].Summary != "Nesting too deep" || diags[0].Subject.Start.Line != 4 {
		t.Fatalf("got:\n%s", dump(diags))
	}
}

// The example deployments of the repository load and validate.
func TestExampleConfigs(t *testing.T) {
	dirs, _ := filepath.Glob("../../configs/*")
	n := 0
	for _, dir := range dirs {
		if matches, _ := filepath.Glob(filepath.Join(dir, "*.hcl")); len(matches) == 0 {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, diags := newLoader(dir, func(name string) (string, bool) {
				if strings.Contains(name, "ENCRYPTION_KEY") {
					return base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")), true
				}
				return "test-value-0123456789abcdef0123456789", true
			}).load()
			if !diags.HasErrors() {
				diags = append(diags, cfg.Validate()...)
			}
			if diags.HasErrors() {
				t.Fatal(render(t, cfg, diags))
			}
		})
	}
	if n == 0 {
		t.Fatal("no example configurations in ../../configs: the examples are part of the repository")
	}
}

func TestPluginEnv(t *testing.T) {
	_, cfg, diags := loadAll(t, map[string]string{"main.hcl": "plugin \"storage-s3\" {\n  env = [\"AWS_*\", \"AWS_ROLE_ARN\"]\n}\n"}, nil)
	if diags.HasErrors() {
		t.Fatal(dump(diags))
	}
	if len(cfg.Plugins) != 1 || strings.Join(cfg.Plugins[0].Env, ",") != "AWS_*,AWS_ROLE_ARN" {
		t.Fatalf("plugins %+v", cfg.Plugins)
	}
}
