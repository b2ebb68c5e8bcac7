package pluginhost

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lethehq/lethe/sdk/schema"
)

// Pin is what an operator's `plugin "<kind>-<name>" { ... }` block says about
// one plugin. Pins are keyed by "<kind>-<name>", e.g. "connector-postgres".
type Pin struct {
	// Path names the binary explicitly instead of finding it in the plugin
	// directory. A relative path is taken from the working directory; the
	// configuration loader resolves it against the file that declares it.
	Path string
	// SHA256 is the expected hex digest of the binary, optionally prefixed
	// with "sha256:". A binary whose digest differs is refused unexecuted.
	SHA256 string
	// StartTimeout overrides Options.StartTimeout for this plugin.
	StartTimeout time.Duration
	// Env adds host environment variables this plugin inherits, on top of
	// the host's allowlist (names, or prefixes ending in "*"): for example
	// AWS_* for an S3 plugin using the default credential chain.
	Env []string
}

// Binary is a plugin executable found by Discover.
type Binary struct {
	Kind string // schema.KindConnector or schema.KindStorage
	Name string // "postgres" for lethe-connector-postgres
	// FileVersion is the version in a `_v<semver>` file-name suffix, or "".
	FileVersion string
	// Path is where the binary was found: in the plugin directory, or a pin's path.
	Path string
	// Exec is the file that is executed: Path with symlinks resolved.
	Exec string
	// SHA256 is the hex digest of Exec. Discovery computes it only for
	// pinned binaries (from the digest cache when the file is unchanged);
	// the host checks a pinned digest again right before every exec, and
	// computes the others only when they are shown (Host.Statuses).
	SHA256 string
	// id is the file's version (inode, size, times) at discovery: an
	// unpinned binary that no longer has it is refused at start.
	id fileID
	// Pinned is set when the operator pinned a digest for this plugin.
	Pinned bool
	// StartTimeout is the pin's start timeout; 0 means the host default.
	StartTimeout time.Duration
	// Env is the pin's extra environment allowlist.
	Env []string
	// Err says why the binary is refused. A refused binary is never executed.
	Err error
	// SupersededBy names the file chosen instead of this one when several
	// binaries provide the same plugin. Such a binary is never executed.
	SupersededBy string
}

// ID is the plugin's "<kind>-<name>", the key of its `plugin` block.
func (b Binary) ID() string { return b.Kind + "-" + b.Name }

// File is the binary's file name ("lethe-<kind>-<name>" when a pinned
// plugin was not found).
func (b Binary) File() string {
	if b.Path == "" {
		return "lethe-" + b.ID()
	}
	return filepath.Base(b.Path)
}

// filePrefix is what every plugin file name starts with.
const filePrefix = "lethe-"

var fileNameRE = regexp.MustCompile(`^lethe-(connector|storage)-([a-z0-9][a-z0-9-]*)(?:_v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?))?$`)

// parseFileName splits "lethe-connector-postgres_v1.2.0" into its parts.
// plugin is false for files that are not plugins at all (another prefix);
// ok is false for files that look like plugins but are misnamed.
func parseFileName(file string) (kind, name, version string, plugin, ok bool) {
	base := strings.TrimSuffix(file, ".exe")
	if !strings.HasPrefix(base, filePrefix+schema.KindConnector+"-") && !strings.HasPrefix(base, filePrefix+schema.KindStorage+"-") {
		return "", "", "", false, false
	}
	m := fileNameRE.FindStringSubmatch(base)
	if m == nil {
		return "", "", "", true, false
	}
	return m[1], m[2], m[3], true, true
}

// skipped is a file that looked like a plugin but was left out, and why.
type skipped struct {
	file, why string
}

// Discover scans dir (not recursively) for plugin binaries named
// lethe-connector-<name> or lethe-storage-<name>, with an optional
// `_v<semver>` suffix, and adds the binaries that pins name by path.
//
// Directories, non-executables and other names are skipped. A binary is
// refused (Err set, never executed) when it is a symlink whose target leaves
// dir or when its digest differs from a pinned one. Only pinned binaries are
// hashed here, so that a command reads no binary it does not need. When
// several binaries provide one plugin, a pinned path wins, then the highest
// file version; the others have SupersededBy set.
//
// The error is non-nil only when dir cannot be read or a pin is malformed.
func Discover(dir string, pins map[string]Pin) ([]Binary, error) {
	bins, _, err := discover(dir, pins, loadSums(""))
	return bins, err
}

func discover(dir string, pins map[string]Pin, sums *sums) ([]Binary, []skipped, error) {
	for key := range pins {
		if _, _, err := splitID(key); err != nil {
			return nil, nil, err
		}
	}
	var (
		bins  []Binary
		skips []skipped
	)
	if dir != "" {
		absDir, err := filepath.Abs(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("read plugin directory %s: %w", dir, err)
		}
		entries, err := os.ReadDir(absDir)
		if err != nil {
			return nil, nil, fmt.Errorf("read plugin directory %s: %w", dir, err)
		}
		realDir, err := filepath.EvalSymlinks(absDir)
		if err != nil {
			return nil, nil, fmt.Errorf("read plugin directory %s: %w", dir, err)
		}
		for _, e := range entries {
			kind, name, version, isPlugin, ok := parseFileName(e.Name())
			if !isPlugin {
				continue
			}
			if !ok {
				skips = append(skips, skipped{e.Name(), "the name does not match lethe-<connector|storage>-<name>[_v<semver>] (lower-case letters, digits and dashes)"})
				continue
			}
			b := Binary{Kind: kind, Name: name, FileVersion: version, Path: filepath.Join(absDir, e.Name())}
			if why := inspect(&b, realDir); why != "" {
				skips = append(skips, skipped{e.Name(), why})
				continue
			}
			bins = append(bins, b)
		}
	}
	keys := make([]string, 0, len(pins))
	for key := range pins {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		pin := pins[key]
		if pin.Path == "" {
			continue
		}
		kind, name, _ := splitID(key)
		path, err := filepath.Abs(pin.Path)
		if err != nil {
			path = pin.Path
		}
		b := Binary{Kind: kind, Name: name, Path: path}
		if why := inspect(&b, ""); why != "" {
			b.Err = fmt.Errorf("pinned path %s: %s", pin.Path, why)
		}
		bins = append(bins, b)
	}
	for i := range bins {
		applyPin(&bins[i], pins, sums)
	}
	bins = pickWinners(bins, pins)
	// Pins for plugins that are nowhere to be found are reported as failed:
	// the operator expects them.
	found := map[string]bool{}
	for _, b := range bins {
		found[b.ID()] = true
	}
	for _, key := range keys {
		if found[key] {
			continue
		}
		kind, name, _ := splitID(key)
		where := "lethe-" + key + " in " + dir
		if dir == "" {
			where = "lethe-" + key + " (no plugin directory is set)"
		}
		bins = append(bins, Binary{Kind: kind, Name: name, Pinned: pins[key].SHA256 != "", StartTimeout: pins[key].StartTimeout,
			Err: fmt.Errorf("a plugin block pins %s, but there is no %s; install the binary or remove the block", key, where)})
	}
	sort.SliceStable(bins, func(i, j int) bool {
		if bins[i].Kind != bins[j].Kind {
			return bins[i].Kind < bins[j].Kind
		}
		if bins[i].Name != bins[j].Name {
			return bins[i].Name < bins[j].Name
		}
		return bins[i].SupersededBy == "" && bins[j].SupersededBy != ""
	})
	return bins, skips, nil
}

// inspect resolves and checks b.Path. It returns why the file is skipped
// (not a plugin file at all), or "" and sets b.Exec, b.id and, for refused
// files, b.Err. realDir, when set, is the directory symlinks
// must stay inside.
func inspect(b *Binary, realDir string) string {
	lst, err := os.Lstat(b.Path)
	if err != nil {
		b.Err = fmt.Errorf("cannot read %s: %w", b.Path, err)
		return ""
	}
	b.Exec = b.Path
	if lst.Mode()&os.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(b.Path)
		if err != nil {
			b.Err = fmt.Errorf("it is a broken symlink: %w", err)
			return ""
		}
		if realDir != "" && !inside(realDir, target) {
			b.Err = fmt.Errorf("it is a symlink to %s, outside the plugin directory %s; copy the binary into the plugin directory instead", target, realDir)
			return ""
		}
		b.Exec = target
	}
	st, err := os.Stat(b.Exec)
	if err != nil {
		b.Err = fmt.Errorf("cannot read %s: %w", b.Exec, err)
		return ""
	}
	if st.IsDir() {
		return "it is a directory"
	}
	if !st.Mode().IsRegular() {
		return "it is not a regular file"
	}
	if st.Mode().Perm()&0o111 == 0 {
		return "it is not executable; chmod +x it to use it"
	}
	id, err := statID(b.Exec)
	if err != nil {
		b.Err = fmt.Errorf("cannot read %s: %w", b.Exec, err)
		return ""
	}
	b.id = id
	return ""
}

// inside reports whether path lies within dir (both already resolved).
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func applyPin(b *Binary, pins map[string]Pin, sums *sums) {
	pin, ok := pins[b.ID()]
	if !ok {
		return
	}
	b.StartTimeout = pin.StartTimeout
	b.Env = pin.Env
	want := normalizeSum(pin.SHA256)
	if want == "" {
		return
	}
	b.Pinned = true
	if b.Err != nil {
		return
	}
	sum, err := sums.sum(b.Exec, b.id)
	if err != nil {
		b.Err = fmt.Errorf("hash %s: %w", b.Exec, err)
		return
	}
	b.SHA256 = sum
	if want != b.SHA256 {
		b.Err = fmt.Errorf("sha256 mismatch: pinned %s, file has %s; install the pinned build or update the sha256 in the plugin %q block", want, b.SHA256, b.ID())
	}
}

func normalizeSum(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "sha256:")))
}

// pickWinners marks all but one binary of each plugin as superseded: a
// pinned path first, then the highest file version (no version is lowest),
// then the first file name.
func pickWinners(bins []Binary, pins map[string]Pin) []Binary {
	best := map[string]int{}
	for i, b := range bins {
		j, seen := best[b.ID()]
		if !seen || better(b, bins[j], pins[b.ID()].Path) {
			best[b.ID()] = i
		}
	}
	for i := range bins {
		if w := best[bins[i].ID()]; w != i {
			bins[i].SupersededBy = bins[w].File()
			if pins[bins[i].ID()].Path != "" {
				bins[i].SupersededBy = bins[w].Path
			}
		}
	}
	return bins
}

func better(a, b Binary, pinnedPath string) bool {
	if pinnedPath != "" {
		pa, pb := samePath(a.Path, pinnedPath), samePath(b.Path, pinnedPath)
		if pa != pb {
			return pa
		}
	}
	if (a.Err == nil) != (b.Err == nil) {
		return a.Err == nil
	}
	if c := compareVersions(a.FileVersion, b.FileVersion); c != 0 {
		return c > 0
	}
	return a.File() < b.File()
}

func samePath(a, b string) bool {
	ab, err := filepath.Abs(b)
	if err != nil {
		return a == b
	}
	return a == ab
}

// compareVersions orders semantic versions; "" sorts below any version.
func compareVersions(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return -1
	case b == "":
		return 1
	}
	coreA, preA, _ := strings.Cut(strings.SplitN(a, "+", 2)[0], "-")
	coreB, preB, _ := strings.Cut(strings.SplitN(b, "+", 2)[0], "-")
	pa, pb := strings.Split(coreA, "."), strings.Split(coreB, ".")
	for i := 0; i < 3 && i < len(pa) && i < len(pb); i++ {
		na, _ := strconv.Atoi(pa[i])
		nb, _ := strconv.Atoi(pb[i])
		if na != nb {
			if na < nb {
				return -1
			}
			return 1
		}
	}
	switch {
	case preA == preB:
		return 0
	case preA == "":
		return 1
	case preB == "":
		return -1
	case preA < preB:
		return -1
	}
	return 1
}

// splitID splits a pin key "connector-postgres" into kind and name.
func splitID(id string) (kind, name string, err error) {
	kind, name, _ = strings.Cut(id, "-")
	if (kind != schema.KindConnector && kind != schema.KindStorage) || !fileNameRE.MatchString(filePrefix+kind+"-"+name) || strings.Contains(name, "_") {
		return "", "", fmt.Errorf("plugin %q: a plugin block is named <kind>-<name>, e.g. \"connector-postgres\" or \"storage-s3\"", id)
	}
	return kind, name, nil
}
