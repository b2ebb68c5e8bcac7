package api

import (
	"container/list"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lethehq/lethe/core/config"
)

// rateLimiter is a token bucket per key (a client id, a remote address)
// with bounded memory: it remembers at most max keys and forgets the least
// recently seen one first (a forgotten key starts again with a full
// bucket, as one unseen that long would have refilled).
type rateLimiter struct {
	mu    sync.Mutex
	rate  float64 // tokens per second
	burst float64
	max   int
	now   func() time.Time
	lru   *list.List // of *bucket, most recently seen first
	keys  map[string]*list.Element
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// newRateLimiter returns a limiter of perMinute calls a minute on average
// and burst at once that remembers at most max keys, or nil when
// perMinute is 0.
func newRateLimiter(perMinute, burst, max int, now func() time.Time) *rateLimiter {
	if perMinute <= 0 {
		return nil
	}
	if burst < 1 {
		burst = config.DefaultRateLimitBurst
	}
	if max < 1 {
		max = config.DefaultRateLimitEntries
	}
	return &rateLimiter{rate: float64(perMinute) / 60, burst: float64(burst), max: max, now: now,
		lru: list.New(), keys: map[string]*list.Element{}}
}

// allow takes one token from the bucket of every key, or from none when
// one of them is empty; then it returns how long until there is one.
func (l *rateLimiter) allow(keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	bs := make([]*bucket, 0, len(keys))
	var wait time.Duration
	for _, k := range keys {
		b := l.bucket(k, now)
		bs = append(bs, b)
		if b.tokens < 1 {
			if d := time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second))); d > wait {
				wait = d
			}
		}
	}
	if wait > 0 {
		return false, wait
	}
	for _, b := range bs {
		b.tokens--
	}
	return true, 0
}

// bucket returns key's bucket refilled to now, making it the most
// recently seen.
func (l *rateLimiter) bucket(key string, now time.Time) *bucket {
	if e, ok := l.keys[key]; ok {
		l.lru.MoveToFront(e)
		b := e.Value.(*bucket)
		if el := now.Sub(b.last).Seconds(); el > 0 {
			b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
			b.last = now
		}
		return b
	}
	for l.lru.Len() >= l.max {
		old := l.lru.Back()
		l.lru.Remove(old)
		delete(l.keys, old.Value.(*bucket).key)
	}
	b := &bucket{key: key, tokens: l.burst, last: now}
	l.keys[key] = l.lru.PushFront(b)
	return b
}

// size is how many keys the limiter remembers.
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// limit charges a call of the rate-limited route group to its remote
// address and, when known, its client id; beyond the limit it is a 429
// with Retry-After.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, l *rateLimiter, clientID string) error {
	if l == nil {
		return nil
	}
	keys := []string{"addr:" + s.remoteAddr(r)}
	if clientID != "" {
		keys = append(keys, "client:"+clientID)
	}
	ok, wait := l.allow(keys...)
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
		Message: fmt.Sprintf("too many calls from this client or address; retry in %d s", secs)}
}

// remoteAddr is the address a call came from: the connection's, or, when
// that is a trusted proxy (server.trusted_proxies), the last address of
// X-Forwarded-For that is not a trusted proxy. An IPv6 address counts as
// its /64 network, which one host commonly holds whole.
func (s *Server) remoteAddr(r *http.Request) string {
	addr, err := netip.ParseAddrPort(r.RemoteAddr)
	var ip netip.Addr
	if err == nil {
		ip = addr.Addr().Unmap()
	} else if ip, err = netip.ParseAddr(r.RemoteAddr); err != nil {
		return r.RemoteAddr
	}
	trusted := s.o.Config.Server.TrustedProxies
	if s.trusted(trusted, ip) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // not an address: trust nothing further left
			}
			ip = hop.Unmap()
			if !s.trusted(trusted, ip) {
				break
			}
		}
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func (s *Server) trusted(proxies []netip.Prefix, ip netip.Addr) bool {
	for _, p := range proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
