package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestParseAddr(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"0xa9.0xfe.0xa9.0xfe", "169.254.169.254"},
		{"2852039166", "169.254.169.254"},
		{"0251.0376.0251.0376", "169.254.169.254"},
		{"169.254.43518", "169.254.169.254"},
		{"::ffff:169.254.169.254", "169.254.169.254"},
		{"[::ffff:a9fe:a9fe]", "169.254.169.254"},
		{"fe80::1%eth0", "fe80::1"},
		{"0", "0.0.0.0"},
	} {
		got, err := ParseAddr(c.in)
		if err != nil || got.String() != c.want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "db.example.com", "256.0.0.1", "1.2.3.4.5", "1.2.3.", "0x1g", "4294967296", "1.16777216", "+1.2.3.4", "09.1.1.1"} {
		if a, err := ParseAddr(bad); err == nil {
			t.Errorf("ParseAddr(%q) = %v, want an error", bad, a)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	open := &Policy{}
	metadataAllowed := &Policy{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32")}}
	wide := &Policy{Restricted: true, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}}
	narrow := &Policy{Restricted: true, AllowHosts: []string{"db.example.com", "*.corp.example"}, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, AllowPorts: []uint16{5432}}
	for _, c := range []struct {
		name string
		p    *Policy
		host string
		addr string
		port uint16
		ok   bool
	}{
		{"public, default", open, "", "192.0.2.10", 5432, true},
		{"loopback, default", open, "", "127.0.0.1", 5432, true},
		{"metadata, default", open, "", "169.254.169.254", 80, false},
		{"link-local, default", open, "", "169.254.1.1", 80, false},
		{"link-local v6", open, "", "fe80::1", 80, false},
		{"metadata v6", open, "", "fd00:ec2::254", 80, false},
		{"mapped metadata", open, "", "::ffff:169.254.169.254", 80, false},
		{"nat64 metadata", open, "", "64:ff9b::a9fe:a9fe", 80, false},
		{"unspecified", open, "", "0.0.0.0", 80, false},
		{"unspecified v6", open, "", "::", 80, false},
		{"multicast", open, "", "224.0.0.1", 80, false},
		{"broadcast", open, "", "255.255.255.255", 80, false},
		{"metadata allowed explicitly", metadataAllowed, "", "169.254.169.254", 80, true},
		{"other link-local not allowed by it", metadataAllowed, "", "169.254.1.1", 80, false},
		{"0.0.0.0/0 is not explicit", wide, "", "169.254.169.254", 80, false},
		{"wide allows public", wide, "", "192.0.2.1", 80, true},
		{"narrow network, port ok", narrow, "", "10.1.2.3", 5432, true},
		{"narrow network, wrong port", narrow, "", "10.1.2.3", 22, false},
		{"narrow, outside network", narrow, "", "192.0.2.1", 5432, false},
		{"narrow, allowed host", narrow, "DB.example.com.", "192.0.2.1", 5432, true},
		{"narrow, allowed wildcard", narrow, "pg.corp.example", "192.0.2.1", 5432, true},
		{"narrow, wildcard is not the apex", narrow, "corp.example", "192.0.2.1", 5432, false},
		{"allowed host resolving to metadata", narrow, "db.example.com", "169.254.169.254", 5432, false},
		{"allowed host resolving to loopback via v6 mapped", narrow, "db.example.com", "::ffff:127.0.0.1", 5432, true},
	} {
		err := c.p.CheckAddr(c.host, netip.MustParseAddr(c.addr), c.port)
		if (err == nil) != c.ok {
			t.Errorf("%s: CheckAddr(%q, %s, %d) = %v, want ok=%v", c.name, c.host, c.addr, c.port, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v does not wrap ErrRefused", c.name, err)
		}
	}
}

func TestCheckHostPort(t *testing.T) {
	narrow := &Policy{Restricted: true, AllowHosts: []string{"db.example.com"}}
	for _, c := range []struct {
		p    *Policy
		host string
		ok   bool
	}{
		{&Policy{}, "0xa9fea9fe", false},
		{&Policy{}, "2852039166", false},
		{&Policy{}, "[fe80::1]", false},
		{&Policy{}, "anything.example", true},
		{narrow, "db.example.com", true},
		{narrow, "evil.example", false},
		{narrow, "127.0.0.1", false},
	} {
		if err := c.p.CheckHostPort(c.host, 5432); (err == nil) != c.ok {
			t.Errorf("CheckHostPort(%q) = %v, want ok=%v", c.host, err, c.ok)
		}
	}
}

// TestDialChecksResolvedAddress dials a name that resolves to loopback:
// the check runs on the address dialled, not on the name.
func TestDialChecksResolvedAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	refuse := &Policy{Restricted: true, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	allow := &Policy{Restricted: true, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	byName := &Policy{Restricted: true, AllowHosts: []string{"localhost"}}
	ctx := context.Background()
	if c, err := refuse.DialContext(nil)(ctx, "tcp", "localhost:"+port); err == nil || !errors.Is(err, ErrRefused) {
		if c != nil {
			c.Close()
		}
		t.Errorf("dial localhost outside the allowed networks: %v, want a refusal", err)
	}
	for _, p := range []*Policy{allow, byName} {
		c, err := p.DialContext(&net.Dialer{})(ctx, "tcp", "localhost:"+port)
		if err != nil {
			t.Errorf("dial localhost with %+v: %v", p, err)
			continue
		}
		c.Close()
	}
	if _, err := allow.DialContext(nil)(ctx, "unix", "/tmp/x.sock"); !errors.Is(err, ErrRefused) {
		t.Errorf("unix socket with a restricted policy: %v", err)
	}
}

func TestCheckPath(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	p := &Policy{Restricted: true, FileRoots: []string{root}}
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{filepath.Join(root, "db.sqlite"), true},
		{filepath.Join(root, "new", "dir"), true},
		{root, true},
		{filepath.Join(root, "..", filepath.Base(outside), "x"), false},
		{filepath.Join(root, "link", "x"), false},
		{filepath.Join(root, "link"), false},
		{"/etc/passwd", false},
		{root + "-sibling/x", false},
	} {
		got, err := p.CheckPath(c.path)
		if (err == nil) != c.ok {
			t.Errorf("CheckPath(%q) = %q, %v; want ok=%v", c.path, got, err, c.ok)
		}
	}
	if _, err := (&Policy{Restricted: true}).CheckPath(filepath.Join(root, "x")); !errors.Is(err, ErrRefused) {
		t.Errorf("no roots: %v", err)
	}
	if _, err := (&Policy{}).CheckPath("/etc/passwd"); err != nil {
		t.Errorf("an unrestricted policy refused a path: %v", err)
	}
}

func TestAttachDetach(t *testing.T) {
	p := &Policy{Restricted: true, AllowHosts: []string{"a"}, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, AllowPorts: []uint16{1}, FileRoots: []string{"/r"}}
	cfg := map[string]any{"host": "h"}
	with, err := Attach(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg[ConfigKey]; ok {
		t.Fatal("Attach changed its argument")
	}
	rest, got, err := Detach(with)
	if err != nil || got == nil || len(rest) != 1 || rest["host"] != "h" {
		t.Fatalf("Detach: %v %v %v", rest, got, err)
	}
	if !got.Restricted || got.AllowNetworks[0] != p.AllowNetworks[0] || got.AllowPorts[0] != 1 || got.FileRoots[0] != "/r" || got.AllowHosts[0] != "a" {
		t.Errorf("round trip: %+v", got)
	}
	if _, _, err := Detach(map[string]any{ConfigKey: 3}); err == nil {
		t.Error("Detach accepted a non-string policy")
	}
}

func TestDenyNetworks(t *testing.T) {
	p := &Policy{Restricted: true, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"), netip.MustParsePrefix("127.0.0.1/32")}, DenyNetworks: InternalNetworks}
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"192.0.2.1", true},
		{"127.0.0.1", true}, // opened by the /32 inside 127.0.0.0/8
		{"127.0.0.2", false},
		{"10.1.1.1", false},
		{"::ffff:10.1.1.1", false},
		{"::1", false},
		{"fd12::1", false},
		{"169.254.169.254", false},
	} {
		if err := p.CheckAddr("", netip.MustParseAddr(c.addr), 443); (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.addr, err, c.ok)
		}
	}
}
