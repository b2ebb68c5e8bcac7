package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/version"
)

// ServeConfig is what a plugin kind hands to Serve.
type ServeConfig struct {
	Info schema.Info
	// Plugin builds the go-plugin plugin around the author's definition.
	Plugin func(logger hclog.Logger) (plugin.Plugin, func(context.Context))
}

// WatchInterval is how often a plugin checks that its parent is alive.
const WatchInterval = 200 * time.Millisecond

// Serve runs a plugin process. It never returns.
//
//   - `-describe` prints the plugin's info as JSON and exits without serving.
//   - The logger writes hclog JSON to the original stderr, where the host
//     reads and re-emits it; it is built before go-plugin takes stdio over.
//   - A panic during start-up is logged with its stack and exits 1.
//   - The plugin exits when its parent process dies (go-plugin would leave
//     it orphaned) and closes its instances on SIGTERM before exiting.
func Serve(cfg ServeConfig) {
	for _, a := range os.Args[1:] {
		if a == "-describe" || a == "--describe" {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(cfg.Info); err != nil {
				fmt.Fprintln(os.Stderr, "describe:", err)
				os.Exit(1)
			}
			os.Exit(0)
		}
	}

	logger := hclog.New(&hclog.LoggerOptions{
		Name:       cfg.Info.Kind + "-" + cfg.Info.Name,
		Level:      hclog.LevelFromString(os.Getenv(version.EnvLogLevel)),
		Output:     os.Stderr,
		JSONFormat: true,
	})
	if logger.GetLevel() == hclog.NoLevel {
		logger.SetLevel(hclog.Info)
	}

	defer func() {
		if r := recover(); r != nil {
			logger.Error("plugin failed to start", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			os.Exit(1)
		}
	}()

	p, closeAll := cfg.Plugin(logger)
	var once sync.Once
	shutdown := func(reason string, code int) {
		once.Do(func() {
			logger.Info("plugin shutting down", "reason", reason)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			closeAll(ctx)
			cancel()
			os.Exit(code)
		})
	}

	go watchParent(os.Getppid(), func() { shutdown("parent process exited", 1) })

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		<-sigs
		shutdown("SIGTERM", 0)
	}()

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{int(Handshake.ProtocolVersion): {cfg.Info.Kind: p}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, ServerOptions()...)...)
		},
		Logger: logger,
	})
	// plugin.Serve returns when the host closes the connection.
	shutdown("host closed the connection", 0)
}

// watchParent calls gone once the parent process changes (it died and the
// process was re-parented). Polling getppid works on every Unix.
func watchParent(ppid int, gone func()) {
	if ppid <= 1 {
		return
	}
	t := time.NewTicker(WatchInterval)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != ppid {
			gone()
			return
		}
	}
}
