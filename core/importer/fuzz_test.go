package importer

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzImport: no input makes the importer panic, and whatever it accepts
// becomes HCL that parses and carries the same model.
func FuzzImport(f *testing.F) {
	files, err := filepath.Glob("testdata/*")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"dataset: [\n",
		"- fides_key: x\n  collections: [{name: c, fields: [{name: f, fields: [{name: g}]}]}]\n",
		"dataset:\n  - fides_key: x\n    collections:\n      - name: \"a\\r\\nb # c\"\n        fields: [{name: \"%{x}\", description: \"\\u2028\"}]\n",
		"x: &a {b: *a}\n",
		"dataset:\n  - &d {fides_key: d, collections: []}\n  - *d\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, _, err := Fidesops(src, "fuzz.yml", Options{Connection: "c"})
		model, _, perr := ParseFidesops(src)
		if (err == nil) != (perr == nil) {
			t.Fatalf("Fidesops error %v but ParseFidesops error %v", err, perr)
		}
		if err != nil {
			if out != nil {
				t.Fatalf("output despite error %v", err)
			}
			return
		}
		for _, ds := range model {
			ds.Connection = "c"
		}
		assertSameModel(t, model, decodeHCL(t, out))
	})
}
