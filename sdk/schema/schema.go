package schema

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Type is the type of a configuration attribute.
type Type int

const (
	String Type = iota + 1
	Int
	Float
	Bool
	Duration   // a Go duration string such as "30s"
	StringList // a list of strings
	StringMap  // a map of string to string
)

func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Int:
		return "int"
	case Float:
		return "float"
	case Bool:
		return "bool"
	case Duration:
		return "duration"
	case StringList:
		return "list(string)"
	case StringMap:
		return "map(string)"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Attribute is one configuration attribute.
type Attribute struct {
	Name      string
	Type      Type
	Required  bool
	Sensitive bool // redacted in logs and diagnostics
	// Destination marks an attribute that decides where a secret is sent:
	// a host, port, DSN, endpoint, TLS or sslmode setting. Changing one
	// through the API drops the stored secret unless the same call gives it
	// again. A schema that marks none is treated as if every non-sensitive
	// attribute were one.
	Destination bool
	// Path marks a file or directory path. For objects created through the
	// API it must lie under the egress policy's file roots.
	Path        bool
	Description string
	Default     any // nil: no default
}

// Schema is a plugin's configuration schema.
type Schema struct {
	Attributes []Attribute
}

// Attribute returns the named attribute.
func (s Schema) Attribute(name string) (Attribute, bool) {
	for _, a := range s.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// Kind of a plugin.
const (
	KindConnector = "connector"
	KindStorage   = "storage"
)

// Capability names advertised in Info.Capabilities.
const (
	CapabilityDryRun = "dry_run"
)

// Info is what a plugin says about itself.
type Info struct {
	Kind           string   `json:"kind"`
	Name           string   `json:"name"`
	Version        string   `json:"version"`
	SDKVersion     string   `json:"sdk_version"`
	ProtocolMajor  int      `json:"protocol_major"`
	ProtocolMinor  int      `json:"protocol_minor"`
	Capabilities   []string `json:"capabilities"`
	Config         Schema   `json:"config_schema"`
	MaxConcurrency int      `json:"max_concurrency,omitempty"`
	Description    string   `json:"description,omitempty"`
}

// Has reports whether the plugin advertises a capability.
func (i Info) Has(capability string) bool {
	for _, c := range i.Capabilities {
		if c == capability {
			return true
		}
	}
	return false
}

// Severity of a diagnostic.
type Severity int

const (
	Error Severity = iota + 1
	Warning
)

// Diagnostic reports a problem with configuration or a request. Attribute
// names the configuration attribute at fault, when there is one.
type Diagnostic struct {
	Severity  Severity
	Summary   string
	Detail    string
	Attribute []string
}

func (d Diagnostic) Error() string {
	var b strings.Builder
	if len(d.Attribute) > 0 {
		b.WriteString(strings.Join(d.Attribute, "."))
		b.WriteString(": ")
	}
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString(": ")
		b.WriteString(d.Detail)
	}
	return b.String()
}

// Diagnostics is a list of diagnostics.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity != Warning {
			return true
		}
	}
	return false
}

// Err returns the diagnostics as one error, or nil when none is an error.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	msgs := make([]string, 0, len(ds))
	for _, d := range ds {
		if d.Severity != Warning {
			msgs = append(msgs, d.Error())
		}
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

// Config is a validated configuration: attribute name to Go value. Values
// have the Go type of their schema type: string, int64, float64, bool,
// time.Duration, []string, map[string]string.
type Config map[string]any

// String returns a string attribute, or "" when absent.
func (c Config) String(name string) string { s, _ := c[name].(string); return s }

// Int returns an int attribute, or 0 when absent.
func (c Config) Int(name string) int64 { n, _ := c[name].(int64); return n }

// Float returns a float attribute, or 0 when absent.
func (c Config) Float(name string) float64 { f, _ := c[name].(float64); return f }

// Bool returns a bool attribute, or false when absent.
func (c Config) Bool(name string) bool { b, _ := c[name].(bool); return b }

// Duration returns a duration attribute, or 0 when absent.
func (c Config) Duration(name string) time.Duration { d, _ := c[name].(time.Duration); return d }

// StringList returns a list attribute, or nil when absent.
func (c Config) StringList(name string) []string { l, _ := c[name].([]string); return l }

// StringMap returns a map attribute, or nil when absent.
func (c Config) StringMap(name string) map[string]string {
	m, _ := c[name].(map[string]string)
	return m
}

// Validate checks raw values against the schema, applies defaults and
// converts values to their Go types. Raw values may be the types of Config
// or the loosely typed values of JSON and HCL (float64 or int64 numbers,
// []any, map[string]any). Diagnostics never contain the value of a sensitive
// attribute.
func (s Schema) Validate(raw map[string]any) (Config, Diagnostics) {
	var diags Diagnostics
	out := make(Config, len(s.Attributes))
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := s.Attribute(n); !ok {
			diags = append(diags, Diagnostic{
				Severity:  Error,
				Summary:   fmt.Sprintf("unknown attribute %q", n),
				Detail:    "valid attributes are: " + strings.Join(s.names(), ", "),
				Attribute: []string{n},
			})
		}
	}
	for _, a := range s.Attributes {
		v, present := raw[a.Name]
		if !present || v == nil {
			if a.Default != nil {
				// Defaults cross the wire loosely typed too ("30s" for a
				// duration): convert them like user values.
				if conv, err := convert(a.Type, a.Default); err == nil {
					out[a.Name] = conv
				} else {
					out[a.Name] = a.Default
				}
				continue
			}
			if a.Required {
				diags = append(diags, Diagnostic{
					Severity:  Error,
					Summary:   fmt.Sprintf("missing required attribute %q", a.Name),
					Detail:    a.Description,
					Attribute: []string{a.Name},
				})
			}
			continue
		}
		conv, err := convert(a.Type, v)
		if err != nil {
			detail := err.Error()
			if !a.Sensitive {
				detail = fmt.Sprintf("%s (got %s)", detail, describe(v))
			}
			diags = append(diags, Diagnostic{
				Severity:  Error,
				Summary:   fmt.Sprintf("attribute %q must be a %s", a.Name, a.Type),
				Detail:    detail,
				Attribute: []string{a.Name},
			})
			continue
		}
		out[a.Name] = conv
	}
	return out, diags
}

// Redacted returns a copy of cfg with sensitive values replaced, for logs.
func (s Schema) Redacted(cfg map[string]any) map[string]any {
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		if a, ok := s.Attribute(k); !ok || a.Sensitive {
			out[k] = "(redacted)"
			continue
		}
		out[k] = v
	}
	return out
}

// Destinations returns the names of the attributes that decide where a
// secret is sent. A schema that marks none returns every non-sensitive
// attribute: without the plugin's word, any change may redirect a secret.
func (s Schema) Destinations() []string {
	var marked, rest []string
	for _, a := range s.Attributes {
		switch {
		case a.Destination:
			marked = append(marked, a.Name)
		case !a.Sensitive:
			rest = append(rest, a.Name)
		}
	}
	if len(marked) > 0 {
		return marked
	}
	return rest
}

// Paths returns the names of the attributes marked Path.
func (s Schema) Paths() []string {
	var out []string
	for _, a := range s.Attributes {
		if a.Path {
			out = append(out, a.Name)
		}
	}
	return out
}

func (s Schema) names() []string {
	n := make([]string, len(s.Attributes))
	for i, a := range s.Attributes {
		n[i] = a.Name
	}
	return n
}

func describe(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return fmt.Sprintf("string %q", v)
	default:
		return fmt.Sprintf("%T", v)
	}
}

func convert(t Type, v any) (any, error) {
	switch t {
	case String:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case Int:
		switch n := v.(type) {
		case int64:
			return n, nil
		case int:
			return int64(n), nil
		case float64:
			// JSON and HCL numbers arrive as float64. -2^63 <= n < 2^63 keeps
			// the conversion defined (it saturates or wraps by platform).
			if n >= -(1<<63) && n < 1<<63 && n == math.Trunc(n) {
				return int64(n), nil
			}
			return nil, fmt.Errorf("%v is not a whole number in the range of a 64-bit integer", n)
		}
	case Float:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		case int:
			return float64(n), nil
		}
	case Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case Duration:
		switch d := v.(type) {
		case time.Duration:
			return d, nil
		case string:
			parsed, err := time.ParseDuration(d)
			if err != nil {
				return nil, fmt.Errorf("not a duration such as \"30s\" or \"5m\"")
			}
			return parsed, nil
		}
	case StringList:
		switch l := v.(type) {
		case []string:
			return l, nil
		case []any:
			out := make([]string, len(l))
			for i, e := range l {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("element %d is not a string", i)
				}
				out[i] = s
			}
			return out, nil
		}
	case StringMap:
		switch m := v.(type) {
		case map[string]string:
			return m, nil
		case map[string]any:
			out := make(map[string]string, len(m))
			for k, e := range m {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("value of key %q is not a string", k)
				}
				out[k] = s
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("wrong type")
}
