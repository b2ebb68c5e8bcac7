package rpc

import (
	pluginv1 "github.com/lethehq/lethe/proto/plugin/v1"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

// InfoToProto converts plugin info for the wire.
func InfoToProto(i schema.Info) (*pluginv1.PluginInfo, error) {
	attrs := make([]*pluginv1.Attribute, len(i.Config.Attributes))
	for n, a := range i.Config.Attributes {
		pa := &pluginv1.Attribute{
			Name: a.Name, Type: pluginv1.AttributeType(a.Type), Required: a.Required,
			Sensitive: a.Sensitive, Description: a.Description,
			Destination: a.Destination, Path: a.Path,
		}
		if a.Default != nil {
			d, err := value.ToProto(normalizeDefault(a.Default))
			if err != nil {
				return nil, err
			}
			pa.Default = d
		}
		attrs[n] = pa
	}
	return &pluginv1.PluginInfo{
		Kind: i.Kind, Name: i.Name, Version: i.Version, SdkVersion: i.SDKVersion,
		ProtocolMajor: uint32(i.ProtocolMajor), ProtocolMinor: uint32(i.ProtocolMinor),
		Capabilities: i.Capabilities, ConfigSchema: &pluginv1.Schema{Attributes: attrs},
		MaxConcurrency: uint32(i.MaxConcurrency), Description: i.Description,
	}, nil
}

// normalizeDefault maps schema Go types that value does not know.
func normalizeDefault(v any) any {
	switch d := v.(type) {
	case interface{ String() string }:
		if _, isDecimal := v.(value.Decimal); !isDecimal {
			return d.String()
		}
	case map[string]string:
		m := make(map[string]any, len(d))
		for k, e := range d {
			m[k] = e
		}
		return m
	}
	return v
}

// InfoFromProto converts plugin info from the wire.
func InfoFromProto(p *pluginv1.PluginInfo) schema.Info {
	i := schema.Info{
		Kind: p.GetKind(), Name: p.GetName(), Version: p.GetVersion(), SDKVersion: p.GetSdkVersion(),
		ProtocolMajor: int(p.GetProtocolMajor()), ProtocolMinor: int(p.GetProtocolMinor()),
		Capabilities: p.GetCapabilities(), MaxConcurrency: int(p.GetMaxConcurrency()), Description: p.GetDescription(),
	}
	for _, a := range p.GetConfigSchema().GetAttributes() {
		sa := schema.Attribute{
			Name: a.GetName(), Type: schema.Type(a.GetType()), Required: a.GetRequired(),
			Sensitive: a.GetSensitive(), Description: a.GetDescription(),
			Destination: a.GetDestination(), Path: a.GetPath(),
		}
		if a.Default != nil {
			if d, err := value.FromProto(a.Default); err == nil {
				sa.Default = d
			}
		}
		i.Config.Attributes = append(i.Config.Attributes, sa)
	}
	return i
}

// DiagsToProto converts diagnostics for the wire.
func DiagsToProto(ds schema.Diagnostics) []*pluginv1.Diagnostic {
	out := make([]*pluginv1.Diagnostic, len(ds))
	for i, d := range ds {
		sev := pluginv1.Severity_SEVERITY_ERROR
		if d.Severity == schema.Warning {
			sev = pluginv1.Severity_SEVERITY_WARNING
		}
		out[i] = &pluginv1.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, AttributePath: d.Attribute}
	}
	return out
}

// DiagsFromProto converts diagnostics from the wire.
func DiagsFromProto(ps []*pluginv1.Diagnostic) schema.Diagnostics {
	if len(ps) == 0 {
		return nil
	}
	out := make(schema.Diagnostics, len(ps))
	for i, p := range ps {
		sev := schema.Error
		if p.GetSeverity() == pluginv1.Severity_SEVERITY_WARNING {
			sev = schema.Warning
		}
		out[i] = schema.Diagnostic{Severity: sev, Summary: p.GetSummary(), Detail: p.GetDetail(), Attribute: p.GetAttributePath()}
	}
	return out
}
