package importer

// Checks on the example deployments in configs/ that need no loader: they
// parse, their datasets agree with the sample data they ship with, every
// category exists, every reference lands and every collection is reachable
// from an identity. They live here because the importer's tests already
// read HCL datasets back into the model.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/lethehq/lethe/core/dataset"
)

const configsDir = "../../configs"

var exampleDirs = []string{"quickstart", "postgres", "mysql", "mongodb", "s3"}

func exampleDatasets(t *testing.T, dir string) []*dataset.Dataset {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(configsDir, dir, "dataset.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	return decodeHCL(t, src)
}

func TestExampleConfigsParse(t *testing.T) {
	for _, dir := range exampleDirs {
		files, _ := filepath.Glob(filepath.Join(configsDir, dir, "*.hcl"))
		if len(files) < 3 {
			t.Errorf("%s: %d .hcl files, want main, dataset and policies", dir, len(files))
		}
		kinds := map[string]int{}
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			body := parseHCL(t, src)
			for _, b := range body.Blocks {
				kinds[b.Type]++
			}
		}
		for _, kind := range []string{"server", "connection", "storage", "dataset", "policy"} {
			if kinds[kind] == 0 {
				t.Errorf("%s declares no %s block", dir, kind)
			}
		}
		if kinds["server"] != 1 {
			t.Errorf("%s declares %d server blocks", dir, kinds["server"])
		}
	}
}

// TestExampleDatasetsAreSound: categories exist, references land, no
// collection is out of reach of every identity.
func TestExampleDatasetsAreSound(t *testing.T) {
	for _, dir := range exampleDirs {
		t.Run(dir, func(t *testing.T) {
			dss := exampleDatasets(t, dir)
			if dir == "quickstart" && len(dss[0].Collections) < 10 {
				t.Errorf("quickstart has %d collections, want at least 10", len(dss[0].Collections))
			}
			byName := map[string]*dataset.Dataset{}
			for _, ds := range dss {
				byName[ds.Name] = ds
			}
			// Edges between collections, oriented as the references say.
			edges := map[string][]string{}
			reached := map[string]bool{}
			var queue []string
			var walk func(ds *dataset.Dataset, c *dataset.Collection, path dataset.Path, fields []*dataset.Field)
			walk = func(ds *dataset.Dataset, c *dataset.Collection, path dataset.Path, fields []*dataset.Field) {
				for _, f := range fields {
					fp := append(slices.Clone(path), f.Name)
					here := ds.Name + "." + c.Name
					for _, cat := range f.Categories {
						if !defaultTaxonomy.Has(cat) {
							t.Errorf("%s.%s: unknown category %q", here, fp, cat)
						}
					}
					if f.IsObject() && len(f.Categories) > 0 {
						t.Errorf("%s.%s: an object with categories", here, fp)
					}
					if f.Identity != "" && !reached[here] {
						reached[here] = true
						queue = append(queue, here)
					}
					for _, ref := range f.References {
						target := byName[ref.Target.Dataset]
						if target == nil || target.Collection(ref.Target.Collection) == nil || target.Collection(ref.Target.Collection).Field(ref.Target.Field) == nil {
							t.Errorf("%s.%s: reference to %s, which does not exist", here, fp, ref.Target)
							continue
						}
						there := ref.Target.CollectionAddress().String()
						if ref.Direction != dataset.DirectionFrom {
							edges[here] = append(edges[here], there)
						}
						if ref.Direction != dataset.DirectionTo {
							edges[there] = append(edges[there], here)
						}
					}
					walk(ds, c, fp, f.Fields)
				}
			}
			for _, ds := range dss {
				for _, c := range ds.Collections {
					walk(ds, c, nil, c.Fields)
					for _, a := range append(slices.Clone(c.After), c.EraseAfter...) {
						d, coll, _ := strings.Cut(a, ".")
						if byName[d] == nil || byName[d].Collection(coll) == nil {
							t.Errorf("%s.%s: after/erase_after names %q, which does not exist", ds.Name, c.Name, a)
						}
					}
				}
			}
			for len(queue) > 0 {
				n := queue[0]
				queue = queue[1:]
				for _, next := range edges[n] {
					if !reached[next] {
						reached[next] = true
						queue = append(queue, next)
					}
				}
			}
			for _, ds := range dss {
				for _, c := range ds.Collections {
					if !reached[ds.Name+"."+c.Name] {
						t.Errorf("%s.%s cannot be reached from any identity", ds.Name, c.Name)
					}
				}
			}
		})
	}
}

// TestExampleCopiesOfTheShop: postgres, mysql and s3 serve the quick
// start's dataset unchanged but for the connection.
func TestExampleCopiesOfTheShop(t *testing.T) {
	want := exampleDatasets(t, "quickstart")
	for _, dir := range []string{"postgres", "mysql", "s3"} {
		got := exampleDatasets(t, dir)
		for _, ds := range got {
			if ds.Connection != "shop_db" {
				t.Errorf("%s: connection %q", dir, ds.Connection)
			}
			ds.Connection = want[0].Connection
		}
		assertSameModel(t, want, got)
	}
}

var (
	createTable = regexp.MustCompile(`(?s)CREATE TABLE (\w+) \((.*?)\n\);`)
	columnLine  = regexp.MustCompile(`(?m)^\s+(\w+)\s+[A-Z]`)
)

// TestExampleSampleSQL: the tables of sample-data.sql are exactly the
// collections of the shop, with exactly its fields, and the data subject of
// the examples has rows in every table.
func TestExampleSampleSQL(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(configsDir, "quickstart", "sample-data.sql"))
	if err != nil {
		t.Fatal(err)
	}
	sql := string(src)
	tables := map[string][]string{}
	for _, m := range createTable.FindAllStringSubmatch(sql, -1) {
		for _, c := range columnLine.FindAllStringSubmatch(m[2], -1) {
			tables[m[1]] = append(tables[m[1]], c[1])
		}
	}
	ds := exampleDatasets(t, "quickstart")[0]
	if len(tables) != len(ds.Collections) {
		t.Errorf("sample-data.sql creates %d tables, the dataset has %d collections", len(tables), len(ds.Collections))
	}
	for _, c := range ds.Collections {
		var fields []string
		for _, f := range c.Fields {
			fields = append(fields, f.Name)
		}
		cols := slices.Clone(tables[c.Name])
		sort.Strings(fields)
		sort.Strings(cols)
		if !slices.Equal(fields, cols) {
			t.Errorf("%s: dataset fields %v, table columns %v", c.Name, fields, cols)
		}
		if !regexp.MustCompile(`DROP TABLE IF EXISTS ` + c.Name + `;`).MatchString(sql) {
			t.Errorf("%s is not dropped first, so the file cannot be loaded twice", c.Name)
		}
	}
	// Each table's INSERT block: Jane appears in every table, directly or
	// through her ids (customer 1, employee 3, address 1, orders 1-3).
	inserts := regexp.MustCompile(`(?s)INSERT INTO (\w+) \([^)]*\) VALUES\n(.*?);\n`)
	janeRow := map[string]*regexp.Regexp{
		"customers":       regexp.MustCompile(`'jane@example.com'`),
		"employees":       regexp.MustCompile(`'jane@example.com'`),
		"support_tickets": regexp.MustCompile(`'jane@example.com'`),
		"visits":          regexp.MustCompile(`'jane@example.com'`),
		"reports":         regexp.MustCompile(`'jane@example.com'`),
		"addresses":       regexp.MustCompile(`\(1, `),
		"products":        regexp.MustCompile(`\(1, `),
		"orders":          regexp.MustCompile(`\(\d+, 1, `),
		"payment_cards":   regexp.MustCompile(`\(\d+, 1, `),
		"logins":          regexp.MustCompile(`\(\d+, 1, `),
		"order_items":     regexp.MustCompile(`\(\d+, [123], `),
	}
	seen := map[string]bool{}
	for _, m := range inserts.FindAllStringSubmatch(sql, -1) {
		seen[m[1]] = true
		if re := janeRow[m[1]]; re == nil || !re.MatchString(m[2]) {
			t.Errorf("no row of jane@example.com in %s", m[1])
		}
		if rows := strings.Count(m[2], "\n") + 1; rows < 3 {
			t.Errorf("%s has %d rows; others than Jane are needed to catch a request touching the wrong rows", m[1], rows)
		}
	}
	for name := range tables {
		if !seen[name] {
			t.Errorf("no INSERT into %s", name)
		}
	}
	if n := strings.Count(sql, "'jane@example.com'"); n < 7 {
		t.Errorf("jane@example.com appears %d times", n)
	}
}

// TestExampleMongoSampleData: every document key is a declared field and
// every collection has documents.
func TestExampleMongoSampleData(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(configsDir, "mongodb", "sample-data.json"))
	if err != nil {
		t.Fatal(err)
	}
	var data map[string][]map[string]any
	if err := json.Unmarshal(src, &data); err != nil {
		t.Fatal(err)
	}
	ds := exampleDatasets(t, "mongodb")[0]
	if len(data) != len(ds.Collections) {
		t.Errorf("sample data has %d collections, the dataset %d", len(data), len(ds.Collections))
	}
	var check func(where string, doc map[string]any, fields []*dataset.Field)
	check = func(where string, doc map[string]any, fields []*dataset.Field) {
		for key, v := range doc {
			i := slices.IndexFunc(fields, func(f *dataset.Field) bool { return f.Name == key })
			if i < 0 {
				t.Errorf("%s: key %q is not a declared field", where, key)
				continue
			}
			f := fields[i]
			if len(f.Fields) == 0 {
				continue
			}
			var docs []map[string]any
			switch v := v.(type) {
			case map[string]any:
				docs = append(docs, v)
			case []any:
				for _, e := range v {
					if m, ok := e.(map[string]any); ok {
						docs = append(docs, m)
					}
				}
			}
			for _, d := range docs {
				check(where+"."+key, d, f.Fields)
			}
		}
	}
	for _, c := range ds.Collections {
		docs := data[c.Name]
		if len(docs) < 2 {
			t.Errorf("%s has %d documents", c.Name, len(docs))
		}
		jane := false
		for _, d := range docs {
			check(c.Name, d, c.Fields)
			b, _ := json.Marshal(d)
			jane = jane || strings.Contains(string(b), "jane@example.com") || strings.Contains(string(b), "65a000000000000000000001")
		}
		if !jane {
			t.Errorf("%s has no document of jane@example.com", c.Name)
		}
	}
}

// TestExamplePolicies: targets are known categories, access rules name a
// storage the deployment declares, erasure rules mask.
func TestExamplePolicies(t *testing.T) {
	for _, dir := range exampleDirs {
		storages := map[string]bool{}
		var rules []*hclsyntax.Block
		files, _ := filepath.Glob(filepath.Join(configsDir, dir, "*.hcl"))
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range parseHCL(t, src).Blocks {
				switch b.Type {
				case "storage":
					storages[b.Labels[0]] = true
				case "policy":
					for _, r := range b.Body.Blocks {
						if r.Type == "rule" {
							rules = append(rules, r)
						}
					}
				}
			}
		}
		strategies := map[string]bool{}
		for _, r := range rules {
			for _, target := range strs(attr(t, r.Body, "targets")) {
				if !defaultTaxonomy.Has(target) {
					t.Errorf("%s: rule %s targets unknown category %q", dir, r.Labels[0], target)
				}
			}
			switch action := attr(t, r.Body, "action").AsString(); action {
			case "access":
				if s := attr(t, r.Body, "storage"); s.IsNull() || !storages[s.AsString()] {
					t.Errorf("%s: access rule %s has no declared storage", dir, r.Labels[0])
				}
			case "erasure":
				n := 0
				for _, m := range r.Body.Blocks {
					if m.Type == "masking" {
						n++
						strategies[attr(t, m.Body, "strategy").AsString()] = true
					}
				}
				if n == 0 {
					t.Errorf("%s: erasure rule %s has no masking block", dir, r.Labels[0])
				}
			default:
				t.Errorf("%s: rule %s has action %q", dir, r.Labels[0], action)
			}
		}
		if len(strategies) < 2 {
			t.Errorf("%s: erasure uses %d strategies, want at least two", dir, len(strategies))
		}
	}
}
