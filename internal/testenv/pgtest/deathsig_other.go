//go:build !linux

package pgtest

import "syscall"

// dieWithParent does nothing here: only Linux can signal a process when its
// parent exits. A test binary that dies without its cleanups leaves its
// server running.
func dieWithParent(*syscall.SysProcAttr) {}
