package config

import (
	"net/netip"
	"strings"
	"testing"
)

// TestServerLimits: the API limits of the server block have safe defaults
// (masking needs a token, /metrics only on the API, rate limits on) and
// are checked when set.
func TestServerLimits(t *testing.T) {
	_, cfg, diags := loadAll(t, map[string]string{"main.hcl": "server {\n}\n"}, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got, want := cfg.Server.ServerLimits, defaultServerLimits(); got.PublicMasking || got.MetricsListen != "" ||
		got.RateLimitPerMinute != want.RateLimitPerMinute || got.RateLimitBurst != want.RateLimitBurst || got.RateLimitEntries != want.RateLimitEntries ||
		got.DRPRateLimitPerMinute != DefaultDRPRateLimitPerMinute || got.DRPRateLimitBurst != DefaultDRPRateLimitBurst {
		t.Errorf("defaults %+v", got)
	}
	_, cfg, diags = loadAll(t, map[string]string{"main.hcl": "auth {\n}\n"}, nil)
	if diags.HasErrors() || cfg.Server.RateLimitPerMinute != DefaultRateLimitPerMinute {
		t.Errorf("defaults without a server block: %v %+v", diags, cfg.Server.ServerLimits)
	}
	_, cfg, diags = loadAll(t, map[string]string{"main.hcl": `server {
  public_masking        = true
  metrics_listen        = "127.0.0.1:9090"
  rate_limit_per_minute = 0
  rate_limit_burst      = 5
  drp_rate_limit_per_minute = 7
  drp_rate_limit_burst  = 8
  rate_limit_entries    = 500
  trusted_proxies       = ["10.0.0.0/8", "192.168.1.7"]
}
`}, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	s := cfg.Server.ServerLimits
	if !s.PublicMasking || s.MetricsListen != "127.0.0.1:9090" || s.RateLimitPerMinute != 0 || s.RateLimitBurst != 5 || s.RateLimitEntries != 500 || s.DRPRateLimitPerMinute != 7 || s.DRPRateLimitBurst != 8 ||
		len(s.TrustedProxies) != 2 || s.TrustedProxies[1] != netip.MustParsePrefix("192.168.1.7/32") {
		t.Errorf("set: %+v", s)
	}
	for _, tc := range []struct{ attr, want string }{
		{`metrics_listen = "nowhere"`, "metrics_listen must be host:port"},
		{`rate_limit_burst = 0`, "from 1 to"},
		{`rate_limit_entries = 5`, "from 100 to"},
		{`trusted_proxies = ["example.com"]`, "not an address or a network"},
		{`public_masking = "yes"`, "true or false"},
	} {
		_, cfg, diags := loadAll(t, map[string]string{"main.hcl": "server {\n  " + tc.attr + "\n}\n"}, nil)
		if !diags.HasErrors() || !strings.Contains(render(t, cfg, diags), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.attr, diags, tc.want)
		}
	}
}
