package main

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// programTB lets a program call kubetest, whose helpers take a testing.TB as
// tests do. A fatal failure ends the helper that reported it, as in a test,
// and attempt returns it as an error instead of failing a test; cleanups run
// when the program finishes; logs go to stderr.
type programTB struct {
	// testing.TB is embedded, nil, only for the interface's unexported
	// method; every method kubetest calls is defined below.
	testing.TB

	tempDir string

	mu       sync.Mutex
	cleanups []func()
	errs     []error // failures reported without ending a helper (Errorf)
}

// fatal is the panic that ends a helper on a fatal failure.
type fatal struct{ message string }

func newProgramTB() (*programTB, error) {
	dir, err := os.MkdirTemp("", "devcluster-")
	if err != nil {
		return nil, err
	}
	return &programTB{tempDir: dir}, nil
}

// attempt calls f, returning the fatal failure f reports, if any.
func (p *programTB) attempt(f func(tb testing.TB)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			failure, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = errors.New(failure.message)
		}
	}()
	f(p)
	return nil
}

// finish runs the cleanups, last registered first, and removes the
// temporary folder; it returns the failures reported meanwhile.
func (p *programTB) finish() error {
	p.mu.Lock()
	cleanups := p.cleanups
	p.cleanups = nil
	p.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		if err := p.attempt(func(testing.TB) { cleanups[i]() }); err != nil {
			p.Error(err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(append(p.errs, os.RemoveAll(p.tempDir))...)
}

func (p *programTB) Name() string { return "devcluster" }
func (p *programTB) Helper()      {}

func (p *programTB) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}

// TempDir returns a new folder in the program's temporary folder.
func (p *programTB) TempDir() string {
	dir, err := os.MkdirTemp(p.tempDir, "")
	if err != nil {
		p.Fatal(err)
	}
	return dir
}

func (p *programTB) Log(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"devcluster:"}, args...)...)
}
func (p *programTB) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "devcluster: "+format+"\n", args...)
}

func (p *programTB) Error(args ...any)                 { p.record(fmt.Sprint(args...)) }
func (p *programTB) Errorf(format string, args ...any) { p.record(fmt.Sprintf(format, args...)) }

func (p *programTB) record(message string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, errors.New(message))
}

func (p *programTB) Fail() { p.record("failed") }
func (p *programTB) Failed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.errs) > 0
}

func (p *programTB) FailNow()                          { panic(fatal{"failed"}) }
func (p *programTB) Fatal(args ...any)                 { panic(fatal{fmt.Sprint(args...)}) }
func (p *programTB) Fatalf(format string, args ...any) { panic(fatal{fmt.Sprintf(format, args...)}) }
