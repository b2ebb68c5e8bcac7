package config

import (
	"fmt"
	"math/big"
	"net/netip"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/lethehq/lethe/sdk/egress"
)

// Egress is the egress block: what plugin configurations may reach.
//
//	egress {
//	  allow_hosts    = ["db.example.com", "*.rds.amazonaws.com"]
//	  allow_networks = ["10.0.0.0/8", "127.0.0.1/32"]
//	  allow_ports    = [5432, 3306, 443]
//	  file_roots     = ["data/api"]
//	}
//
// It restricts the connections and storages created through the API: they
// may dial only allowed hosts or networks, on allowed ports, and open only
// files under file_roots. Without allow_hosts and allow_networks they may
// dial any address; without allow_ports any port; without file_roots no
// file. Every configuration, the files' too, is refused the link-local,
// cloud metadata, unspecified, multicast and broadcast addresses unless
// allow_networks holds a network inside them (169.254.169.254/32).
type Egress struct {
	AllowHosts    []string
	AllowNetworks []netip.Prefix
	// Listed is true when allow_hosts or allow_networks is set: only what
	// they list may be dialled.
	Listed     bool
	AllowPorts []uint16
	// FileRoots are absolute (relative ones are resolved against the
	// configuration directory).
	FileRoots []string
	Range     hcl.Range
	Ranges    map[string]hcl.Range
}

// anyNetwork is what API configurations may dial without a list.
var anyNetwork = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}

// ForAPI is the policy of a configuration created through the API.
func (e Egress) ForAPI() *egress.Policy {
	p := &egress.Policy{Restricted: true, AllowHosts: e.AllowHosts, AllowNetworks: e.AllowNetworks, AllowPorts: e.AllowPorts, FileRoots: e.FileRoots}
	if !e.Listed {
		p.AllowNetworks = append(append([]netip.Prefix(nil), anyNetwork...), e.AllowNetworks...)
	}
	return p
}

// ForFiles is the policy of a configuration declared in a file: the
// operator's, trusted, except for the refused classes that allow_networks
// does not open explicitly.
func (e Egress) ForFiles() *egress.Policy {
	return &egress.Policy{AllowNetworks: e.AllowNetworks}
}

func (l *loader) egress(b *hcl.Block) {
	bd := l.content(b, []string{"allow_hosts", "allow_networks", "allow_ports", "file_roots"}, nil)
	e := Egress{Range: b.DefRange, Ranges: bd.ranges}
	if hosts, ok := bd.strings("allow_hosts"); ok {
		e.Listed = true
		for i, h := range hosts {
			h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
			name := strings.TrimPrefix(h, "*.")
			if _, err := egress.ParseAddr(name); err == nil {
				l.errorf(rangeOr(bd.ranges, fmt.Sprintf("allow_hosts[%d]", i), bd.ranges["allow_hosts"]), "Invalid value for allow_hosts",
					"%q is an address; put it in allow_networks as %q.", hosts[i], hosts[i]+"/32")
				continue
			}
			if name == "" || strings.ContainsAny(name, "*/: ") {
				l.errorf(rangeOr(bd.ranges, fmt.Sprintf("allow_hosts[%d]", i), bd.ranges["allow_hosts"]), "Invalid value for allow_hosts",
					"%q is not a host name; use names like \"db.example.com\" or \"*.example.com\".", hosts[i])
				continue
			}
			e.AllowHosts = append(e.AllowHosts, h)
		}
	}
	if nets, ok := bd.strings("allow_networks"); ok {
		e.Listed = true
		for i, s := range nets {
			p, err := netip.ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				if a, aerr := egress.ParseAddr(s); aerr == nil {
					p = netip.PrefixFrom(a, a.BitLen())
				} else {
					l.errorf(rangeOr(bd.ranges, fmt.Sprintf("allow_networks[%d]", i), bd.ranges["allow_networks"]), "Invalid value for allow_networks",
						"%q is not a network; use CIDR notation like \"10.0.0.0/8\" or \"2001:db8::/32\".", s)
					continue
				}
			}
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
			}
			e.AllowNetworks = append(e.AllowNetworks, p.Masked())
		}
	}
	if v, a, ok := bd.value("allow_ports"); ok {
		ty := v.Type()
		if !ty.IsTupleType() && !ty.IsListType() && !ty.IsSetType() {
			bd.typeError(a, "a list of port numbers, like [5432, 443]")
		} else {
			for it := v.ElementIterator(); it.Next(); {
				_, el := it.Element()
				n, acc := big.NewFloat(0), big.Exact
				var port int64
				if !el.IsNull() && el.Type() == cty.Number {
					n = el.AsBigFloat()
					port, acc = n.Int64()
				}
				if el.IsNull() || el.Type() != cty.Number || !n.IsInt() || acc != big.Exact || port < 1 || port > 65535 {
					bd.invalid("allow_ports", "allow_ports must list port numbers from 1 to 65535.")
					break
				}
				e.AllowPorts = append(e.AllowPorts, uint16(port))
			}
		}
	}
	if roots, ok := bd.strings("file_roots"); ok {
		for i, r := range roots {
			if strings.TrimSpace(r) == "" {
				l.errorf(rangeOr(bd.ranges, fmt.Sprintf("file_roots[%d]", i), bd.ranges["file_roots"]), "Invalid value for file_roots", "A file root must not be empty.")
				continue
			}
			e.FileRoots = append(e.FileRoots, l.path(r))
		}
	}
	l.cfg.Egress = e
}
