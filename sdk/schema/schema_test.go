package schema

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

var testSchema = Schema{Attributes: []Attribute{
	{Name: "dsn", Type: String, Required: true, Sensitive: true, Description: "connection string"},
	{Name: "port", Type: Int, Default: int64(5432)},
	{Name: "ratio", Type: Float},
	{Name: "tls", Type: Bool, Default: true},
	{Name: "timeout", Type: Duration, Default: "30s"},
	{Name: "idle", Type: Duration, Default: 2 * time.Minute},
	{Name: "hosts", Type: StringList},
	{Name: "labels", Type: StringMap},
}}

func TestValidate(t *testing.T) {
	defaults := Config{"port": int64(5432), "tls": true, "timeout": 30 * time.Second, "idle": 2 * time.Minute}
	with := func(extra Config) Config {
		out := Config{}
		for k, v := range defaults {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name string
		raw  map[string]any
		want Config
		// wantDiags are substrings of the diagnostics, in order; empty
		// means no diagnostic.
		wantDiags []string
		// wantAttr is the attribute path of the first diagnostic.
		wantAttr string
	}{
		{
			name: "defaults applied",
			raw:  map[string]any{"dsn": "postgres://x"},
			want: with(Config{"dsn": "postgres://x"}),
		},
		{
			name: "every type, Go-typed",
			raw: map[string]any{
				"dsn": "d", "port": int64(1), "ratio": 0.5, "tls": false, "timeout": time.Second,
				"idle": 3 * time.Second, "hosts": []string{"a", "b"}, "labels": map[string]string{"k": "v"},
			},
			want: Config{
				"dsn": "d", "port": int64(1), "ratio": 0.5, "tls": false, "timeout": time.Second,
				"idle": 3 * time.Second, "hosts": []string{"a", "b"}, "labels": map[string]string{"k": "v"},
			},
		},
		{
			name: "every type, loosely typed as from JSON or HCL",
			raw: map[string]any{
				"dsn": "d", "port": float64(6543), "ratio": int64(2), "timeout": "1m30s",
				"hosts": []any{"a"}, "labels": map[string]any{"k": "v"},
			},
			want: with(Config{
				"dsn": "d", "port": int64(6543), "ratio": float64(2), "timeout": 90 * time.Second,
				"hosts": []string{"a"}, "labels": map[string]string{"k": "v"},
			}),
		},
		{
			name: "int from int",
			raw:  map[string]any{"dsn": "d", "port": 7},
			want: with(Config{"dsn": "d", "port": int64(7)}),
		},
		{
			name: "null is absent",
			raw:  map[string]any{"dsn": "d", "port": nil},
			want: with(Config{"dsn": "d"}),
		},
		{
			name:      "missing required",
			raw:       map[string]any{},
			want:      defaults,
			wantDiags: []string{`missing required attribute "dsn"`},
			wantAttr:  "dsn",
		},
		{
			name:      "null required",
			raw:       map[string]any{"dsn": nil},
			want:      defaults,
			wantDiags: []string{`missing required attribute "dsn"`},
			wantAttr:  "dsn",
		},
		{
			name:      "unknown attribute lists the valid ones",
			raw:       map[string]any{"dsn": "d", "passwd": "x"},
			want:      with(Config{"dsn": "d"}),
			wantDiags: []string{`unknown attribute "passwd"`},
			wantAttr:  "passwd",
		},
		{
			name:      "wrong type",
			raw:       map[string]any{"dsn": "d", "port": "5432"},
			want:      with(Config{"dsn": "d", "port": nil}),
			wantDiags: []string{`attribute "port" must be a int`},
			wantAttr:  "port",
		},
		{
			name:      "fractional int",
			raw:       map[string]any{"dsn": "d", "port": 1.5},
			want:      with(Config{"dsn": "d", "port": nil}),
			wantDiags: []string{"not a whole number"},
			wantAttr:  "port",
		},
		{
			name:      "int beyond int64",
			raw:       map[string]any{"dsn": "d", "port": 9.3e18},
			want:      with(Config{"dsn": "d", "port": nil}),
			wantDiags: []string{"not a whole number"},
			wantAttr:  "port",
		},
		{
			name:      "2^63 is beyond int64",
			raw:       map[string]any{"dsn": "d", "port": float64(1 << 63)},
			want:      with(Config{"dsn": "d", "port": nil}),
			wantDiags: []string{"not a whole number"},
			wantAttr:  "port",
		},
		{
			name: "-2^63 fits",
			raw:  map[string]any{"dsn": "d", "port": float64(-1 << 63)},
			want: with(Config{"dsn": "d", "port": int64(-1 << 63)}),
		},
		{
			name:      "bad duration",
			raw:       map[string]any{"dsn": "d", "timeout": "soon"},
			want:      with(Config{"dsn": "d", "timeout": nil}),
			wantDiags: []string{`attribute "timeout" must be a duration: not a duration such as "30s"`},
			wantAttr:  "timeout",
		},
		{
			name:      "list with a number",
			raw:       map[string]any{"dsn": "d", "hosts": []any{"a", 1.0}},
			want:      with(Config{"dsn": "d"}),
			wantDiags: []string{"element 1 is not a string"},
			wantAttr:  "hosts",
		},
		{
			name:      "map with a number",
			raw:       map[string]any{"dsn": "d", "labels": map[string]any{"k": true}},
			want:      with(Config{"dsn": "d"}),
			wantDiags: []string{`value of key "k" is not a string`},
			wantAttr:  "labels",
		},
		{
			name:      "several problems, unknown attributes first and sorted",
			raw:       map[string]any{"zeta": 1, "alpha": 2, "tls": "yes"},
			want:      with(Config{"tls": nil}),
			wantDiags: []string{`unknown attribute "alpha"`, `unknown attribute "zeta"`, `missing required attribute "dsn"`, `attribute "tls" must be a bool`},
			wantAttr:  "alpha",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, diags := testSchema.Validate(tc.raw)
			if len(diags) != len(tc.wantDiags) {
				t.Fatalf("got %d diagnostics (%v), want %d: %v", len(diags), diags.Err(), len(tc.wantDiags), tc.wantDiags)
			}
			for i, want := range tc.wantDiags {
				if d := diags[i]; !strings.Contains(d.Error(), want) || d.Severity != Error {
					t.Errorf("diagnostic %d = %q (severity %d), want an error containing %q", i, d.Error(), d.Severity, want)
				}
			}
			if tc.wantAttr != "" && !reflect.DeepEqual(diags[0].Attribute, []string{tc.wantAttr}) {
				t.Errorf("attribute path %v, want [%s]", diags[0].Attribute, tc.wantAttr)
			}
			if diags.HasErrors() != (len(tc.wantDiags) > 0) {
				t.Errorf("HasErrors = %v", diags.HasErrors())
			}
			// A rejected attribute has no value in the config.
			want := Config{}
			for k, v := range tc.want {
				if v != nil {
					want[k] = v
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config:\n got %#v\nwant %#v", got, want)
			}
		})
	}
}

// A sensitive attribute's value never appears in a diagnostic; another
// attribute's value does, to help the user.
func TestValidateKeepsSecretsOut(t *testing.T) {
	const secret = "hunter2-very-secret"
	s := Schema{Attributes: []Attribute{
		{Name: "password", Type: Int, Sensitive: true},
		{Name: "user", Type: Int},
	}}
	_, diags := s.Validate(map[string]any{"password": secret, "user": "bob"})
	if len(diags) != 2 {
		t.Fatalf("want 2 diagnostics, got %v", diags)
	}
	for _, d := range diags {
		if strings.Contains(d.Error(), secret) {
			t.Errorf("diagnostic leaks the secret: %s", d.Error())
		}
	}
	if !strings.Contains(diags[1].Error(), `"bob"`) {
		t.Errorf("diagnostic of a plain attribute should show the value: %s", diags[1].Error())
	}
}

func TestConfigAccessors(t *testing.T) {
	cfg, diags := testSchema.Validate(map[string]any{
		"dsn": "d", "ratio": 0.25, "hosts": []any{"h"}, "labels": map[string]any{"a": "b"},
	})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	if cfg.String("dsn") != "d" || cfg.Int("port") != 5432 || cfg.Float("ratio") != 0.25 || !cfg.Bool("tls") ||
		cfg.Duration("timeout") != 30*time.Second || !reflect.DeepEqual(cfg.StringList("hosts"), []string{"h"}) ||
		cfg.StringMap("labels")["a"] != "b" {
		t.Errorf("accessors disagree with %#v", cfg)
	}
	// Absent attributes read as zero values.
	empty := Config{}
	if empty.String("x") != "" || empty.Int("x") != 0 || empty.Bool("x") || empty.Duration("x") != 0 ||
		empty.StringList("x") != nil || empty.StringMap("x") != nil || empty.Float("x") != 0 {
		t.Error("absent attributes must read as zero values")
	}
}

func TestRedacted(t *testing.T) {
	got := testSchema.Redacted(map[string]any{"dsn": "postgres://u:p@h", "port": int64(1), "bogus": "x"})
	want := map[string]any{"dsn": "(redacted)", "port": int64(1), "bogus": "(redacted)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestDiagnostics(t *testing.T) {
	warn := Diagnostic{Severity: Warning, Summary: "deprecated"}
	err := Diagnostic{Severity: Error, Summary: "bad", Detail: "fix it", Attribute: []string{"a", "b"}}
	if (Diagnostics{warn}).HasErrors() || (Diagnostics{warn}).Err() != nil {
		t.Error("warnings alone are not errors")
	}
	ds := Diagnostics{warn, err}
	if !ds.HasErrors() {
		t.Error("HasErrors = false")
	}
	if got := ds.Err().Error(); got != "a.b: bad: fix it" {
		t.Errorf("Err() = %q", got)
	}
	if (Diagnostics(nil)).Err() != nil {
		t.Error("no diagnostics, no error")
	}
}

func TestInfoHas(t *testing.T) {
	i := Info{Capabilities: []string{CapabilityDryRun}}
	if !i.Has(CapabilityDryRun) || i.Has("other") {
		t.Errorf("Has disagrees with %v", i.Capabilities)
	}
}

func TestTypeString(t *testing.T) {
	for typ, want := range map[Type]string{String: "string", Int: "int", Duration: "duration", StringList: "list(string)", StringMap: "map(string)", Type(99): "Type(99)"} {
		if typ.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(typ), typ.String(), want)
		}
	}
}

func TestDestinationsFailSafe(t *testing.T) {
	marked := Schema{Attributes: []Attribute{
		{Name: "dsn", Type: String, Sensitive: true, Destination: true},
		{Name: "host", Type: String, Destination: true},
		{Name: "schema", Type: String},
		{Name: "file", Type: String, Path: true},
	}}
	if got := marked.Destinations(); strings.Join(got, ",") != "dsn,host" {
		t.Errorf("marked: %v", got)
	}
	if got := marked.Paths(); strings.Join(got, ",") != "file" {
		t.Errorf("paths: %v", got)
	}
	// A schema that marks none: every non-sensitive attribute counts.
	unmarked := Schema{Attributes: []Attribute{
		{Name: "password", Type: String, Sensitive: true},
		{Name: "host", Type: String},
		{Name: "timeout", Type: Duration},
	}}
	if got := unmarked.Destinations(); strings.Join(got, ",") != "host,timeout" {
		t.Errorf("unmarked: %v", got)
	}
}
