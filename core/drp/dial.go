package drp

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/lethehq/lethe/sdk/egress"
)

// CallbackPolicy is the egress policy of status callbacks. Their URLs come
// from DRP agents, and drp.callback_hosts checks only the name in them: a
// name can resolve (or be rebound) to any address. So the address dialled
// is checked: the internet, but not internal networks (loopback, private,
// shared), nor the link-local and metadata addresses, unless the operator
// allows them by address, as a callback host written as an address
// ("127.0.0.1" or "10.0.0.5:8443") or in egress allow_networks.
func CallbackPolicy(allowedHosts []string, allowNetworks []netip.Prefix) *egress.Policy {
	nets := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	nets = append(nets, allowNetworks...)
	for _, h := range allowedHosts {
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
			a = a.Unmap().WithZone("")
			nets = append(nets, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return &egress.Policy{Restricted: true, AllowNetworks: nets, DenyNetworks: egress.InternalNetworks}
}

// callbackClient is the default client of status callbacks: a 10 s
// timeout, no redirects followed, no proxy (the address checked must be
// the one connected to), every dial checked against pol.
func callbackClient(pol *egress.Policy) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = pol.DialContext(&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second})
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer, never followed
		},
	}
}
