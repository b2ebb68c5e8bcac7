package rpc

import (
	"fmt"
	"net/netip"

	pluginv1 "github.com/lethehq/lethe/proto/plugin/v1"
	"github.com/lethehq/lethe/sdk/egress"
)

// EgressToProto converts a policy for the wire; nil stays nil.
func EgressToProto(p *egress.Policy) *pluginv1.EgressPolicy {
	if p == nil {
		return nil
	}
	out := &pluginv1.EgressPolicy{Restricted: p.Restricted, AllowHosts: p.AllowHosts, FileRoots: p.FileRoots}
	for _, n := range p.AllowNetworks {
		out.AllowNetworks = append(out.AllowNetworks, n.String())
	}
	for _, port := range p.AllowPorts {
		out.AllowPorts = append(out.AllowPorts, uint32(port))
	}
	for _, n := range p.DenyNetworks {
		out.DenyNetworks = append(out.DenyNetworks, n.String())
	}
	return out
}

// EgressFromProto converts a policy from the wire; nil is the default
// policy. A policy that cannot be read is refused rather than widened.
func EgressFromProto(p *pluginv1.EgressPolicy) (*egress.Policy, error) {
	if p == nil {
		return &egress.Policy{}, nil
	}
	out := &egress.Policy{Restricted: p.GetRestricted(), AllowHosts: p.GetAllowHosts(), FileRoots: p.GetFileRoots()}
	for _, s := range p.GetAllowNetworks() {
		n, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("egress policy: allow_networks %q: %w", s, err)
		}
		out.AllowNetworks = append(out.AllowNetworks, n)
	}
	for _, s := range p.GetDenyNetworks() {
		n, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("egress policy: deny_networks %q: %w", s, err)
		}
		out.DenyNetworks = append(out.DenyNetworks, n)
	}
	for _, port := range p.GetAllowPorts() {
		if port == 0 || port > 65535 {
			return nil, fmt.Errorf("egress policy: allow_ports %d is out of range 1..65535", port)
		}
		out.AllowPorts = append(out.AllowPorts, uint16(port))
	}
	return out, nil
}
