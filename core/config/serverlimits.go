package config

import (
	"net"
	"net/netip"
)

// Defaults of the server block's API limits (ServerLimits).
const (
	// DefaultRateLimitPerMinute is how many token and DRP exercise calls a
	// client id, and a remote address, may make per minute on average.
	DefaultRateLimitPerMinute = 60
	// DefaultRateLimitBurst is how many such calls may come at once.
	DefaultRateLimitBurst = 20
	// DefaultDRPRateLimitPerMinute and DefaultDRPRateLimitBurst are the same
	// for DRP exercise calls, per agent (or API client) and address: an
	// authorized agent relays many consumers.
	DefaultDRPRateLimitPerMinute = 600
	DefaultDRPRateLimitBurst     = 100
	// DefaultRateLimitEntries bounds how many client ids and addresses the
	// rate limiter remembers (least recently seen ones are forgotten).
	DefaultRateLimitEntries = 10000
)

// ServerLimits are the server block's settings of the API's unauthenticated
// surface and its rate limits.
type ServerLimits struct {
	// PublicMasking opens PUT /api/v1/masking/mask to callers without a
	// token (default false: it needs scope masking:exec).
	PublicMasking bool
	// MetricsListen, when set, serves /metrics without a token on its own
	// host:port (default "": /metrics only on the API, with scope
	// metrics:read).
	MetricsListen string
	// RateLimitPerMinute and RateLimitBurst configure the token bucket of
	// the token route, per client id and per remote address;
	// DRPRateLimitPerMinute and DRPRateLimitBurst that of DRP exercise
	// calls. A rate of 0 disables the limit. RateLimitEntries bounds how
	// many ids and addresses each limiter remembers.
	RateLimitPerMinute    int
	RateLimitBurst        int
	DRPRateLimitPerMinute int
	DRPRateLimitBurst     int
	RateLimitEntries      int
	// TrustedProxies lists the networks whose X-Forwarded-For header names
	// the remote address (default none: the connection's address is used).
	TrustedProxies []netip.Prefix
}

// serverLimitAttrs are the server block attributes ServerLimits reads.
var serverLimitAttrs = []string{"public_masking", "metrics_listen", "rate_limit_per_minute", "rate_limit_burst",
	"drp_rate_limit_per_minute", "drp_rate_limit_burst", "rate_limit_entries", "trusted_proxies"}

func defaultServerLimits() ServerLimits {
	return ServerLimits{RateLimitPerMinute: DefaultRateLimitPerMinute, RateLimitBurst: DefaultRateLimitBurst,
		DRPRateLimitPerMinute: DefaultDRPRateLimitPerMinute, DRPRateLimitBurst: DefaultDRPRateLimitBurst, RateLimitEntries: DefaultRateLimitEntries}
}

// serverLimits reads ServerLimits from a server block's body.
func serverLimits(bd *body) ServerLimits {
	s := defaultServerLimits()
	if v, ok := bd.boolean("public_masking"); ok {
		s.PublicMasking = v
	}
	if v, ok := bd.str("metrics_listen"); ok {
		if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
			bd.invalid("metrics_listen", "metrics_listen must be host:port, like \"127.0.0.1:9090\".")
		} else {
			s.MetricsListen = v
		}
	}
	if v, ok := bd.integer("rate_limit_per_minute", 0, 1_000_000); ok {
		s.RateLimitPerMinute = v
	}
	if v, ok := bd.integer("rate_limit_burst", 1, 1_000_000); ok {
		s.RateLimitBurst = v
	}
	if v, ok := bd.integer("drp_rate_limit_per_minute", 0, 1_000_000); ok {
		s.DRPRateLimitPerMinute = v
	}
	if v, ok := bd.integer("drp_rate_limit_burst", 1, 1_000_000); ok {
		s.DRPRateLimitBurst = v
	}
	if v, ok := bd.integer("rate_limit_entries", 100, 10_000_000); ok {
		s.RateLimitEntries = v
	}
	if v, ok := bd.strings("trusted_proxies"); ok {
		for i, p := range v {
			pfx, err := netip.ParsePrefix(p)
			if err != nil {
				addr, aerr := netip.ParseAddr(p)
				if aerr != nil {
					bd.invalid("trusted_proxies", "trusted_proxies[%d] = %q is not an address or a network such as \"10.0.0.0/8\".", i, p)
					continue
				}
				pfx = netip.PrefixFrom(addr, addr.BitLen())
			}
			s.TrustedProxies = append(s.TrustedProxies, pfx.Masked())
		}
	}
	return s
}
