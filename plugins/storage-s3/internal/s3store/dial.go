package s3store

import (
	"net"
	"net/http"
	"time"

	"github.com/lethehq/lethe/sdk/egress"
)

// applyEgress makes transport dial through the policy: every connection
// to the endpoint is checked at the address actually dialled, after name
// resolution, so a name that resolves to a refused address (DNS
// rebinding included) is not reached.
func applyEgress(pol *egress.Policy, transport *http.Transport) {
	transport.DialContext = pol.DialContext(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second})
}

// credentialTransport is the transport of the instance-role credential
// lookup (the metadata service at 169.254.169.254). A storage the
// operator declared may use the role, as it could before; one created
// through the API follows its policy, which refuses the metadata
// service unless egress allow_networks opens it.
func credentialTransport(pol *egress.Policy, checked, plain *http.Transport) *http.Transport {
	if pol.Restricted {
		return checked
	}
	return plain
}
