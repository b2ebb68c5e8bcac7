package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/lethehq/lethe/core/taxonomy"
)

// Load reads every *.hcl file of dir (not recursively, in name order) and
// decodes it. It returns a Config even when the diagnostics hold errors, so
// that the caller can render them with WriteDiagnostics; such a Config must
// not be used otherwise. Load checks syntax, block and attribute names,
// types, duplicates and values that need no other declaration; call
// Validate next for the rest.
func Load(dir string) (*Config, hcl.Diagnostics) {
	return newLoader(dir, os.LookupEnv).load()
}

// PlaceholderSecret is what LoadStructure gives an unset env() variable: 44
// characters of base64 for 32 zero bytes, so it passes every length check
// of a key or secret. It never reaches a database or a server.
const PlaceholderSecret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

// LoadStructure loads dir like Load for commands that read only its
// structure (datasets, policies, the graph: lethe plan and lethe graph):
// an env() variable that is not set yields PlaceholderSecret instead of an
// error, so operators can plan and draw without the deployment's secrets.
// The result must never be used to connect to anything or to serve.
func LoadStructure(dir string) (*Config, hcl.Diagnostics) {
	return newLoader(dir, func(name string) (string, bool) {
		if v, ok := os.LookupEnv(name); ok {
			return v, true
		}
		return PlaceholderSecret, true
	}).load()
}

type loader struct {
	dir       string
	lookupEnv func(string) (string, bool)
	root      *os.Root
	ctx       *hcl.EvalContext
	cfg       *Config
	diags     hcl.Diagnostics
	// first records where each singleton or named block was first
	// declared: "server", "dataset app".
	first map[string]hcl.Range
}

func newLoader(dir string, lookupEnv func(string) (string, bool)) *loader {
	l := &loader{
		dir:       dir,
		lookupEnv: lookupEnv,
		first:     map[string]hcl.Range{},
		cfg: &Config{
			Dir: dir,
			// Defaults hold when a block is left out too.
			Server:    Server{Listen: DefaultListen, MaxParallelNodes: DefaultMaxParallelNodes, LogLevel: DefaultLogLevel, Workers: DefaultWorkers, ServerLimits: defaultServerLimits()},
			Auth:      Auth{TokenTTL: DefaultTokenTTL},
			Taxonomy:  taxonomy.Default(),
			files:     map[string]*hcl.File{},
			secrets:   map[string]bool{},
			sensitive: map[string]bool{},
		},
	}
	l.ctx = l.evalContext()
	return l
}

// dirRange is the subject of diagnostics about the directory itself.
func dirRange(dir string) *hcl.Range {
	return &hcl.Range{Filename: dir, Start: hcl.InitialPos, End: hcl.InitialPos}
}

func fileRange(name string) *hcl.Range {
	return &hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos}
}

func (l *loader) load() (*Config, hcl.Diagnostics) {
	defer func() {
		if l.root != nil {
			l.root.Close()
		}
	}()
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the configuration directory",
			Detail:   fmt.Sprintf("%v. Pass the directory that holds the *.hcl files.", err),
			Subject:  dirRange(l.dir),
		})
		return l.cfg, l.diags
	}
	if root, err := os.OpenRoot(l.dir); err == nil {
		l.root = root
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".hcl.json"):
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "JSON configuration ignored",
				Detail:   fmt.Sprintf("%s is ignored: Lethe reads only native HCL files (*.hcl). Convert it or remove it.", name),
				Subject:  fileRange(filepath.Join(l.dir, name)),
			})
		case strings.HasSuffix(name, ".hcl") && !strings.HasPrefix(name, "."):
			if info, err := os.Stat(filepath.Join(l.dir, name)); err == nil && info.IsDir() {
				continue
			}
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) > MaxFiles {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Too many configuration files",
			Detail:   fmt.Sprintf("The directory holds %d *.hcl files; Lethe reads at most %d. Merge files or split the deployment.", len(names), MaxFiles),
			Subject:  dirRange(l.dir),
		})
		return l.cfg, l.diags
	}
	if len(names) == 0 {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   "The directory holds no *.hcl file. Pass the directory of the deployment's configuration.",
			Subject:  dirRange(l.dir),
		})
		return l.cfg, l.diags
	}
	var total int64
	var categories []*Category
	for _, name := range names {
		path := filepath.Join(l.dir, name)
		src, diag := readLimited(path)
		if diag != nil {
			l.diags = append(l.diags, diag)
			continue
		}
		total += int64(len(src))
		if total > MaxTotalSize {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Configuration too large",
				Detail:   fmt.Sprintf("The *.hcl files add up to more than %d bytes; Lethe stops reading here.", MaxTotalSize),
				Subject:  fileRange(path),
			})
			break
		}
		d := scanBytes(src, path)
		if d == nil {
			d = tokenCheck(src, path)
		}
		if d != nil {
			// No snippet: the offending line may be megabytes long.
			l.diags = append(l.diags, d)
			continue
		}
		file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		if file == nil {
			file = &hcl.File{Bytes: src}
		}
		l.cfg.files[path] = file
		if diags.HasErrors() {
			l.diags = append(l.diags, diags...)
			continue
		}
		l.diags = append(l.diags, diags...)
		if d := refuseFor(file); d != nil {
			l.diags = append(l.diags, d)
			continue
		}
		categories = append(categories, l.decodeFile(file)...)
	}
	l.addCategories(categories)
	l.diags = l.cfg.sanitize(l.diags)
	return l.cfg, l.diags
}

// refuseFor refuses for expressions (and template for directives, which
// parse into them): without variables they have no use, and nested ones
// multiply into an evaluation of exponential time.
func refuseFor(file *hcl.File) *hcl.Diagnostic {
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	var found *hcl.Diagnostic
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		if f, ok := n.(*hclsyntax.ForExpr); ok && found == nil {
			found = &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "For expressions are not supported",
				Detail:   "Lethe's configuration has no variables to iterate over; write the values out instead.",
				Subject:  f.SrcRange.Ptr(),
			}
		}
		return nil
	})
	return found
}

// readLimited reads a file of at most MaxFileSize bytes.
func readLimited(path string) ([]byte, *hcl.Diagnostic) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration file",
			Detail:   err.Error(),
			Subject:  fileRange(path),
		}
	}
	defer f.Close()
	tooLarge := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Configuration file too large",
		Detail:   fmt.Sprintf("The file is larger than %d bytes (4 MiB), the most Lethe reads; split it into several files.", MaxFileSize),
		Subject:  fileRange(path),
	}
	if st, err := f.Stat(); err == nil && st.Size() > MaxFileSize {
		return nil, tooLarge
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration file",
			Detail:   err.Error(),
			Subject:  fileRange(path),
		}
	}
	if len(src) > MaxFileSize {
		return nil, tooLarge
	}
	return src, nil
}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "server"},
		{Type: "auth"},
		{Type: "drp"},
		{Type: "egress"},
		{Type: "plugin", LabelNames: []string{"name"}},
		{Type: "connection", LabelNames: []string{"name"}},
		{Type: "storage", LabelNames: []string{"name"}},
		{Type: "dataset", LabelNames: []string{"name"}},
		{Type: "policy", LabelNames: []string{"name"}},
		{Type: "data_category", LabelNames: []string{"name"}},
		{Type: "identity", LabelNames: []string{"name"}},
	},
}

// decodeFile decodes one file's blocks into l.cfg. data_category blocks are
// returned: they are added to the taxonomy once every file is read, parents
// first.
func (l *loader) decodeFile(file *hcl.File) []*Category {
	content, diags := file.Body.Content(rootSchema)
	l.diags = append(l.diags, diags...)
	var cats []*Category
	for _, b := range content.Blocks {
		key := b.Type
		if len(b.Labels) > 0 {
			key += " " + b.Labels[0]
			if strings.TrimSpace(b.Labels[0]) == "" {
				l.errorf(b.LabelRanges[0], "Empty name", "A %s block needs a non-empty name.", b.Type)
				continue
			}
		}
		if first, dup := l.first[key]; dup {
			what := fmt.Sprintf("A %s block", b.Type)
			if len(b.Labels) > 0 {
				what = fmt.Sprintf("A %s named %q", strings.ReplaceAll(b.Type, "_", " "), b.Labels[0])
			}
			l.errorf(b.DefRange, "Duplicate "+strings.ReplaceAll(b.Type, "_", " ")+" block",
				"%s is already declared at %s; remove one of them or rename it.", what, pos(first))
			continue
		}
		l.first[key] = b.DefRange
		switch b.Type {
		case "server":
			l.server(b)
		case "auth":
			l.auth(b)
		case "drp":
			l.drp(b)
		case "egress":
			l.egress(b)
		case "plugin":
			l.plugin(b)
		case "connection":
			l.connection(b)
		case "storage":
			l.storage(b)
		case "dataset":
			if ds := l.dataset(b); ds != nil {
				l.cfg.Datasets = append(l.cfg.Datasets, ds)
			}
		case "policy":
			if p := l.policy(b); p != nil {
				l.cfg.Policies = append(l.cfg.Policies, p)
			}
		case "identity":
			l.identity(b)
		case "data_category":
			if c := l.category(b); c != nil {
				cats = append(cats, c)
			}
		}
	}
	return cats
}

// addCategories extends the taxonomy, shallower categories first so that
// parents declared in any file come before their children.
func (l *loader) addCategories(cats []*Category) {
	sort.SliceStable(cats, func(i, j int) bool {
		return strings.Count(cats[i].Name, ".") < strings.Count(cats[j].Name, ".")
	})
	for _, c := range cats {
		if err := l.cfg.Taxonomy.Add(c.Name, c.Parent, c.Description); err != nil {
			r := c.Range
			if strings.Contains(err.Error(), "parent") {
				r = rangeOr(c.Ranges, "parent", c.Range)
			}
			l.errorf(r, "Invalid data category", "%s.", capitalize(err.Error()))
			continue
		}
		l.cfg.Categories = append(l.cfg.Categories, c)
	}
}

func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func rangeOr(ranges map[string]hcl.Range, key string, fallback hcl.Range) hcl.Range {
	if r, ok := ranges[key]; ok {
		return r
	}
	return fallback
}
