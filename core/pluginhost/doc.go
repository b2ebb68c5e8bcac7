// Package pluginhost finds, starts and supervises Lethe's plugin processes.
//
// A Host scans the plugin directory for lethe-connector-<name> and
// lethe-storage-<name> binaries (Discover), refuses those that are symlinks
// leaving the directory or whose sha256 differs from a pinned one, and
// fingerprints each with Describe (Fingerprint). Connector and Storage
// return handles whose calls start the plugin's process on first use: one
// process per binary serves every configured instance of that plugin.
//
// The host remembers each instance's configuration. When a plugin process
// dies, the next call restarts it (after an exponential backoff), configures
// its instances again and, where that is safe, retries the call once. A
// plugin that crashes CrashLimit times within CrashWindow is marked failed:
// its calls then fail at once, saying why. Close kills every process.
//
// Processes run with go-plugin over gRPC with AutoMTLS, the binary's sha256
// checked right before exec, and an environment reduced to an allowlist.
// Their hclog JSON on stderr is re-emitted through the host logger under
// the name "<kind>-<name>".
package pluginhost
