//go:build unix

package pluginhost

import "syscall"

// sysProcAttr puts each plugin in its own process group, so a Ctrl-C or
// Ctrl-\ typed at `lethe serve` reaches only the host, which then stops its
// plugins in order.
//
// Pdeathsig is deliberately not set: Linux sends it when the *thread* that
// forked the child exits, and the Go runtime may retire that thread while
// the host lives on, which would kill healthy plugins. Plugins built with
// the SDK instead watch their parent themselves (sdk/internal/rpc,
// watchParent) and exit when the host dies, even by SIGKILL.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
