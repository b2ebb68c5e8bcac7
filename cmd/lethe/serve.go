package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/core/api"
	"github.com/lethehq/lethe/core/auth"
	"github.com/lethehq/lethe/core/catalog"
	"github.com/lethehq/lethe/core/config"
	"github.com/lethehq/lethe/core/drp"
	"github.com/lethehq/lethe/core/execute"
	"github.com/lethehq/lethe/core/graph"
	"github.com/lethehq/lethe/core/plan"
	"github.com/lethehq/lethe/core/pluginhost"
	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/sdk/schema"
)

func init() {
	register(command{
		name:    "serve",
		summary: "run the daemon: the HTTP API and a pool of request workers (lethe serve DIR)",
		run:     runServe,
	})
}

const serveUsage = `Usage: lethe serve DIR [--listen HOST:PORT] [--plugin-dir DIR] [--log-level LEVEL]

Runs Lethe as a daemon with the configuration in DIR: it resumes the
requests a previous process left unfinished, runs approved requests on
server.workers workers, and serves the HTTP API on server.listen. SIGTERM or
Ctrl-C stops it gracefully: it stops taking work, lets running requests
reach their next checkpoint, and exits; the next start resumes them.

Flags:
`

// Timeouts of the HTTP server.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 30 * time.Second
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "listen on `HOST:PORT` instead of server.listen (\":0\" picks a free port)")
	pluginDir := fs.String("plugin-dir", "", "find plugins in `DIR` instead of server.plugin_dir")
	logLevel := fs.String("log-level", "", "log `level` on stderr: trace, debug, info, warn or error (default server.log_level)")
	startTimeout := fs.Duration("start-timeout", 10*time.Second, "how long a plugin may take to start")
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	pos, code := graphPlanArgs(fs, args)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "lethe serve: give exactly one configuration directory")
		return 2
	}
	cfg, diags := config.Load(pos[0])
	if !diags.HasErrors() {
		diags = append(diags, cfg.Validate()...)
	}
	if !diags.HasErrors() {
		_, gdiags := graph.Build(cfg.Datasets)
		diags = append(diags, gdiags...)
	}
	if !diags.HasErrors() {
		diags = append(diags, checkPluginConfigs(cfg, *pluginDir, *startTimeout)...)
	}
	if diags.HasErrors() {
		writeConfigDiagnostics(cfg, stderr, errorsOnly(diags))
		fmt.Fprintln(stderr, "lethe serve: the configuration has errors; nothing was started")
		return 1
	}
	if cfg.Auth.RootClientID == "" || cfg.Auth.RootClientSecret == "" {
		fmt.Fprintln(stderr, "lethe serve: the API needs a root client: add auth { root_client_id = \"lethe-root\"  root_client_secret = env(\"LETHE_ROOT_SECRET\") }")
		return 1
	}
	level := cfg.Server.LogLevel
	if *logLevel != "" {
		level = *logLevel
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "lethe", Level: hclog.LevelFromString(level), Output: stderr})
	if err := serve(cfg, *listen, *pluginDir, *startTimeout, logger, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "lethe serve:", err)
		return 1
	}
	return 0
}

func serve(cfg *config.Config, listen, pluginDir string, startTimeout time.Duration, logger hclog.Logger, stdout, stderr io.Writer) error {
	key, err := stateKey(cfg, func(msg string) { fmt.Fprintln(stderr, "lethe serve: warning:", msg) })
	if err != nil {
		return err
	}
	// The requests by status /metrics serves are counted once at start and
	// then follow every change of status, so a scrape never scans the store.
	metrics := api.NewMetrics()
	bolt, err := store.Open(cfg.Server.StateDir, store.Options{Key: key, LockTimeout: time.Second, OnStatus: metrics.ObserveStatus})
	if err != nil {
		return err
	}
	defer bolt.Close()
	// Every status change of a DRP request is reported to its agent's
	// status_callback, if it gave one.
	callbacks := drp.NewNotifier(drp.NotifierOptions{Store: bolt, Outbox: bolt, Allowed: cfg.DRP.CallbackHosts, AllowNetworks: cfg.Egress.AllowNetworks, Logger: logger.Named("drp")})
	defer callbacks.Close()
	if err := callbacks.Resume(context.Background()); err != nil {
		return err
	}
	st := drp.Store{Store: bolt, N: callbacks}
	host, err := newHost(cfg, pluginDir, startTimeout, logger.Named("plugins"))
	if err != nil {
		return err
	}
	defer host.Close(context.Background())

	metrics.SetPluginRestarts(func() map[string]int {
		out := map[string]int{}
		for _, s := range host.Statuses() {
			out[s.Kind+"-"+s.Name] = s.Restarts
		}
		return out
	})
	eng, err := execute.New(execute.Options{
		Config: cfg, Store: st, Plugins: execute.HostPlugins(host), Logger: logger.Named("execute"),
		Observe: func(p execute.Progress) {
			if p.Event == store.EventNodeDone {
				metrics.ObserveNode(string(p.Phase), p.Duration)
			}
		},
		Failpoint: envFailpoint(),
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	signing, err := bolt.SigningKey(ctx)
	if err != nil {
		return err
	}
	authority, err := auth.New(auth.Options{
		SigningKey: signing, TokenTTL: cfg.Auth.TokenTTL,
		RootID: cfg.Auth.RootClientID, RootSecret: []byte(cfg.Auth.RootClientSecret.Reveal()), Clients: bolt,
	})
	if err != nil {
		return err
	}
	cat, err := openCatalog(ctx, cfg, bolt, host, eng, logger.Named("catalog"))
	if err != nil {
		return err
	}
	runner := api.NewRunner(eng, st, cfg.Server.Workers, logger.Named("runner"))
	srv, err := api.New(api.Options{
		Config: cfg, Catalog: cat, Store: st, Engine: eng, Runner: runner, Auth: authAdapter{authority}, Logger: logger.Named("http"),
		Metrics: metrics, Callbacks: callbacks, Health: func(context.Context) map[string]string { return pluginHealth(host) },
		Preview: previewer(eng.Config, host),
	})
	if err != nil {
		return err
	}
	if listen == "" {
		listen = cfg.Server.Listen
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	var metricsLn net.Listener
	if cfg.Server.MetricsListen != "" {
		if metricsLn, err = net.Listen("tcp", cfg.Server.MetricsListen); err != nil {
			ln.Close()
			return fmt.Errorf("listen on server.metrics_listen %s: %w", cfg.Server.MetricsListen, err)
		}
	}
	if err := runner.Start(ctx); err != nil {
		ln.Close()
		if metricsLn != nil {
			metricsLn.Close()
		}
		return err
	}
	hs := &http.Server{
		Handler: srv, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: 64 << 10,
		ErrorLog: logger.Named("http").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	fmt.Fprintf(stdout, "lethe serve: listening on http://%s\n", ln.Addr())
	served := make(chan error, 2)
	go func() { served <- hs.Serve(ln) }()
	var ms *http.Server
	if metricsLn != nil {
		// /metrics alone, without a token: this address is meant to be
		// reachable by the scraper only.
		ms = &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
			WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: 64 << 10,
			ErrorLog: logger.Named("metrics").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})}
		fmt.Fprintf(stdout, "lethe serve: metrics on http://%s/metrics\n", metricsLn.Addr())
		go func() { served <- ms.Serve(metricsLn) }()
	}
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			_ = runner.Stop(context.Background())
			return err
		}
	case <-ctx.Done():
	}
	logger.Info("shutting down: no new work; running requests stop at their next checkpoint")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	herr := hs.Shutdown(sctx)
	if ms != nil {
		herr = errors.Join(herr, ms.Shutdown(sctx))
	}
	rerr := runner.Stop(sctx)
	fmt.Fprintln(stdout, "lethe serve: stopped")
	return errors.Join(herr, rerr)
}

func pluginHealth(host *pluginhost.Host) map[string]string {
	out := map[string]string{}
	for _, s := range host.Statuses() {
		switch s.State {
		case pluginhost.StateFailed:
			out[s.Kind+"-"+s.Name] = "failed: " + s.Reason
		case pluginhost.StateIgnored:
		default:
			out[s.Kind+"-"+s.Name] = "ok"
		}
	}
	return out
}

// authAdapter gives the API the authority's tokens and clients.
type authAdapter struct{ a *auth.Authority }

func (x authAdapter) Token(ctx context.Context, id, secret string) (string, time.Duration, error) {
	tok, ttl, err := x.a.Token(ctx, id, secret)
	if errors.Is(err, auth.ErrInvalidClient) {
		return "", 0, api.ErrInvalidClient
	}
	return tok, ttl, err
}

func (x authAdapter) Verify(ctx context.Context, token string) (api.Principal, error) {
	c, err := x.a.Verify(ctx, token)
	if err != nil {
		return api.Principal{}, api.ErrInvalidToken
	}
	return api.Principal{ClientID: c.ClientID, Scopes: c.Scopes}, nil
}

func (x authAdapter) CreateClient(ctx context.Context, creator api.Principal, scopes []string) (string, string, error) {
	id, secret, err := x.a.CreateClient(ctx, &auth.Claims{ClientID: creator.ClientID, Scopes: creator.Scopes}, scopes)
	switch {
	case errors.Is(err, auth.ErrScopeEscalation):
		return "", "", fmt.Errorf("%w: %v", api.ErrScopeEscalation, err)
	case errors.Is(err, auth.ErrUnknownScope):
		return "", "", fmt.Errorf("%w: %v", api.ErrUnknownScope, err)
	}
	return id, secret, err
}

func (x authAdapter) DeleteClient(ctx context.Context, deleter api.Principal, id string) error {
	err := x.a.DeleteClient(ctx, &auth.Claims{ClientID: deleter.ClientID, Scopes: deleter.Scopes}, id)
	if errors.Is(err, auth.ErrScopeEscalation) {
		return fmt.Errorf("%w: %v", api.ErrScopeEscalation, err)
	}
	return err
}

// previewer plans a request and asks each node's connector for its query.
func previewer(current func() *config.Config, host *pluginhost.Host) func(ctx context.Context, policy string, identities []string) (any, error) {
	var mu sync.Mutex
	var lastCfg *config.Config
	var lastDry QueryPreviewer
	return func(ctx context.Context, policy string, identities []string) (any, error) {
		cfg := current()
		mu.Lock()
		if cfg != lastCfg {
			lastCfg, lastDry = cfg, dryRunPreviewer(cfg, host)
		}
		dry := lastDry
		mu.Unlock()
		g, diags := graph.Build(cfg.Datasets)
		if diags.HasErrors() {
			return nil, diags
		}
		pol := cfg.Policy(policy)
		if pol == nil {
			return nil, fmt.Errorf("unknown policy %q", policy)
		}
		p, err := plan.New(g, plan.Options{Identities: identities, Erasure: hasErasure(pol), Normalize: cfg.Normalizations()})
		if err != nil {
			return nil, err
		}
		queries := map[string]string{}
		for i := range p.Nodes {
			n := &p.Nodes[i]
			q, err := dry(ctx, n)
			if err != nil {
				q = "(not available: " + err.Error() + ")"
			}
			queries[n.Address.String()] = q
		}
		return map[string]any{"plan": p, "queries": queries}, nil
	}
}

// openCatalog loads the configuration objects created through the API on
// top of the files' and puts the result in force in the engine.
func openCatalog(ctx context.Context, cfg *config.Config, st *store.Bolt, host *pluginhost.Host, eng *execute.Engine, logger hclog.Logger) (*catalog.Catalog, error) {
	return catalog.Open(ctx, catalog.Options{
		Base: cfg, Store: st, Apply: eng.Reconfigure, Logger: logger,
		Schema: func(ctx context.Context, kind, plugin string) (schema.Schema, error) {
			info, err := host.Info(ctx, kind, plugin)
			if err != nil {
				return schema.Schema{}, err
			}
			return info.Config, nil
		},
		Test: func(ctx context.Context, kind, plugin string, conf map[string]any) error {
			return testPlugin(ctx, host, kind, plugin, conf)
		},
	})
}

// testPlugin configures a throw-away instance with conf, tests it and
// closes it.
func testPlugin(ctx context.Context, host *pluginhost.Host, kind, plugin string, conf map[string]any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	id := fmt.Sprintf("verify-%d", time.Now().UnixNano())
	type handle interface {
		Configure(ctx context.Context, id string, cfg map[string]any) (schema.Diagnostics, error)
		Test(ctx context.Context, id string) error
		CloseInstance(ctx context.Context, id string) error
	}
	var h handle
	if kind == schema.KindStorage {
		s, err := host.Storage(plugin)
		if err != nil {
			return err
		}
		h = s
	} else {
		c, err := host.Connector(plugin)
		if err != nil {
			return err
		}
		h = c
	}
	diags, err := h.Configure(ctx, id, conf)
	if err != nil {
		return err
	}
	if derr := diags.Err(); derr != nil {
		return derr
	}
	defer h.CloseInstance(context.WithoutCancel(ctx), id)
	return h.Test(ctx, id)
}
