package drp

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/core/store"
)

// TestCallbackDialledAddressChecked is the regression test of issue 13
// item 7: callback hosts were checked by name only, so a name the
// operator allows that resolves to an internal address (DNS rebinding;
// "localhost" here) reached it. The address dialled is checked now:
// internal networks are refused unless the operator allows them by
// address (callback_hosts = ["127.0.0.1"], or egress allow_networks).
func TestCallbackDialledAddressChecked(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	byName := "http://localhost:" + u.Port() + "/cb"
	for _, c := range []struct {
		name    string
		allowed []string
		url     string
		want    bool
	}{
		{"allowed name resolving to loopback", []string{"localhost"}, byName, false},
		{"loopback allowed by address", []string{u.Host}, srv.URL + "/cb", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			hits.Store(0)
			st := openStore(t, t.TempDir())
			defer st.Close()
			attempted := make(chan string, 4)
			logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: lineFunc(func(line string) {
				select {
				case attempted <- line:
				default:
				}
			})})
			n := NewNotifier(NotifierOptions{Store: st, Allowed: c.allowed, Attempts: 1, Backoff: time.Millisecond, Logger: logger})
			n.Register("pri_1", c.url)
			n.Changed(drpRequest("pri_1", store.StatusComplete))
			select { // the attempt's outcome is logged once it is over
			case line := <-attempted:
				t.Log(line)
			case <-time.After(30 * time.Second):
				t.Fatal("no delivery attempt")
			}
			n.Close()
			if got := hits.Load() > 0; got != c.want {
				t.Errorf("%s reached: %v, want %v", c.url, got, c.want)
			}
		})
	}
}

// lineFunc is an io.Writer that hands each write to fn.
type lineFunc func(string)

func (f lineFunc) Write(p []byte) (int, error) { f(string(p)); return len(p), nil }

func TestCallbackPolicy(t *testing.T) {
	p := CallbackPolicy([]string{"agent.example.org", "127.0.0.1", "[::1]:8443", "10.0.0.5:8443"}, []netip.Prefix{netip.MustParsePrefix("192.168.7.0/24")})
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"203.0.113.9", true},
		{"127.0.0.1", true},
		{"::1", true},
		{"10.0.0.5", true},
		{"192.168.7.20", true},
		{"127.0.0.2", false},
		{"10.0.0.6", false},
		{"192.168.8.1", false},
		{"172.16.0.1", false},
		{"100.64.0.1", false},
		{"fd00::1", false},
		{"169.254.169.254", false},
		{"::ffff:10.0.0.6", false},
	} {
		if err := p.CheckAddr("agent.example.org", netip.MustParseAddr(c.addr), 443); (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.addr, err, c.ok)
		}
	}
}
