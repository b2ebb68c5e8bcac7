package sdktest

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/egress"
)

// EgressDial configures an instance of a plugin whose config points at
// host:port, with ctx as the plugin's New receives it (carrying the egress
// policy), and returns New's error, or Test's when New does not dial.
type EgressDial func(ctx context.Context, host string, port int) error

// RunEgressConformance checks that a plugin dials through the egress
// policy the host sends (egress.FromContext in New, then its
// DialContext or Control on every connection): a listener on loopback is
// not reached when the policy refuses loopback, is reached when the
// policy allows it or the host name, and the metadata address is refused
// by the default policy.
func RunEgressConformance(t *testing.T, dial EgressDial) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	// The listener closes what it accepts at once, so a plugin that
	// reached it fails promptly; it counts before closing, so a plugin's
	// error comes after the count.
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	reached := func() bool { return accepted.Swap(0) > 0 }
	timeout := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 20*time.Second)
	}
	refusing := &egress.Policy{Restricted: true, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		ctx, cancel := timeout()
		err := dial(egress.NewContext(ctx, refusing), host, port)
		cancel()
		if err == nil || !strings.Contains(err.Error(), egress.ErrRefused.Error()) {
			t.Errorf("%s with loopback refused: %v, want an error saying %q", host, err, egress.ErrRefused)
		}
		if reached() {
			t.Errorf("%s with loopback refused: the listener was reached", host)
		}
	}
	allowing := []*egress.Policy{
		{Restricted: true, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowPorts: []uint16{uint16(port)}},
		{Restricted: true, AllowHosts: []string{"localhost"}},
	}
	for i, p := range allowing {
		host := "127.0.0.1"
		if i == 1 {
			host = "localhost"
		}
		ctx, cancel := timeout()
		_ = dial(egress.NewContext(ctx, p), host, port) // the listener speaks no protocol
		cancel()
		if !reached() {
			t.Errorf("%s with %+v allowed: the listener was not reached", host, p)
		}
	}
	for _, host := range []string{"169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "0xa9fea9fe"} {
		ctx, cancel := timeout()
		err := dial(ctx, host, 8080) // not 80: a client may drop a default port, and IPv6 brackets with it
		cancel()
		// A resolver may not read the hex spelling at all; the others
		// must be refused by the policy.
		if err == nil || (host != "0xa9fea9fe" && !strings.Contains(err.Error(), egress.ErrRefused.Error())) {
			t.Errorf("metadata address %s with the default policy: %v, want a refusal by the egress policy", host, err)
		}
	}
}

// HostPort joins host and port for URLs and DSNs, bracketing IPv6.
func HostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
