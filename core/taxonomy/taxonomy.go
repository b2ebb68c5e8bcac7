package taxonomy

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/agext/levenshtein"
)

// Root is the key of the taxonomy's root; the top-level categories
// ("system", "user") are its children.
const Root = "data_category"

//go:embed data-categories.txt
var defaultSource string

// Category is one data category.
type Category struct {
	Key         string
	Parent      string // "" for Root
	Name        string // display name of default categories
	Description string
	Default     bool // part of the shipped taxonomy
}

// Taxonomy is a set of categories. The zero value is not usable; start from
// Default. A Taxonomy is not safe for concurrent Add; reading is.
type Taxonomy struct {
	cats map[string]*Category
}

var (
	defaultOnce sync.Once
	defaultCats map[string]*Category
	defaultErr  error
)

// Default returns a fresh copy of the shipped taxonomy, which the caller may
// extend with Add.
func Default() *Taxonomy {
	defaultOnce.Do(func() { defaultCats, defaultErr = parse(defaultSource) })
	if defaultErr != nil {
		// The file is embedded and tested: this cannot happen in a build
		// that passed its tests.
		panic(defaultErr)
	}
	t := &Taxonomy{cats: make(map[string]*Category, len(defaultCats))}
	for k, c := range defaultCats {
		cp := *c
		t.cats[k] = &cp
	}
	return t
}

// parse reads "key | parent | name | deprecated_in | replaced_by" lines.
func parse(src string) (map[string]*Category, error) {
	cats := map[string]*Category{}
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "|")
		if len(cols) < 3 {
			return nil, fmt.Errorf("default taxonomy line %d: want key | parent | name", i+1)
		}
		key, parent, name := strings.TrimSpace(cols[0]), strings.TrimSpace(cols[1]), strings.TrimSpace(cols[2])
		if parent == "-" {
			parent = ""
		}
		if _, dup := cats[key]; dup {
			return nil, fmt.Errorf("default taxonomy line %d: %q listed twice", i+1, key)
		}
		cats[key] = &Category{Key: key, Parent: parent, Name: name, Default: true}
	}
	for _, c := range cats {
		if c.Parent != "" && cats[c.Parent] == nil {
			return nil, fmt.Errorf("default taxonomy: parent %q of %q is not listed", c.Parent, c.Key)
		}
	}
	if cats[Root] == nil {
		return nil, fmt.Errorf("default taxonomy: root %q missing", Root)
	}
	return cats, nil
}

var segment = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Add declares category name under parent. The parent must exist, and name
// must be parent + "." + one more segment (a child of Root is a single
// segment). The error says what to change.
func (t *Taxonomy) Add(name, parent, description string) error {
	if name == "" {
		return fmt.Errorf("a data category needs a name")
	}
	if t.cats[name] != nil {
		if t.cats[name].Default {
			return fmt.Errorf("data category %q is already in the default taxonomy; remove this declaration", name)
		}
		return fmt.Errorf("data category %q is declared twice", name)
	}
	if parent == "" {
		return fmt.Errorf("data category %q needs a parent, e.g. parent = %q", name, guessParent(name))
	}
	if t.cats[parent] == nil {
		msg := fmt.Sprintf("parent %q of data category %q does not exist", parent, name)
		if s := t.Suggest(parent); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", quoteList(s))
		}
		return fmt.Errorf("%s; declare the parent first or pick an existing one", msg)
	}
	var last string
	if parent == Root {
		if strings.Contains(name, ".") {
			return fmt.Errorf("data category %q under %q must be a single segment without dots", name, Root)
		}
		last = name
	} else {
		rest, ok := strings.CutPrefix(name, parent+".")
		if !ok || strings.Contains(rest, ".") {
			return fmt.Errorf("data category %q does not fit under parent %q: its name must be %q followed by one segment, e.g. %q",
				name, parent, parent+".", parent+"."+lastSegment(name))
		}
		last = rest
	}
	if !segment.MatchString(last) {
		return fmt.Errorf("data category %q: the segment %q may only contain letters, digits, '_' and '-'", name, last)
	}
	t.cats[name] = &Category{Key: name, Parent: parent, Description: description}
	return nil
}

// Has reports whether name is a category of the taxonomy.
func (t *Taxonomy) Has(name string) bool { return t.cats[name] != nil }

// Get returns the named category, or nil.
func (t *Taxonomy) Get(name string) *Category {
	c := t.cats[name]
	if c == nil {
		return nil
	}
	cp := *c
	return &cp
}

// Keys returns every category key, sorted.
func (t *Taxonomy) Keys() []string {
	keys := make([]string, 0, len(t.cats))
	for k := range t.cats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Suggest returns up to three existing keys close to name, best first:
// keys ending with the same last segment (categories that moved, such as
// "user.contact.city" -> "user.contact.address.city"), then keys within a
// small edit distance.
func (t *Taxonomy) Suggest(name string) []string {
	type cand struct {
		key  string
		dist int
	}
	var cands []cand
	leaf := lastSegment(name)
	for k := range t.cats {
		if k == Root {
			continue
		}
		d := levenshtein.Distance(name, k, nil)
		switch {
		case lastSegment(k) == leaf:
			cands = append(cands, cand{k, -1})
		case d <= max(1, min(3, len(name)/6)):
			cands = append(cands, cand{k, d})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].dist != cands[j].dist {
			return cands[i].dist < cands[j].dist
		}
		return cands[i].key < cands[j].key
	})
	out := make([]string, 0, 3)
	for _, c := range cands {
		if len(out) == 3 {
			break
		}
		out = append(out, c.key)
	}
	return out
}

// Match reports whether a rule target covers a field category, on dot
// boundaries: "user.contact" matches "user.contact" and
// "user.contact.email", not "user.contacts".
func Match(target, category string) bool {
	if target == "" {
		return false
	}
	return category == target ||
		(len(category) > len(target) && category[len(target)] == '.' && strings.HasPrefix(category, target))
}

// Match is the package function Match, for callers holding a Taxonomy.
func (t *Taxonomy) Match(target, category string) bool { return Match(target, category) }

func lastSegment(s string) string { return s[strings.LastIndex(s, ".")+1:] }

func guessParent(name string) string {
	if i := strings.LastIndex(name, "."); i > 0 {
		return name[:i]
	}
	return Root
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, " or ")
}
