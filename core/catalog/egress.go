package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/sdk/egress"
	"github.com/lethehq/lethe/sdk/schema"
)

// Unreachable is the only reason the API gives for a failed test: a
// refused connection, a timeout and a server speaking another protocol
// must look the same to a caller, or the test route is a port scanner.
// The details go to the server log.
const Unreachable = "unreachable: the test could not complete with this configuration; the server log has the details"

// secretDropped is the notice of a change that dropped a stored secret.
const secretDropped = "the stored secret was dropped because %s changed (it decides where the secret is sent); set it again with PUT %s/secret"

// redirects returns the attributes whose change between before and after
// could send a stored secret elsewhere: a different plugin, or a changed
// attribute the plugin's schema marks Destination (every non-sensitive
// one when the schema marks none, or when the schema is unknown).
func (c *Catalog) redirects(ctx context.Context, pluginKind, beforePlugin string, before map[string]any, afterPlugin string, after map[string]any) []string {
	if beforePlugin != afterPlugin {
		return []string{"the plugin"}
	}
	sch, err := c.schema(ctx, pluginKind, afterPlugin)
	var watched []string
	if err != nil {
		for k := range before {
			watched = append(watched, k)
		}
		for k := range after {
			watched = append(watched, k)
		}
	} else {
		watched = sch.Destinations()
	}
	seen := map[string]bool{}
	var changed []string
	for _, k := range watched {
		if seen[k] {
			continue
		}
		seen[k] = true
		if !sameValue(before[k], after[k]) {
			changed = append(changed, k)
		}
	}
	sort.Strings(changed)
	return changed
}

// sameValue compares two loosely typed values as JSON.
func sameValue(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		if n == "the plugin" {
			q[i] = n
			continue
		}
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// attachEgress gives every connection and storage of cfg the egress
// policy its plugin instance must follow: the API's for objects created
// through it, the files' exceptions for declared ones. The policy rides
// in the config map under egress.ConfigKey; the SDK's client sends it in
// the Configure request, never as an attribute.
func attachEgress(cfg *config.Config, objs map[string]map[string]json.RawMessage) error {
	api, files := cfg.Egress.ForAPI(), cfg.Egress.ForFiles()
	pick := func(kind, name string) *egress.Policy {
		if _, ok := objs[kind][name]; ok {
			return api
		}
		return files
	}
	for i, x := range cfg.Connections {
		conf, err := egress.Attach(x.Config, pick(KindConnection, x.Name))
		if err != nil {
			return err
		}
		n := *x
		n.Config = conf
		cfg.Connections[i] = &n
	}
	for i, s := range cfg.Storages {
		conf, err := egress.Attach(s.Config, pick(KindStorage, s.Name))
		if err != nil {
			return err
		}
		n := *s
		n.Config = conf
		cfg.Storages[i] = &n
	}
	return nil
}

// checkEgress checks the configs of objects created through the API
// against the egress policy before they are stored, for a clear answer:
// paths must lie under the file roots, and destinations written as
// addresses (in any spelling) must be allowed. The plugins check again
// what they actually open and dial.
// Only the objects that only reports true for are checked (nil: all).
func (c *Catalog) checkEgress(ctx context.Context, cfg *config.Config, objs map[string]map[string]json.RawMessage, only func(kind, key string) bool) []string {
	pol := cfg.Egress.ForAPI()
	var problems []string
	check := func(owner, kind, name, plugin string, conf map[string]any) {
		sch, err := c.schema(ctx, kind, plugin)
		if err != nil {
			return // reported by the plugin check
		}
		for _, a := range sch.Attributes {
			v, ok := conf[a.Name].(string)
			if !ok || v == "" {
				continue
			}
			switch {
			case a.Path:
				if !filepath.IsAbs(v) {
					v = filepath.Join(cfg.Dir, v) // plugins run in the configuration directory
				}
				if _, err := pol.CheckPath(v); err != nil {
					problems = append(problems, fmt.Sprintf("%s %q: config.%s: %v; use a path under the egress block's file_roots", owner, name, a.Name, err))
				}
			case a.Destination && !a.Sensitive:
				if err := checkDestination(pol, v); err != nil {
					problems = append(problems, fmt.Sprintf("%s %q: config.%s: %v", owner, name, a.Name, err))
				}
			}
		}
	}
	want := func(kind, key string) bool {
		_, ok := objs[kind][key]
		return ok && (only == nil || only(kind, key))
	}
	for _, x := range cfg.Connections {
		if want(KindConnection, x.Name) {
			check("connection", schema.KindConnector, x.Name, x.Plugin, x.Config)
		}
	}
	for _, s := range cfg.Storages {
		if want(KindStorage, s.Name) {
			check("storage", schema.KindStorage, s.Name, s.Plugin, s.Config)
		}
	}
	return problems
}

// checkDestination checks a host, host:port or URL written in a config
// when it names an address; names are checked when dialled.
func checkDestination(pol *egress.Policy, v string) error {
	host := v
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		host = u.Host
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	a, err := egress.ParseAddr(host)
	if err != nil {
		return nil
	}
	addrOnly := *pol // the port is checked when dialled
	addrOnly.AllowPorts = nil
	return addrOnly.CheckAddr("", a, 0)
}
