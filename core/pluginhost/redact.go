package pluginhost

import (
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/redact"
)

// keptCalls is how many finished calls' values a plugin's log lines are
// still redacted with: a line the plugin wrote during a call may be read
// from its stderr after the call returned.
const keptCalls = 8

// callValues are the values of a plugin's calls in flight and of its last
// finished ones. The plugin's own log lines and the explanation of its
// crashes are redacted with them before they reach the host's log or an
// error: a plugin (one built with an older SDK, or one that logs its
// errors) may write a value it was given.
type callValues struct {
	mu     sync.Mutex
	active map[*lazySet]bool
	recent []*lazySet
}

// lazySet is a call's values, collected only when a log line or a crash
// needs them (collecting costs more than most calls).
type lazySet struct {
	once sync.Once
	make func() *redact.Set
	set  *redact.Set
}

func (l *lazySet) get() *redact.Set {
	l.once.Do(func() { l.set, l.make = l.make(), nil })
	return l.set
}

// begin records a call's values; the returned func ends the call.
func (c *callValues) begin(vals func() *redact.Set) func() {
	ls := &lazySet{make: vals}
	c.mu.Lock()
	if c.active == nil {
		c.active = map[*lazySet]bool{}
	}
	c.active[ls] = true
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.active, ls)
		c.recent = append(c.recent, ls)
		if len(c.recent) > keptCalls {
			c.recent = c.recent[len(c.recent)-keptCalls:]
		}
	}
}

// text redacts s with the values of every call kept.
func (c *callValues) text(s string) string {
	c.mu.Lock()
	sets := make([]*lazySet, 0, len(c.active)+len(c.recent))
	for v := range c.active {
		sets = append(sets, v)
	}
	sets = append(sets, c.recent...)
	c.mu.Unlock()
	for _, v := range sets {
		s = v.get().Text(s)
	}
	return s
}

func (c *callValues) empty() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.active) == 0 && len(c.recent) == 0
}

// accessValues are the values an access call filters on.
// The values are copied (a pointer each): the caller may reuse its
// slices once the call returns, and the set is built later, if ever.
func accessValues(req connector.AccessRequest) func() *redact.Set {
	var values []any
	for _, f := range req.Filters {
		values = append(values, f.Values...)
	}
	return func() *redact.Set {
		vals := &redact.Set{}
		vals.AddAll(values...)
		return vals
	}
}

// eraseValues are the keys and values of an erase call.
func eraseValues(req connector.EraseRequest) func() *redact.Set {
	updates := append([]connector.RowUpdate(nil), req.Updates...)
	return func() *redact.Set {
		vals := &redact.Set{}
		for _, u := range updates {
			vals.Add(map[string]any(u.Key))
			vals.Add(map[string]any(u.Set))
		}
		return vals
	}
}

// redactLogger is a plugin's logger: its message and its arguments'
// text are redacted with the plugin's call values.
type redactLogger struct {
	hclog.Logger
	vals *callValues
}

func (l *redactLogger) clean(msg string, args []any) (string, []any) {
	if l.vals.empty() {
		return msg, args
	}
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = l.vals.text(v)
		case error, fmt.Stringer:
			s := fmt.Sprint(v)
			if r := l.vals.text(s); r != s {
				out[i] = r
				continue
			}
			out[i] = a
		default:
			out[i] = a
		}
	}
	return l.vals.text(msg), out
}

func (l *redactLogger) Log(level hclog.Level, msg string, args ...any) {
	msg, args = l.clean(msg, args)
	l.Logger.Log(level, msg, args...)
}

func (l *redactLogger) Trace(msg string, args ...any) {
	msg, args = l.clean(msg, args)
	l.Logger.Trace(msg, args...)
}

func (l *redactLogger) Debug(msg string, args ...any) {
	msg, args = l.clean(msg, args)
	l.Logger.Debug(msg, args...)
}

func (l *redactLogger) Info(msg string, args ...any) {
	msg, args = l.clean(msg, args)
	l.Logger.Info(msg, args...)
}

func (l *redactLogger) Warn(msg string, args ...any) {
	msg, args = l.clean(msg, args)
	l.Logger.Warn(msg, args...)
}

func (l *redactLogger) Error(msg string, args ...any) {
	msg, args = l.clean(msg, args)
	l.Logger.Error(msg, args...)
}
