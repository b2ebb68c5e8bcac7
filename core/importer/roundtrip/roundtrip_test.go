// Package roundtrip checks the importer against the real HCL loader:
// YAML -> HCL -> config.Load gives the model ParseFidesops builds from the
// YAML directly. It is a package of its own so that the importer's other
// tests do not depend on core/config.
package roundtrip

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/importer"
)

// importAndLoad converts the testdata files into one directory, loads it
// with core/config and compares every dataset with ParseFidesops' model.
// It returns the loaded configuration and the importer's warnings.
func importAndLoad(t *testing.T, connection string, names ...string) (*config.Config, []string) {
	t.Helper()
	dir := t.TempDir()
	conn := fmt.Sprintf("connection %q {\n  plugin = \"postgres\"\n  access = \"write\"\n  config = {\n    dsn = \"postgres://localhost/example\"\n  }\n}\n", connection)
	if err := os.WriteFile(filepath.Join(dir, "connections.hcl"), []byte(conn), 0o600); err != nil {
		t.Fatal(err)
	}
	var want []*dataset.Dataset
	var warnings []string
	for _, name := range names {
		src, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		model, _, err := importer.ParseFidesops(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, ds := range model {
			ds.Connection = connection
		}
		want = append(want, model...)
		out, w, err := importer.Fidesops(src, name, importer.Options{Connection: connection})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		warnings = append(warnings, w...)
		if err := os.WriteFile(filepath.Join(dir, name+".hcl"), out, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, diags := config.Load(dir)
	if diags.HasErrors() {
		t.Fatalf("config.Load: %s", diags.Error())
	}
	got := map[string]*dataset.Dataset{}
	for _, ds := range cfg.Datasets {
		got[ds.Name] = ds
	}
	if len(got) != len(want) {
		t.Errorf("loaded %d datasets, want %d", len(got), len(want))
	}
	for _, w := range want {
		g := got[w.Name]
		if g == nil {
			t.Errorf("dataset %q not loaded", w.Name)
			continue
		}
		var diffs []string
		compare(reflect.ValueOf(w).Elem(), reflect.ValueOf(g).Elem(), w.Name, &diffs)
		for _, d := range diffs {
			t.Error(d)
		}
	}
	return cfg, warnings
}

func TestRoundTrip(t *testing.T) {
	// mongo_example refers to postgres_example: they load together.
	cfg, _ := importAndLoad(t, "db", "postgres_example.yml", "mongo_example.yml", "json_list.json")
	if diags := cfg.Validate(); len(diags) > 0 {
		t.Fatalf("Validate: %s", diags.Error())
	}
}

// TestRoundTripLegacy: a dataset written for the older taxonomy loads as
// it is, and what validation then rejects is exactly what the importer
// warned about.
func TestRoundTripLegacy(t *testing.T) {
	cfg, warnings := importAndLoad(t, "legacy_shop", "legacy_quirks.yml")
	quoted := regexp.MustCompile(`"[^"]+"`)
	errs := 0
	for _, d := range cfg.Validate() {
		if d.Severity != hcl.DiagError {
			continue
		}
		errs++
		// The offending category or field, as the loader quotes it.
		names := quoted.FindAllString(d.Detail, -1)
		if len(names) < 2 {
			t.Fatalf("unexpected diagnostic %s", d.Error())
		}
		offending := names[1]
		warned := false
		for _, w := range warnings {
			warned = warned || strings.Contains(w, offending)
		}
		if !warned {
			t.Errorf("the loader rejects %s, but the importer did not warn about it: %s", offending, d.Error())
		}
	}
	if errs == 0 {
		t.Error("the legacy dataset validated cleanly; expected its old categories to be rejected")
	}
}

// TestExamplesLoad: every example deployment in configs/ loads and
// validates without a single warning.
func TestExamplesLoad(t *testing.T) {
	for _, env := range []string{"LETHE_PG_DSN", "LETHE_MYSQL_DSN", "LETHE_MONGO_URI", "LETHE_S3_ENDPOINT", "LETHE_S3_ACCESS_KEY_ID", "LETHE_S3_SECRET_ACCESS_KEY",
		"LETHE_ROOT_SECRET", "LETHE_DRP_JWT_SECRET"} {
		t.Setenv(env, "example-value-of-"+env+"-long-enough-for-a-secret")
	}
	t.Setenv("LETHE_ENCRYPTION_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	for _, dir := range []string{"quickstart", "postgres", "mysql", "mongodb", "s3"} {
		t.Run(dir, func(t *testing.T) {
			cfg, diags := config.Load(filepath.Join("..", "..", "..", "configs", dir))
			if diags.HasErrors() {
				t.Fatalf("%s", diags.Error())
			}
			diags = append(diags, cfg.Validate()...)
			for _, d := range diags {
				t.Errorf("%s", d.Error())
			}
			if len(cfg.Datasets) == 0 {
				t.Error("no dataset loaded")
			}
		})
	}
}

var rangeType = reflect.TypeOf(hcl.Range{})

// compare walks two model values and records every difference, ignoring
// source positions (hcl.Range fields, maps of them) and treating nil and
// empty slices alike.
func compare(w, g reflect.Value, path string, diffs *[]string) {
	if w.Type() == rangeType || (w.Kind() == reflect.Map && w.Type().Elem() == rangeType) {
		return
	}
	switch w.Kind() {
	case reflect.Pointer:
		if w.IsNil() || g.IsNil() {
			if w.IsNil() != g.IsNil() {
				*diffs = append(*diffs, path+": one side is nil")
			}
			return
		}
		compare(w.Elem(), g.Elem(), path, diffs)
	case reflect.Struct:
		for i := 0; i < w.NumField(); i++ {
			compare(w.Field(i), g.Field(i), path+"."+w.Type().Field(i).Name, diffs)
		}
	case reflect.Slice:
		if w.Len() != g.Len() {
			*diffs = append(*diffs, fmt.Sprintf("%s: %d items from YAML, %d loaded: %s vs %s", path, w.Len(), g.Len(), show(w), show(g)))
			return
		}
		for i := 0; i < w.Len(); i++ {
			compare(w.Index(i), g.Index(i), fmt.Sprintf("%s[%d]", path, i), diffs)
		}
	default:
		if !reflect.DeepEqual(w.Interface(), g.Interface()) {
			*diffs = append(*diffs, path+": "+show(w)+" from YAML, "+show(g)+" loaded")
		}
	}
}

func show(v reflect.Value) string {
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Pointer {
		return fmt.Sprintf("(%d items)", v.Len())
	}
	return fmt.Sprintf("%#v", v.Interface())
}
