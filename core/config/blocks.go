package config

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Defaults.
const (
	DefaultListen           = "127.0.0.1:8080"
	DefaultMaxParallelNodes = 8
	// DefaultWorkers is how many requests `lethe serve` runs at once.
	DefaultWorkers     = 4
	DefaultMaxParallel = 4
	DefaultTokenTTL    = time.Hour
	DefaultLogLevel    = "info"
)

var (
	// objectName is the FidesKey rule for names of connections, storages,
	// agents and policies.
	objectName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	// pluginName is the rule of plugin file names: lethe-<kind>-<name>.
	pluginName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	logLevels  = []string{"trace", "debug", "info", "warn", "error"}
)

// path resolves a path attribute against the configuration directory.
func (l *loader) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	abs, err := filepath.Abs(filepath.Join(l.dir, p))
	if err != nil {
		return filepath.Join(l.dir, p)
	}
	return abs
}

func (l *loader) checkName(b *hcl.Block, what string) bool {
	if !objectName.MatchString(b.Labels[0]) {
		l.errorf(b.LabelRanges[0], "Invalid "+what+" name", "The %s name %q may only contain letters, digits, '.', '_' and '-'.", what, b.Labels[0])
		return false
	}
	return true
}

func (l *loader) server(b *hcl.Block) {
	bd := l.content(b, append([]string{"listen", "state_dir", "plugin_dir", "encryption_key", "max_parallel_nodes", "log_level", "workers", "require_manual_approval"}, serverLimitAttrs...), nil)
	s := Server{Listen: DefaultListen, MaxParallelNodes: DefaultMaxParallelNodes, LogLevel: DefaultLogLevel, Workers: DefaultWorkers, Range: b.DefRange, Ranges: bd.ranges}
	s.ServerLimits = serverLimits(bd)
	if v, ok := bd.str("listen"); ok {
		if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
			bd.invalid("listen", "listen must be host:port, like \"127.0.0.1:8080\" or \":8080\".")
		} else {
			s.Listen = v
		}
	}
	if v, ok := bd.str("state_dir"); ok {
		if v == "" {
			bd.invalid("state_dir", "state_dir must not be empty; leave it out for the default.")
		} else {
			s.StateDir = l.path(v)
		}
	}
	if v, ok := bd.str("plugin_dir"); ok {
		if v == "" {
			bd.invalid("plugin_dir", "plugin_dir must not be empty; leave it out for the default.")
		} else {
			s.PluginDir = l.path(v)
		}
	}
	if v, ok := bd.secret("encryption_key"); ok {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v.Reveal()))
		switch {
		case err != nil:
			bd.invalid("encryption_key", "encryption_key is not valid base64; generate one with `openssl rand -base64 32`.")
		case len(key) != 32:
			bd.invalid("encryption_key", "encryption_key must decode to 32 bytes, not %d; generate one with `openssl rand -base64 32`.", len(key))
		default:
			s.EncryptionKey = Secret(key)
			l.remember(string(key))
		}
	}
	if v, ok := bd.integer("max_parallel_nodes", 1, 1024); ok {
		s.MaxParallelNodes = v
	}
	if v, ok := bd.integer("workers", 1, 256); ok {
		s.Workers = v
	}
	if v, ok := bd.boolean("require_manual_approval"); ok {
		s.RequireManualApproval = v
	}
	if v, ok := bd.str("log_level"); ok {
		v = strings.ToLower(v)
		if !contains(logLevels, v) {
			bd.invalid("log_level", "log_level must be one of %s.", strings.Join(logLevels, ", "))
		} else {
			s.LogLevel = v
		}
	}
	l.cfg.Server = s
}

func (l *loader) auth(b *hcl.Block) {
	bd := l.content(b, []string{"root_client_id", "root_client_secret", "token_ttl"}, nil)
	a := Auth{TokenTTL: DefaultTokenTTL, Range: b.DefRange, Ranges: bd.ranges}
	if v, ok := bd.str("root_client_id"); ok {
		if !objectName.MatchString(v) {
			bd.invalid("root_client_id", "root_client_id may only contain letters, digits, '.', '_' and '-'.")
		} else {
			a.RootClientID = v
		}
	}
	if v, ok := bd.secret("root_client_secret"); ok {
		if len(v.Reveal()) < 16 {
			bd.invalid("root_client_secret", "root_client_secret must be at least 16 characters long; generate one with `openssl rand -base64 32`.")
		} else {
			a.RootClientSecret = v
		}
	}
	if a.RootClientSecret.IsSet() && a.RootClientID == "" && bd.attrs["root_client_id"] == nil {
		l.errorf(b.DefRange, "Missing required argument", "The auth block sets root_client_secret, so it needs root_client_id too.")
	}
	if v, ok := bd.duration("token_ttl", time.Minute, 30*24*time.Hour); ok {
		a.TokenTTL = v
	}
	l.cfg.Auth = a
}

// minJWTSecret is the least length of an HS256 key (RFC 7518 section 3.2).
const minJWTSecret = 32

func (l *loader) drp(b *hcl.Block) {
	bd := l.content(b, []string{"api_base", "jwt_secret", "callback_hosts", "replay_window"}, nil,
		hcl.BlockHeaderSchema{Type: "agent", LabelNames: []string{"name"}})
	d := DRP{Range: b.DefRange, Ranges: bd.ranges}
	if v, ok := bd.str("api_base"); ok {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bd.invalid("api_base", "api_base must be an absolute http(s) URL without query, like \"https://privacy.example.com/api/v1/drp\".")
		} else {
			d.APIBase = strings.TrimSuffix(v, "/")
		}
	}
	if v, ok := bd.secret("jwt_secret"); ok {
		if len(v.Reveal()) < minJWTSecret {
			bd.invalid("jwt_secret", "jwt_secret must be at least %d bytes long; generate one with `openssl rand -base64 48`.", minJWTSecret)
		} else {
			d.JWTSecret = v
		}
	}
	if v, ok := bd.strings("callback_hosts"); ok {
		for i, h := range v {
			if !validHost(h) {
				l.errorf(rangeOr(bd.ranges, fmt.Sprintf("callback_hosts[%d]", i), bd.ranges["callback_hosts"]), "Invalid value for callback_hosts",
					"%q is not a host name: write the host alone, like \"agent.example.org\" (a port is allowed; no scheme or path).", h)
				continue
			}
			d.CallbackHosts = append(d.CallbackHosts, strings.ToLower(h))
		}
	}
	if v, ok := bd.duration("replay_window", time.Minute, 30*24*time.Hour); ok {
		d.ReplayWindow = v
	}
	seen := map[string]hcl.Range{}
	for _, ab := range bd.blocks {
		name := ab.Labels[0]
		if first, dup := seen[name]; dup {
			l.errorf(ab.DefRange, "Duplicate agent block", "An agent named %q is already declared at %s; remove one of them or rename it.", name, pos(first))
			continue
		}
		seen[name] = ab.DefRange
		if strings.TrimSpace(name) == "" {
			l.errorf(ab.LabelRanges[0], "Empty name", "An agent block needs a non-empty name.")
			continue
		}
		if !l.checkName(ab, "agent") {
			continue
		}
		abd := l.content(ab, []string{"token", "jwt_secret", "audience", "require_exp"}, []string{"token"})
		a := &Agent{Name: name, Range: ab.DefRange, Ranges: abd.ranges}
		if v, ok := abd.secret("token"); ok {
			if len(v.Reveal()) < 16 {
				abd.invalid("token", "The agent's token must be at least 16 characters long; generate one with `openssl rand -base64 32`.")
			} else {
				a.Token = v
			}
		}
		if v, ok := abd.secret("jwt_secret"); ok {
			if len(v.Reveal()) < minJWTSecret {
				abd.invalid("jwt_secret", "jwt_secret must be at least %d bytes long; generate one with `openssl rand -base64 48`.", minJWTSecret)
			} else {
				a.JWTSecret = v
			}
		}
		if v, ok := abd.str("audience"); ok {
			a.Audience = v
		}
		if v, ok := abd.boolean("require_exp"); ok {
			a.RequireExp = v
		}
		d.Agents = append(d.Agents, a)
	}
	// Agents without their own key use the drp block's.
	for _, a := range d.Agents {
		if !a.JWTSecret.IsSet() {
			if d.JWTSecret.IsSet() {
				a.JWTSecret = d.JWTSecret
			} else if bd.attrs["jwt_secret"] == nil && a.Ranges["jwt_secret"] == (hcl.Range{}) {
				l.errorf(a.Range, "Missing identity token key", "Agent %q has no jwt_secret and the drp block sets none either; set one of them.", a.Name)
			}
		}
	}
	l.cfg.DRP = d
}

// validHost accepts "host" or "host:port" without scheme, path or spaces.
func validHost(h string) bool {
	if h == "" || strings.ContainsAny(h, "/ \t@?#") {
		return false
	}
	u, err := url.Parse("https://" + h)
	return err == nil && u.Host == h && u.Hostname() != ""
}

func (l *loader) plugin(b *hcl.Block) {
	bd := l.content(b, []string{"path", "sha256", "start_timeout", "env"}, nil)
	name := b.Labels[0]
	kind, short, _ := strings.Cut(name, "-")
	if (kind != "connector" && kind != "storage") || !pluginName.MatchString(short) {
		l.errorf(b.LabelRanges[0], "Invalid plugin name",
			"A plugin block is named <kind>-<name>, like \"connector-postgres\" or \"storage-s3\" (kind connector or storage; name of lower-case letters, digits and '-'), not %q.", name)
		return
	}
	p := &Plugin{Name: name, Kind: kind, PluginName: short, Range: b.DefRange, Ranges: bd.ranges}
	if v, ok := bd.str("path"); ok {
		if v == "" {
			bd.invalid("path", "path must not be empty; leave it out to look in the plugin directory.")
		} else {
			p.Path = l.path(v)
		}
	}
	if v, ok := bd.str("sha256"); ok {
		sum := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(v), "sha256:"))
		if raw, err := hex.DecodeString(sum); err != nil || len(raw) != 32 {
			bd.invalid("sha256", "sha256 must be the 64 hex digits of the binary's SHA-256 digest (`sha256sum lethe-%s`).", name)
		} else {
			p.SHA256 = sum
		}
	}
	if v, ok := bd.duration("start_timeout", time.Second, 10*time.Minute); ok {
		p.StartTimeout = v
	}
	if v, ok := bd.strings("env"); ok {
		for i, name := range v {
			if !envPattern.MatchString(name) {
				l.errorf(rangeOr(bd.ranges, fmt.Sprintf("env[%d]", i), bd.ranges["env"]), "Invalid value for env",
					"%q is not an environment variable name or a prefix ending in \"*\", like \"AWS_*\".", name)
				continue
			}
			p.Env = append(p.Env, name)
		}
	}
	l.cfg.Plugins = append(l.cfg.Plugins, p)
}

// envPattern is an environment variable name, or a prefix ending in "*".
var envPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\*?$`)

func (l *loader) pluginRef(bd *body, kind string) (string, bool) {
	v, ok := bd.str("plugin")
	if !ok {
		return "", false
	}
	if strings.HasPrefix(v, "lethe-") || strings.HasPrefix(v, kind+"-") {
		bd.invalid("plugin", "plugin names the %s plugin by its short name: %q for lethe-%s-%s.", kind, shortPlugin(v, kind), kind, shortPlugin(v, kind))
		return "", false
	}
	if !pluginName.MatchString(v) {
		bd.invalid("plugin", "plugin must be a %s plugin's short name of lower-case letters, digits and '-', like \"postgres\".", kind)
		return "", false
	}
	return v, true
}

func shortPlugin(v, kind string) string {
	v = strings.TrimPrefix(v, "lethe-")
	return strings.TrimPrefix(v, kind+"-")
}

func (l *loader) connection(b *hcl.Block) {
	if !l.checkName(b, "connection") {
		return
	}
	bd := l.content(b, []string{"plugin", "access", "max_parallel", "config"}, []string{"plugin", "access"})
	c := &Connection{Name: b.Labels[0], MaxParallel: DefaultMaxParallel, Range: b.DefRange, Ranges: bd.ranges}
	c.Plugin, _ = l.pluginRef(bd, "connector")
	if v, ok := bd.str("access"); ok {
		if v != AccessRead && v != AccessWrite {
			bd.invalid("access", "access must be \"read\" or \"write\"; erasure needs \"write\".")
		} else {
			c.Access = v
		}
	}
	if v, ok := bd.integer("max_parallel", 1, 1024); ok {
		c.MaxParallel = v
	}
	c.Config, c.ConfigRanges, _ = bd.object("config")
	c.ConfigRange = bd.ranges["config"]
	if c.Config == nil {
		c.Config = map[string]any{}
	}
	l.cfg.Connections = append(l.cfg.Connections, c)
}

func (l *loader) storage(b *hcl.Block) {
	if !l.checkName(b, "storage") {
		return
	}
	bd := l.content(b, []string{"plugin", "format", "config"}, []string{"plugin"})
	s := &Storage{Name: b.Labels[0], Format: FormatJSON, Range: b.DefRange, Ranges: bd.ranges}
	s.Plugin, _ = l.pluginRef(bd, "storage")
	if v, ok := bd.str("format"); ok {
		if v != FormatJSON && v != FormatCSV {
			bd.invalid("format", "format must be \"json\" or \"csv\" (a zip of one CSV file per collection).")
		} else {
			s.Format = v
		}
	}
	s.Config, s.ConfigRanges, _ = bd.object("config")
	s.ConfigRange = bd.ranges["config"]
	if s.Config == nil {
		s.Config = map[string]any{}
	}
	l.cfg.Storages = append(l.cfg.Storages, s)
}

func (l *loader) category(b *hcl.Block) *Category {
	bd := l.content(b, []string{"parent", "description"}, []string{"parent"})
	c := &Category{Name: b.Labels[0], Range: b.DefRange, Ranges: bd.ranges}
	c.Parent, _ = bd.str("parent")
	c.Description, _ = bd.str("description")
	if !bd.ok {
		return nil
	}
	return c
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
