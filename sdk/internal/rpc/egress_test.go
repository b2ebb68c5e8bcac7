package rpc

import (
	"net/netip"
	"reflect"
	"testing"

	pluginv1 "github.com/lethehq/lethe/proto/plugin/v1"
	"github.com/lethehq/lethe/sdk/egress"
)

func TestEgressRoundTrip(t *testing.T) {
	p := &egress.Policy{Restricted: true, AllowHosts: []string{"db.example.com"}, AllowNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		AllowPorts: []uint16{5432}, FileRoots: []string{"/srv"}, DenyNetworks: []netip.Prefix{netip.MustParsePrefix("fc00::/7")}}
	got, err := EgressFromProto(EgressToProto(p))
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if d, err := EgressFromProto(nil); err != nil || d.Restricted {
		t.Errorf("no policy: %+v %v, want the default", d, err)
	}
	for _, bad := range []*pluginv1.EgressPolicy{{AllowNetworks: []string{"x"}}, {AllowPorts: []uint32{70000}}, {DenyNetworks: []string{"1.2.3.4/40"}}} {
		if _, err := EgressFromProto(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
