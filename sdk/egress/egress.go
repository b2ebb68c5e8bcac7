package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// ErrRefused is wrapped by every refusal of the policy.
var ErrRefused = errors.New("refused by the egress policy")

// Policy is what an instance may reach. The zero Policy is the default of
// a configuration the operator declared: every address except the refused
// classes, every file.
type Policy struct {
	// Restricted limits dialling to AllowHosts, AllowNetworks and
	// AllowPorts, and files to FileRoots (a configuration created through
	// the host's API).
	Restricted bool
	// AllowHosts are host names; "*.example.com" matches any name under
	// example.com. A dial to an allowed name may reach any address it
	// resolves to, except the refused classes.
	AllowHosts []string
	// AllowNetworks are the networks that may be dialled. A prefix inside
	// a refused class (169.254.169.254/32) allows that part of the class,
	// for unrestricted policies too; a wider one (0.0.0.0/0) does not.
	AllowNetworks []netip.Prefix
	// AllowPorts are the ports that may be dialled; empty: any port.
	AllowPorts []uint16
	// FileRoots are the directories under which files may be opened; none
	// with Restricted: no file may be opened.
	FileRoots []string
	// DenyNetworks are refused like the refused classes, for any policy:
	// only a network of AllowNetworks inside one of them opens part of it.
	DenyNetworks []netip.Prefix
}

// InternalNetworks are the networks of one site rather than the internet:
// loopback, private (RFC 1918, unique local), shared (RFC 6598) and
// benchmarking addresses. A policy for destinations that outside parties
// choose (DRP status callbacks) denies them.
var InternalNetworks = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("fc00::/7"),
}

// refusedClass is a range of addresses refused unless allowed explicitly.
type refusedClass struct {
	prefix netip.Prefix
	what   string
}

var refused = []refusedClass{
	{netip.MustParsePrefix("169.254.169.254/32"), "a cloud metadata address"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "a cloud metadata address"},
	{netip.MustParsePrefix("100.100.100.200/32"), "a cloud metadata address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified address"},
	{netip.MustParsePrefix("::/128"), "an unspecified address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
	{netip.MustParsePrefix("255.255.255.255/32"), "the broadcast address"},
}

// nat64 is the well-known NAT64 prefix: its last 32 bits are an IPv4
// address that a NAT64 gateway would reach.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// CheckAddr reports whether addr may be dialled on port; host is the name
// the caller asked for ("" when it dialled an address). The error says
// why not and wraps ErrRefused.
func (p *Policy) CheckAddr(host string, addr netip.Addr, port uint16) error {
	addr = canonical(addr)
	if !addr.IsValid() {
		return fmt.Errorf("%w: not an IP address", ErrRefused)
	}
	for _, a := range embedded(addr) {
		for _, c := range refused {
			if c.prefix.Contains(a) && !p.explicitlyAllows(c.prefix, a) {
				return fmt.Errorf("%w: %s is %s; allow it with a network inside %s", ErrRefused, a, c.what, c.prefix)
			}
		}
	}
	for _, a := range embedded(addr) {
		for _, d := range p.DenyNetworks {
			if d.Contains(a) && !p.explicitlyAllows(d, a) {
				return fmt.Errorf("%w: %s is in the denied network %s; allow it with a network inside it", ErrRefused, a, d)
			}
		}
	}
	if !p.Restricted {
		return nil
	}
	if len(p.AllowPorts) > 0 && !slices.Contains(p.AllowPorts, port) {
		return fmt.Errorf("%w: port %d is not an allowed port", ErrRefused, port)
	}
	if host != "" && p.HostAllowed(host) {
		return nil
	}
	for _, n := range p.AllowNetworks {
		if n.Contains(addr) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is in no allowed network", ErrRefused, addr)
}

// explicitlyAllows reports whether an allowed network inside class holds a.
func (p *Policy) explicitlyAllows(class netip.Prefix, a netip.Addr) bool {
	for _, n := range p.AllowNetworks {
		n = n.Masked()
		if n.Bits() >= class.Bits() && class.Contains(n.Addr()) && n.Contains(a) {
			return true
		}
	}
	return false
}

// HostAllowed reports whether name matches AllowHosts. IP literals never
// match: they are checked against AllowNetworks.
func (p *Policy) HostAllowed(name string) bool {
	name = normalizeHost(name)
	if name == "" {
		return false
	}
	if _, err := ParseAddr(name); err == nil {
		return false
	}
	for _, h := range p.AllowHosts {
		h = normalizeHost(h)
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			if strings.HasSuffix(name, "."+suffix) {
				return true
			}
			continue
		}
		if h == name {
			return true
		}
	}
	return false
}

func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

// canonical unmaps IPv4-mapped IPv6 addresses and drops zones.
func canonical(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// embedded returns a and the IPv4 address a NAT64 address carries.
func embedded(a netip.Addr) []netip.Addr {
	if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		return []netip.Addr{a, netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})}
	}
	return []netip.Addr{a}
}

// ParseAddr parses an IP address the way resolvers and URL parsers may
// read it: dotted IPv4 with decimal, octal (0177) or hex (0x7f) parts and
// fewer than four parts (127.1, 2130706433), IPv6 with or without
// brackets, IPv4-mapped IPv6. The result is canonical (IPv4-mapped forms
// unmapped, no zone). A string that is not an address is an error.
func ParseAddr(s string) (netip.Addr, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if s == "" {
		return netip.Addr{}, errors.New("empty address")
	}
	if strings.Contains(s, ":") {
		if i := strings.IndexByte(s, '%'); i >= 0 {
			s = s[:i]
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Addr{}, err
		}
		return canonical(a), nil
	}
	return parseIPv4(s)
}

// parseIPv4 reads inet_aton's forms: a, a.b, a.b.c, a.b.c.d, each part
// decimal, octal (leading 0) or hex (leading 0x); the last part fills the
// remaining bytes.
func parseIPv4(s string) (netip.Addr, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
	}
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := parseIPv4Part(p)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address: part %d is above 255", s, i+1)
		}
		n = n<<8 | v
	}
	rest := 4 - (len(vals) - 1)
	last := vals[len(vals)-1]
	if last >= 1<<(8*rest) {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address: its last part is too large", s)
	}
	n = n<<(8*rest) | last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), nil
}

func parseIPv4Part(p string) (uint64, error) {
	if p == "" {
		return 0, errors.New("empty part")
	}
	base := 10
	switch {
	case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, nil // "0x" is 0 for inet_aton
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	for _, r := range p {
		if r == '+' || r == '-' || r == '_' {
			return 0, errors.New("not a number")
		}
	}
	return strconv.ParseUint(p, base, 32)
}

// CheckHostPort checks a host:port (or host and a default port) before any
// dial, for early, clear refusals: an IP literal in any form is checked
// as the address it names; a name must be in AllowHosts for a restricted
// policy unless AllowNetworks could hold what it resolves to. The address
// actually dialled is checked again by Control.
func (p *Policy) CheckHostPort(host string, port uint16) error {
	host = normalizeHost(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if a, err := ParseAddr(host); err == nil {
		return p.CheckAddr("", a, port)
	}
	if !p.Restricted {
		return nil
	}
	if len(p.AllowPorts) > 0 && !slices.Contains(p.AllowPorts, port) {
		return fmt.Errorf("%w: port %d is not an allowed port", ErrRefused, port)
	}
	if p.HostAllowed(host) || len(p.AllowNetworks) > 0 {
		return nil
	}
	return fmt.Errorf("%w: host %q is not an allowed host", ErrRefused, host)
}

type hostKey struct{}

// Control is a net.Dialer Control function that checks the address about
// to be dialled. host is the name asked for, when the dial was by name.
func (p *Policy) Control(host string) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		h, ps, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrRefused, err)
		}
		a, err := netip.ParseAddr(h)
		if err != nil {
			return fmt.Errorf("%w: %s is not an IP address", ErrRefused, h)
		}
		port, err := strconv.ParseUint(ps, 10, 16)
		if err != nil {
			return fmt.Errorf("%w: port %q", ErrRefused, ps)
		}
		return p.CheckAddr(host, a, uint16(port))
	}
}

// Dialer returns a copy of base (or a new dialer when base is nil) whose
// dials are checked. Use DialContext when the dialled name is known, so
// that AllowHosts can match it.
func (p *Policy) Dialer(base *net.Dialer) *net.Dialer {
	d := &net.Dialer{}
	if base != nil {
		*d = *base
	}
	d.ControlContext = nil
	d.Control = p.Control("")
	return d
}

// DialContext returns a dial function with the signature of
// net.Dialer.DialContext that checks every address it connects to,
// after name resolution. Unix sockets are refused for restricted policies.
func (p *Policy) DialContext(base *net.Dialer) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		if strings.HasPrefix(network, "unix") {
			if p.Restricted {
				return nil, fmt.Errorf("%w: unix sockets", ErrRefused)
			}
			d := &net.Dialer{}
			if base != nil {
				*d = *base
			}
			return d.DialContext(ctx, network, address)
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		d := p.Dialer(base)
		if _, perr := ParseAddr(host); perr != nil {
			d.Control = p.Control(host)
		}
		return d.DialContext(ctx, network, address)
	}
}

// CheckPath returns the absolute, symlink-free form of path, or an error
// wrapping ErrRefused when a restricted policy does not allow it: it must
// lie under one of FileRoots (themselves resolved). The longest existing
// prefix of path is resolved, so a path not yet created is checked
// through the links of its existing parent.
func (p *Policy) CheckPath(path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("%w: empty path", ErrRefused)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("path: %w", err)
	}
	real, err := resolve(abs)
	if err != nil {
		return "", fmt.Errorf("path: %w", err)
	}
	if !p.Restricted {
		return real, nil
	}
	for _, root := range p.FileRoots {
		r, err := filepath.Abs(root)
		if err != nil {
			continue
		}
		if rr, err := resolve(r); err == nil {
			r = rr
		}
		if real == r || strings.HasPrefix(real, strings.TrimSuffix(r, string(filepath.Separator))+string(filepath.Separator)) {
			return real, nil
		}
	}
	if len(p.FileRoots) == 0 {
		return "", fmt.Errorf("%w: no file roots are configured (egress { file_roots = [...] })", ErrRefused)
	}
	return "", fmt.Errorf("%w: the path is outside the file roots", ErrRefused)
}

// resolve evaluates the symbolic links of the longest existing prefix of
// the clean absolute path abs and appends the rest.
func resolve(abs string) (string, error) {
	abs = filepath.Clean(abs)
	rest := ""
	cur := abs
	for {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Policy) context.Context {
	return context.WithValue(ctx, hostKey{}, p)
}

// FromContext returns the policy ctx carries, or the default (zero) one.
func FromContext(ctx context.Context) *Policy {
	if p, ok := ctx.Value(hostKey{}).(*Policy); ok && p != nil {
		return p
	}
	return &Policy{}
}
