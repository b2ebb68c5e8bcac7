package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses a Go duration ("36h", "90m") extended with a day
// unit of 24 hours, which may lead: "45d", "1d12h". Negative durations are
// refused.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration: write it like \"45d\", \"36h\" or \"90m\"")
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("duration %q is negative", orig)
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil || i == 0 {
			return 0, fmt.Errorf("duration %q: the day count must be a whole number before \"d\", like \"45d\" or \"1d12h\"", orig)
		}
		if n > 100*366 {
			return 0, fmt.Errorf("duration %q is longer than 100 years", orig)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("duration %q: write it like \"45d\", \"36h\", \"1d12h\" or \"90m\"", orig)
	}
	return days + d, nil
}
