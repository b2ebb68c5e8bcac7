// Package egress is the policy on what a plugin instance may reach: which
// addresses it may dial and which files it may open.
//
// The host sends a Policy with each Configure; the SDK hands it to the
// plugin's New through the context (FromContext). A plugin dials through
// Policy.DialContext (or sets Policy.Control on its own net.Dialer), so
// the address actually dialled — after name resolution — is checked, and
// DNS rebinding cannot reach an address the policy refuses. Paths go
// through Policy.CheckPath, which resolves symbolic links and ".." first.
//
// Some addresses are refused by every policy unless a network inside them
// is allowed explicitly: link-local (169.254.0.0/16, fe80::/10, which hold
// the cloud metadata services), the metadata addresses outside it
// (fd00:ec2::254, 100.100.100.200), unspecified (0.0.0.0, ::), multicast
// and broadcast addresses. IPv4-mapped and NAT64 IPv6 forms are checked as
// the IPv4 address they carry.
package egress
