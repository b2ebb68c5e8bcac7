//go:build !unix

package pluginhost

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
