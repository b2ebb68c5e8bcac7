package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/lethehq/lethe/sdk/schema"
)

// CheckPluginConfigs validates each connection's and storage's config
// object against the schema its plugin describes. lookup returns the
// schema of plugin (kind schema.KindConnector or schema.KindStorage); its
// errors are reported at the plugin attribute. Each diagnostic sits at the
// offending key's value, or at the config attribute when the key is
// missing. Values of sensitive attributes are never repeated, and are masked
// in snippets rendered by WriteDiagnostics afterwards.
func (c *Config) CheckPluginConfigs(lookup func(kind, plugin string) (schema.Schema, error)) hcl.Diagnostics {
	var diags hcl.Diagnostics
	check := func(kind, owner, name, plugin string, cfg map[string]any, r hcl.Range, ranges map[string]hcl.Range, cfgRange hcl.Range, cfgRanges map[string]hcl.Range) {
		if plugin == "" {
			return // reported by Load
		}
		sch, err := lookup(kind, plugin)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Plugin not found",
				Detail: fmt.Sprintf("%s %q uses %s plugin %q, which was not found in the plugin directory: %v.",
					capitalize(owner), name, kind, plugin, err),
				Subject: rangeOr(ranges, "plugin", r).Ptr(),
			})
			return
		}
		for _, a := range sch.Attributes {
			if a.Sensitive {
				c.sensitive[a.Name] = true
				if s, ok := cfg[a.Name].(string); ok {
					c.secrets[s] = true
				}
			}
		}
		_, sdiags := sch.Validate(cfg)
		for _, sd := range sdiags {
			subject := cfgRange
			if subject.Filename == "" {
				subject = r
			}
			key := ""
			if len(sd.Attribute) > 0 {
				key = sd.Attribute[0]
				if kr, ok := cfgRanges[key]; ok {
					subject = kr
				}
			}
			detail := sd.Detail
			if a, ok := sch.Attribute(key); ok && a.Sensitive {
				// The schema never prints sensitive values; keep it so even
				// if a plugin's own message did.
				if s, ok := cfg[key].(string); ok && s != "" {
					detail = strings.ReplaceAll(detail, s, redacted)
				}
			}
			summary := fmt.Sprintf("Invalid config of %s %q", owner, name)
			text := sd.Summary
			if detail != "" {
				text += ": " + detail
			}
			d := &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  summary,
				Detail:   fmt.Sprintf("%s (%s plugin %q).", capitalize(text), kind, plugin),
				Subject:  subject.Ptr(),
			}
			if sd.Severity == schema.Warning {
				d.Severity = hcl.DiagWarning
			}
			diags = append(diags, d)
		}
	}
	for _, x := range c.Connections {
		check(schema.KindConnector, "connection", x.Name, x.Plugin, x.Config, x.Range, x.Ranges, x.ConfigRange, x.ConfigRanges)
	}
	for _, x := range c.Storages {
		check(schema.KindStorage, "storage", x.Name, x.Plugin, x.Config, x.Range, x.Ranges, x.ConfigRange, x.ConfigRanges)
	}
	return c.sanitize(diags)
}
