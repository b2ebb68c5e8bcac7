package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// baseConfig is a valid deployment the rule cases add a file to.
const baseConfig = `
server {
  listen = "127.0.0.1:8080"
}

connection "db" {
  plugin = "postgres"
  access = "write"
  config = {
    host = "localhost"
  }
}

connection "ro" {
  plugin = "postgres"
  access = "read"
}

storage "results" {
  plugin = "local"
  format = "json"
  config = { path = "/tmp/results" }
}

dataset "app" {
  connection = "db"
  collection "customer" {
    field "id" {
      type        = "integer"
      primary_key = true
      categories  = ["user.unique_id"]
    }
    field "email" {
      type       = "string"
      identity   = "email"
      categories = ["user.contact.email"]
    }
    field "name" {
      type       = "string"
      categories = ["user.name"]
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
  execution_timeframe = "45d"
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
    masking {
      strategy      = "string_rewrite"
      rewrite_value = "MASKED"
    }
  }
}
`

func TestBaseConfigIsValid(t *testing.T) {
	_, cfg, diags := loadAll(t, map[string]string{"base.hcl": baseConfig}, nil)
	if len(diags) > 0 {
		t.Fatalf("diagnostics on the base config:\n%s", dump(diags))
	}
	s := cfg.Summary()
	if s.Datasets != 1 || s.Collections != 2 || s.Policies != 2 || s.Connections != 2 || s.Storages != 1 {
		t.Fatalf("summary %+v", s)
	}
	p := cfg.Policy("erasure")
	if p == nil || p.DRPAction != "deletion" || len(p.Rules) != 1 || p.Rules[0].Masking[0].RewriteValue != "MASKED" {
		t.Fatalf("erasure policy decoded wrong: %+v", p)
	}
	if d := cfg.Policy("access").ExecutionTimeframe; d.Hours() != 45*24 {
		t.Fatalf("execution_timeframe = %v", d)
	}
	f := cfg.Dataset("app").Collection("orders").Field([]string{"customer_id"})
	if f == nil || len(f.References) != 1 || f.References[0].Target.String() != "app.customer.id" || f.References[0].Direction != "from" {
		t.Fatalf("reference decoded wrong: %+v", f)
	}
}

type ruleCase struct {
	name string
	file string // content of case.hcl, loaded with the base config
	env  map[string]string
	want string // substring of summary + ": " + detail
	at   string // needle in case.hcl where the subject starts
	nth  int    // occurrence of the needle
	warn bool   // a warning, not an error
	// other files, and the file the needle is in when not case.hcl
	extra  map[string]string
	inFile string
	noBase bool
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"case.hcl": tc.file}
			if !tc.noBase {
				files["base.hcl"] = baseConfig
			}
			for k, v := range tc.extra {
				files[k] = v
			}
			dir, _, diags := loadAll(t, files, tc.env)
			inFile := tc.inFile
			if inFile == "" {
				inFile = "case.hcl"
			}
			want := posOf(t, files[inFile], tc.at, tc.nth)
			wantSev := hcl.DiagError
			if tc.warn {
				wantSev = hcl.DiagWarning
			}
			for _, d := range diags {
				text := d.Summary + ": " + d.Detail
				if !strings.Contains(text, tc.want) || d.Severity != wantSev {
					continue
				}
				if d.Subject == nil {
					t.Fatalf("diagnostic %q has no subject", text)
				}
				got := d.Subject.Start
				if d.Subject.Filename != filepath.Join(dir, inFile) || got.Line != want.Line || got.Column != want.Column {
					t.Fatalf("diagnostic %q at %s:%d,%d; want %s:%d,%d", text,
						filepath.Base(d.Subject.Filename), got.Line, got.Column, inFile, want.Line, want.Column)
				}
				return
			}
			t.Fatalf("no %s containing %q; got:\n%s", map[bool]string{true: "warning", false: "error"}[tc.warn], tc.want, dump(diags))
		})
	}
}

func TestLoadRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "unknown attribute", file: "auth {\n  token_tll = \"1h\"\n}\n",
			want: `An argument named "token_tll" is not expected here. Did you mean "token_ttl"?`, at: "token_tll"},
		{name: "unknown block", file: "connector \"x\" {}\n", want: `Blocks of type "connector" are not expected here`, at: "connector"},
		{name: "unknown attribute in field", file: `dataset "d" {
  connection = "db"
  collection "c" {
    field "f" {
      data_type = "string"
    }
  }
}`, want: `An argument named "data_type" is not expected here`, at: "data_type"},
		{name: "duplicate dataset across files", file: "dataset \"app\" {\n  connection = \"db\"\n}\n",
			want: "is already declared at " + "", at: `dataset "app"`},
		{name: "duplicate server block", file: "\n\nserver {\n}\n", want: "A server block is already declared at", at: "server"},
		{name: "string for number", file: "server {\n  max_parallel_nodes = \"8\"\n}\n",
			want: `The argument "max_parallel_nodes" must be a number, not a string`, at: `"8"`, extra: nil, noBase: true},
		{name: "number out of range", file: "server {\n  max_parallel_nodes = 1e400\n}\n",
			want: `"max_parallel_nodes" must be a whole number from 1 to 1024`, at: "1e400", noBase: true},
		{name: "fraction for integer", file: "connection \"x\" {\n  plugin = \"p\"\n  access = \"read\"\n  max_parallel = 2.5\n}\n",
			want: `"max_parallel" must be a whole number`, at: "2.5"},
		{name: "bool for string", file: "server {\n  listen = true\n}\n", want: `"listen" must be a string, not a bool`, at: "true", noBase: true},
		{name: "env unset", file: "auth {\n  root_client_id = \"root\"\n  root_client_secret = env(\"LETHE_TEST_UNSET\")\n}\n",
			want: `environment variable "LETHE_TEST_UNSET" is not set`, at: "env("},
		{name: "file missing", file: "auth {\n  root_client_id = \"root\"\n  root_client_secret = file(\"secrets/root\")\n}\n",
			want: `file "secrets/root" does not exist`, at: "file("},
		{name: "file outside the directory", file: "auth {\n  root_client_id = \"root\"\n  root_client_secret = file(\"/etc/passwd\")\n}\n",
			want: `file "/etc/passwd" is outside the configuration directory`, at: "file("},
		{name: "file climbing out", file: "auth {\n  root_client_id = \"root\"\n  root_client_secret = file(\"../x\")\n}\n",
			want: `file "../x" is outside the configuration directory`, at: "file("},
		{name: "other function", file: "server {\n  listen = upper(\"x\")\n}\n", want: `There is no function named "upper"`, at: "upper", noBase: true},
		{name: "variable", file: "server {\n  listen = var.listen\n}\n", want: "Variables may not be used here", at: "var.listen", noBase: true},
		{name: "syntax error", file: "server {\n  listen = \n}\n", want: "Invalid expression", at: "\n}", noBase: true},
		{name: "listen without port", file: "server {\n  listen = \"localhost\"\n}\n", want: "listen must be host:port", at: `"localhost"`, noBase: true},
		{name: "encryption key length", file: "server {\n  encryption_key = \"c2hvcnQ=\"\n}\n", want: "must decode to 32 bytes, not 5", at: `"c2hvcnQ="`, noBase: true},
		{name: "encryption key base64", file: "server {\n  encryption_key = \"!!not base64!!\"\n}\n", want: "encryption_key is not valid base64", at: `"!!not`, noBase: true},
		{name: "log level", file: "server {\n  log_level = \"loud\"\n}\n", want: "log_level must be one of trace, debug, info, warn, error", at: `"loud"`, noBase: true},
		{name: "token ttl", file: "auth {\n  token_ttl = \"1 hour\"\n}\n", want: `"token_ttl" must be a duration like`, at: `"1 hour"`},
		{name: "token ttl range", file: "auth {\n  token_ttl = \"400d\"\n}\n", want: `"token_ttl" must be between 1m0s and 30d`, at: `"400d"`},
		{name: "short root secret", file: "auth {\n  root_client_id = \"root\"\n  root_client_secret = \"short\"\n}\n",
			want: "root_client_secret must be at least 16 characters", at: `"short"`},
		{name: "secret without client id", file: "auth {\n  root_client_secret = \"0123456789abcdef0123\"\n}\n",
			want: "it needs root_client_id too", at: "auth"},
		{name: "drp api base", file: "drp {\n  api_base = \"privacy.example.com\"\n  jwt_secret = \"0123456789abcdef0123456789abcdef\"\n}\n",
			want: "api_base must be an absolute http(s) URL", at: `"privacy`},
		{name: "drp short jwt secret", file: "drp {\n  jwt_secret = \"0123456789\"\n}\n", want: "jwt_secret must be at least 32 bytes", at: `"0123456789"`},
		{name: "drp callback host", file: "drp {\n  jwt_secret = \"0123456789abcdef0123456789abcdef\"\n  callback_hosts = [\"ok.example.org\", \"https://agent.example.org/cb\"]\n}\n",
			want: `"https://agent.example.org/cb" is not a host name`, at: `"https://`},
		{name: "drp replay window range", file: "drp {\n  jwt_secret = \"0123456789abcdef0123456789abcdef\"\n  replay_window = \"10s\"\n}\n",
			want: `"replay_window" must be between 1m0s and 30d`, at: `"10s"`},
		{name: "agent without token", file: "drp {\n  jwt_secret = \"0123456789abcdef0123456789abcdef\"\n  agent \"cr\" {\n  }\n}\n",
			want: `The agent "cr" needs the argument "token"`, at: `agent "cr"`},
		{name: "agent without any jwt secret", file: "drp {\n  agent \"cr\" {\n    token = \"0123456789abcdef0123\"\n  }\n}\n",
			want: `Agent "cr" has no jwt_secret and the drp block sets none either`, at: `agent "cr"`},
		{name: "duplicate agent", file: "drp {\n  jwt_secret = \"0123456789abcdef0123456789abcdef\"\n  agent \"cr\" {\n    token = \"0123456789abcdef0123\"\n  }\n  agent \"cr\" {\n    token = \"0123456789abcdef0123\"\n  }\n}\n",
			want: `An agent named "cr" is already declared at`, at: `agent "cr"`, nth: 1},
		{name: "plugin label", file: "plugin \"postgres\" {\n}\n", want: "A plugin block is named <kind>-<name>", at: `"postgres"`},
		{name: "plugin sha256", file: "plugin \"connector-acme\" {\n  sha256 = \"9f2c\"\n}\n", want: "sha256 must be the 64 hex digits", at: `"9f2c"`},
		{name: "plugin env", file: "plugin \"storage-s3\" {\n  env = [\"AWS_*\", \"AWS-ROLE\"]\n}\n", want: `"AWS-ROLE" is not an environment variable name`, at: `"AWS-ROLE"`},
		{name: "connection access", file: "connection \"x\" {\n  plugin = \"p\"\n  access = \"readwrite\"\n}\n", want: `access must be "read" or "write"`, at: `"readwrite"`},
		{name: "connection without access", file: "connection \"x\" {\n  plugin = \"p\"\n}\n", want: `The connection "x" needs the argument "access"`, at: `connection "x"`},
		{name: "plugin long name", file: "connection \"x\" {\n  plugin = \"lethe-connector-postgres\"\n  access = \"read\"\n}\n",
			want: `short name: "postgres" for lethe-connector-postgres`, at: `"lethe-connector-postgres"`},
		{name: "config not an object", file: "connection \"x\" {\n  plugin = \"p\"\n  access = \"read\"\n  config = \"dsn\"\n}\n",
			want: `"config" must be an object`, at: `"dsn"`},
		{name: "duplicate config key", file: "connection \"x\" {\n  plugin = \"p\"\n  access = \"read\"\n  config = {\n    host = \"a\"\n    host = \"b\"\n  }\n}\n",
			want: `The key "host" is already set at`, at: "host", nth: 1},
		{name: "storage format", file: "storage \"s\" {\n  plugin = \"s3\"\n  format = \"xml\"\n}\n", want: `format must be "json" or "csv"`, at: `"xml"`},
		{name: "category without parent", file: "data_category \"user.loyalty\" {\n  parent = \"usr\"\n}\n",
			want: `Parent "usr" of data category "user.loyalty" does not exist (did you mean "user"?)`, at: `"usr"`},
		{name: "category name does not fit parent", file: "data_category \"user.loyalty\" {\n  parent = \"user.contact\"\n}\n",
			want: `its name must be "user.contact." followed by one segment, e.g. "user.contact.loyalty"`, at: `"user.contact"`},
		{name: "category already default", file: "data_category \"user.name\" {\n  parent = \"user\"\n}\n",
			want: `"user.name" is already in the default taxonomy`, at: "data_category"},
		{name: "reference label", file: "dataset \"d\" {\n  connection = \"db\"\n  collection \"c\" {\n    field \"f\" {\n      reference \"app.customer\" {}\n    }\n  }\n}\n",
			want: `reference "app.customer" must name dataset.collection.field`, at: `"app.customer"`},
		{name: "timeframe", file: "policy \"p\" {\n  execution_timeframe = \"45 days\"\n  rule \"r\" {\n    action = \"access\"\n    targets = [\"user\"]\n    storage = \"results\"\n  }\n}\n",
			want: `"execution_timeframe" must be a duration like "45d"`, at: `"45 days"`},
		{name: "two format_preservation blocks", file: `policy "p" {
  rule "r" {
    action  = "erasure"
    targets = ["user.name"]
    masking {
      strategy = "hash"
      format_preservation { suffix = "@a" }
      format_preservation { suffix = "@b" }
    }
  }
}`, want: "A masking block takes one format_preservation block", at: "format_preservation", nth: 1},
		{name: "masking without strategy", file: `policy "p" {
  rule "r" {
    action  = "erasure"
    targets = ["user.name"]
    masking {
      algorithm = "SHA-256"
    }
  }
}`, want: `The masking block needs the argument "strategy"`, at: "masking"},
		{name: "random length zero", file: `policy "p" {
  rule "r" {
    action  = "erasure"
    targets = ["user.name"]
    masking {
      strategy = "random_string_rewrite"
      length   = 0
    }
  }
}`, want: `"length" must be a whole number from 1 to 1000`, at: "0"},
		{name: "element not a string", file: "dataset \"d\" {\n  connection = \"db\"\n  after = [\"app\", 3]\n  collection \"c\" {\n    field \"f\" {}\n  }\n}\n",
			want: `Element 2 of "after" must be a string`, at: "3"},
		{name: "empty label", file: "dataset \"\" {\n  connection = \"db\"\n}\n", want: "A dataset block needs a non-empty name", at: `""`},
	})
}
