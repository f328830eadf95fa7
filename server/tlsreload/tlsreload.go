// Package tlsreload serves a TLS certificate and key from files and picks up
// new versions when the files change, without restarting the server.
//
// Changes are found by polling os.Stat (which follows symlinks) rather than
// inotify: cert-manager and kubelet rotate secrets by swapping a `..data`
// symlink to a new directory, so the watched inode never changes; the
// resolved file does.
package tlsreload

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often, at most, the files are checked for changes.
const DefaultInterval = 10 * time.Second

// Reloader holds the current certificate and reloads it from disk when the
// files change. It is safe for concurrent use.
type Reloader struct {
	certFile, keyFile string
	interval          time.Duration

	cert    atomic.Pointer[tls.Certificate] // never nil after New
	lastErr atomic.Pointer[error]

	// epoch and next (nanoseconds since epoch) give a monotonic clock that a
	// handshake can read without a lock; wall-clock jumps can't stall checks.
	epoch time.Time
	next  atomic.Int64

	mu    sync.Mutex // held by the one goroutine checking the files
	stamp stamp      // files as of the loaded certificate; guarded by mu
}

// Option configures a Reloader.
type Option func(*Reloader)

// WithInterval sets how often, at most, the files are checked. Zero checks on
// every handshake; tests use a tiny interval.
func WithInterval(d time.Duration) Option {
	return func(r *Reloader) { r.interval = d }
}

// New loads the certificate and key now and returns a Reloader serving them.
func New(certFile, keyFile string, opts ...Option) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile, interval: DefaultInterval, epoch: time.Now()}
	for _, o := range opts {
		o(r)
	}
	s, err := r.statFiles()
	if err != nil {
		return nil, err
	}
	cert, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cert.Store(cert)
	r.stamp = s
	r.next.Store(int64(r.interval))
	return r, nil
}

// GetCertificate returns the current certificate, first reloading it if the
// files changed and the interval has passed. It suits tls.Config.GetCertificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.maybeReload()
	return r.cert.Load(), nil
}

// LastError returns why the last reload failed, or nil if it succeeded (or
// none was needed). While it is non-nil the previous certificate is served.
func (r *Reloader) LastError() error {
	if p := r.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// TLSConfig returns a server config using the Reloader. It offers h2 and
// http/1.1 so one listener serves both gRPC and plain HTTP clients.
func (r *Reloader) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

func (r *Reloader) maybeReload() {
	if time.Since(r.epoch) < time.Duration(r.next.Load()) {
		return
	}
	// Only one handshake checks; the others carry on with the current
	// certificate rather than queue behind disk I/O.
	if !r.mu.TryLock() {
		return
	}
	defer r.mu.Unlock()
	now := time.Since(r.epoch)
	if now < time.Duration(r.next.Load()) {
		return // another goroutine checked while we were getting the lock
	}
	r.next.Store(int64(now + r.interval))

	// Stat before reading: if the files change during the read, the next
	// check sees a newer stamp than the one recorded and reloads again.
	s, err := r.statFiles()
	if err == nil && s.same(r.stamp) {
		return
	}
	var cert *tls.Certificate
	if err == nil {
		cert, err = r.load()
	}
	if err != nil {
		// Keep serving the old pair. The stamp stays that of the old pair,
		// so the next check retries even if the files don't change again.
		r.lastErr.Store(&err)
		return
	}
	r.cert.Store(cert)
	r.stamp = s
	r.lastErr.Store(nil)
}

// stamp identifies the versions of the two files. A swapped symlink or a
// rename over the file changes the file identity (inode); an in-place write
// changes the mtime or size.
type stamp struct{ cert, key os.FileInfo }

func (s stamp) same(o stamp) bool {
	return sameVersion(s.cert, o.cert) && sameVersion(s.key, o.key)
}

func sameVersion(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}

func (r *Reloader) statFiles() (stamp, error) {
	c, err := os.Stat(r.certFile)
	if err != nil {
		return stamp{}, fmt.Errorf("tlsreload: certificate file: %w", err)
	}
	k, err := os.Stat(r.keyFile)
	if err != nil {
		return stamp{}, fmt.Errorf("tlsreload: key file: %w", err)
	}
	return stamp{c, k}, nil
}

// load reads and parses the pair. Its errors name the files and never
// include their contents: the key is secret.
func (r *Reloader) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("tlsreload: loading certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	return &cert, nil
}
