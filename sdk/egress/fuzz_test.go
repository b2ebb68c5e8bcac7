package egress

import (
	"net/netip"
	"testing"
)

// FuzzParseAddr checks that ParseAddr never panics, that what it returns
// is canonical (no IPv4-mapped form, no zone), that an address netip
// reads is read the same, and that no spelling of a refused address
// passes the default policy.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "2852039166", "0xa9.0xfe.0xa9.0xfe", "0251.0376.0251.0376", "169.254.43518",
		"::ffff:169.254.169.254", "[fe80::1%eth0]", "fd00:ec2::254", "64:ff9b::a9fe:a9fe", "0", "0x", "1.2.3.4.5", "db.example.com"} {
		f.Add(s)
	}
	metadata := netip.MustParseAddr("169.254.169.254")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddr(s)
		if err != nil {
			return
		}
		if !a.IsValid() || a.Is4In6() || a.Zone() != "" {
			t.Fatalf("ParseAddr(%q) = %v: not canonical", s, a)
		}
		if std, err := netip.ParseAddr(s); err == nil && std.Zone() == "" && std.Unmap() != a {
			t.Fatalf("ParseAddr(%q) = %v, netip reads %v", s, a, std)
		}
		def := &Policy{}
		if a == metadata && def.CheckAddr("", a, 80) == nil {
			t.Fatalf("%q reaches the metadata address", s)
		}
		if a.IsLinkLocalUnicast() && def.CheckHostPort(s, 80) == nil {
			t.Fatalf("%q (%v) passes the default policy", s, a)
		}
	})
}
