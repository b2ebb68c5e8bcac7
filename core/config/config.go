package config

import (
	"encoding/json"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/core/dataset"
	"github.com/lethehq/lethe/core/policy"
	"github.com/lethehq/lethe/core/taxonomy"
)

// Limits applied before any file is parsed.
const (
	// MaxFileSize is the largest configuration file Load reads.
	MaxFileSize = 4 << 20
	// MaxTotalSize bounds the sum of the files' sizes.
	MaxTotalSize = 64 << 20
	// MaxFiles is the most *.hcl files a directory may hold.
	MaxFiles = 1000
	// MaxNesting is the deepest nesting of braces, brackets, parentheses,
	// strings and template sequences a file may have.
	MaxNesting = 64
	// MaxOperators bounds the operators chained in one expression.
	MaxOperators = 256
	// MaxIncludedFile is the largest file file() reads.
	MaxIncludedFile = 1 << 20
)

// Secret is a sensitive string (a key, token or password). It prints as
// "(redacted)" with fmt and encoding/json; Reveal returns the value.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "(redacted)"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `config.Secret("` + s.String() + `")` }

// MarshalJSON writes "(redacted)", never the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Config is one loaded deployment. Ranges say where things are declared;
// Ranges maps hold attribute ranges by attribute name.
type Config struct {
	// Dir is the directory the files were loaded from.
	Dir    string
	Server Server
	Auth   Auth
	DRP    DRP
	// Egress is what plugin configurations may reach (see Egress).
	Egress      Egress
	Plugins     []*Plugin
	Connections []*Connection
	Storages    []*Storage
	Datasets    []*dataset.Dataset
	Policies    []*policy.Policy
	// Identities are the identity blocks (normalizations), in file order.
	Identities []*Identity
	// Categories are the data_category blocks, in the order they were added
	// to Taxonomy.
	Categories []*Category
	// Taxonomy is the default taxonomy extended by Categories.
	Taxonomy *taxonomy.Taxonomy

	files     map[string]*hcl.File
	secrets   map[string]bool // values that must never be printed
	sensitive map[string]bool // extra config keys whose values are secret
}

// Server is the server block.
type Server struct {
	Listen   string // default "127.0.0.1:8080"
	StateDir string // absolute; "" when unset
	// PluginDir is absolute; "" when unset.
	PluginDir string
	// EncryptionKey holds the 32 raw key bytes (decoded from the base64 in
	// the file); unset in development, where serve generates one.
	EncryptionKey    Secret
	MaxParallelNodes int    // default 8
	LogLevel         string // trace, debug, info, warn or error; default info
	// Workers is how many requests `lethe serve` runs at once (default 4).
	Workers int
	// RequireManualApproval keeps new requests pending until a reviewer
	// approves them (default false: approved by the system at once).
	RequireManualApproval bool
	// ServerLimits are the API's surface and rate-limit settings.
	ServerLimits
	Range  hcl.Range
	Ranges map[string]hcl.Range
}

// Auth is the auth block.
type Auth struct {
	RootClientID     string
	RootClientSecret Secret
	TokenTTL         time.Duration // default 1h
	Range            hcl.Range
	Ranges           map[string]hcl.Range
}

// DRP is the drp block (Data Rights Protocol).
type DRP struct {
	APIBase string
	// JWTSecret is the default HS256 key of identity tokens.
	JWTSecret     Secret
	CallbackHosts []string
	// ReplayWindow is how long an exercise sent again answers the request
	// the first one made (0: the default, 24h).
	ReplayWindow time.Duration
	Agents       []*Agent
	Range        hcl.Range
	Ranges       map[string]hcl.Range
}

// Agent is an authorized agent of the drp block.
type Agent struct {
	Name  string
	Token Secret // the bearer token it presents
	// JWTSecret is the HS256 key of its identity tokens; the drp block's
	// when the agent sets none.
	JWTSecret  Secret
	Audience   string
	RequireExp bool
	Range      hcl.Range
	Ranges     map[string]hcl.Range
}

// Plugin pins a plugin binary: plugin "<kind>-<name>" { ... }.
type Plugin struct {
	Name         string // "<kind>-<name>", e.g. "connector-postgres"
	Kind         string // "connector" or "storage"
	PluginName   string // "postgres"
	Path         string // absolute; "" to look in the plugin directory
	SHA256       string // lower-case hex without prefix; "" when not pinned
	StartTimeout time.Duration
	// Env lists host environment variables (or prefixes ending in "*")
	// this plugin inherits besides the host's allowlist.
	Env    []string
	Range  hcl.Range
	Ranges map[string]hcl.Range
}

// Connection is a connection block: one configured connector instance.
type Connection struct {
	Name        string
	Plugin      string // connector plugin name, "postgres"
	Access      string // AccessRead or AccessWrite
	MaxParallel int    // queries at once on this connection; default 4
	// Config is the config object as loosely typed Go values (string,
	// int64, float64, bool, []any, map[string]any, nil), to be checked
	// against the plugin's schema.
	Config map[string]any
	Range  hcl.Range
	Ranges map[string]hcl.Range
	// ConfigRange is the config attribute's expression (zero when absent);
	// ConfigRanges holds each key's value expression when config is an
	// object literal.
	ConfigRange  hcl.Range
	ConfigRanges map[string]hcl.Range
}

// Connection access levels.
const (
	AccessRead  = "read"
	AccessWrite = "write"
)

// Storage is a storage block: one configured storage destination.
type Storage struct {
	Name         string
	Plugin       string // storage plugin name, "s3"
	Format       string // FormatJSON (default) or FormatCSV
	Config       map[string]any
	Range        hcl.Range
	Ranges       map[string]hcl.Range
	ConfigRange  hcl.Range
	ConfigRanges map[string]hcl.Range
}

// Storage formats.
const (
	FormatJSON = "json"
	FormatCSV  = "csv"
)

// Category is a data_category block.
type Category struct {
	Name        string
	Parent      string
	Description string
	Range       hcl.Range
	Ranges      map[string]hcl.Range
}

// Connection returns the named connection, or nil.
func (c *Config) Connection(name string) *Connection {
	for _, x := range c.Connections {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// Storage returns the named storage, or nil.
func (c *Config) Storage(name string) *Storage {
	for _, x := range c.Storages {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// Dataset returns the named dataset, or nil.
func (c *Config) Dataset(name string) *dataset.Dataset {
	for _, x := range c.Datasets {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// Policy returns the named policy, or nil.
func (c *Config) Policy(name string) *policy.Policy {
	for _, x := range c.Policies {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// Plugin returns the plugin block named "<kind>-<name>", or nil.
func (c *Config) Plugin(name string) *Plugin {
	for _, x := range c.Plugins {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// Agent returns the named DRP agent, or nil.
func (d *DRP) Agent(name string) *Agent {
	for _, x := range d.Agents {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// Summary counts what the configuration declares.
type Summary struct {
	Datasets, Collections, Policies, Connections, Storages int
}

// Summary counts the declarations.
func (c *Config) Summary() Summary {
	s := Summary{Datasets: len(c.Datasets), Policies: len(c.Policies), Connections: len(c.Connections), Storages: len(c.Storages)}
	for _, ds := range c.Datasets {
		s.Collections += len(ds.Collections)
	}
	return s
}
