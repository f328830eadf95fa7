package kubetest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/cairn-dev/cairn/internal/testenv"
)

// assetsVersion is the Kubernetes version whose kube-apiserver (and the
// etcd that goes with it) tools/kube/assets.sh builds into the repository's
// .cache/kube/<version>.
const assetsVersion = "v1.37.2"

// findAssets returns the folder of kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS, else the repository's cache.
func findAssets() (string, error) {
	dir, from := os.Getenv("KUBEBUILDER_ASSETS"), "$KUBEBUILDER_ASSETS"
	if dir == "" {
		root, err := testenv.RepoRoot()
		if err != nil {
			return "", err
		}
		dir, from = filepath.Join(root, ".cache", "kube", assetsVersion), "the repository's cache"
	}
	var missing []string
	for _, program := range []string{"kube-apiserver", "etcd"} {
		if info, err := os.Stat(filepath.Join(dir, program)); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			missing = append(missing, program)
		}
	}
	if len(missing) > 0 {
		verb := "is"
		if len(missing) > 1 {
			verb = "are"
		}
		return "", fmt.Errorf("%s %s missing from %s (%s): run `make kube-assets`, which builds kube-apiserver %s "+
			"and etcd into .cache/kube/%s, or point KUBEBUILDER_ASSETS at a folder that holds them",
			strings.Join(missing, " and "), verb, dir, from, assetsVersion, assetsVersion)
	}
	return filepath.Abs(dir)
}

// dieWithTests returns what envtest should run for program: a script in dir
// that runs program under `setpriv --pdeathsig KILL`, so that Linux kills
// the process when the test binary that started it exits, even by a panic or
// a timeout that skips the cleanups, and no kube-apiserver or etcd outlives
// its tests. (Linux sends the signal when the thread that started the
// process exits; Go ends threads only under runtime.LockOSThread, which
// kubetest does not use.) The script execs, so envtest's signals reach
// program itself. Where setpriv is missing, or not on Linux, program as it
// is: a test binary that dies without its cleanups leaves it running.
func dieWithTests(dir, program string) (string, error) {
	if runtime.GOOS != "linux" {
		return program, nil
	}
	setpriv, err := exec.LookPath("setpriv")
	if errors.Is(err, exec.ErrNotFound) {
		return program, nil
	}
	if err != nil {
		return "", err
	}
	script := filepath.Join(dir, filepath.Base(program))
	body := fmt.Sprintf("#!/bin/sh\nexec %s --pdeathsig KILL -- %s \"$@\"\n", shellQuote(setpriv), shellQuote(program))
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		return "", err
	}
	return script, nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// logFile opens a file in the Env's folder for a process's output.
func (e *Env) logFile(name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(e.dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	e.logs = append(e.logs, f)
	return f, nil
}

// logTails is the end of each process's output, to explain a failure.
func (e *Env) logTails() string {
	const tailSize = 4 << 10
	var b strings.Builder
	for _, f := range e.logs {
		log, err := os.ReadFile(f.Name())
		if err != nil || len(log) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\nthe end of %s:\n%s", filepath.Base(f.Name()), log[max(0, len(log)-tailSize):])
	}
	return b.String()
}
