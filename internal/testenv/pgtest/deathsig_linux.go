package pgtest

import "syscall"

// dieWithParent has the process get SIGQUIT, PostgreSQL's immediate
// shutdown, when the test binary that started it exits, even by a panic or
// a timeout that skips the cleanups: no server outlives its tests. (Linux
// sends it when the thread that started the process exits; Go ends threads
// only under runtime.LockOSThread, which pgtest does not use.)
func dieWithParent(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGQUIT
}
