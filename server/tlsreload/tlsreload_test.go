package tlsreload

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tick     = time.Millisecond // reload interval in tests
	waitFor  = 5 * time.Second
	pollEach = 5 * time.Millisecond
)

// pair is a self-signed certificate for 127.0.0.1 and its key, as PEM.
type pair struct {
	cert            *x509.Certificate
	certPEM, keyPEM []byte
}

func newPair(t *testing.T, serial int64) pair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: fmt.Sprintf("cert-%d", serial)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pair{
		cert:    cert,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// secretDir lays files out as kubelet does for a mounted Secret: the data
// lives in a versioned directory, `..data` links to it, and tls.crt and
// tls.key link through `..data`. Updates swap `..data` atomically.
type secretDir struct {
	t       *testing.T
	dir     string
	version int
}

func newSecretDir(t *testing.T, certPEM, keyPEM []byte) *secretDir {
	d := &secretDir{t: t, dir: t.TempDir()}
	d.update(certPEM, keyPEM)
	for _, name := range []string{"tls.crt", "tls.key"} {
		require.NoError(t, os.Symlink(filepath.Join("..data", name), filepath.Join(d.dir, name)))
	}
	return d
}

func (d *secretDir) certFile() string { return filepath.Join(d.dir, "tls.crt") }
func (d *secretDir) keyFile() string  { return filepath.Join(d.dir, "tls.key") }

func (d *secretDir) update(certPEM, keyPEM []byte) {
	t := d.t
	t.Helper()
	old := fmt.Sprintf("..v%d", d.version)
	d.version++
	ver := fmt.Sprintf("..v%d", d.version)
	require.NoError(t, os.Mkdir(filepath.Join(d.dir, ver), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(d.dir, ver, "tls.crt"), certPEM, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(d.dir, ver, "tls.key"), keyPEM, 0o600))
	tmp := filepath.Join(d.dir, "..data_tmp")
	require.NoError(t, os.Symlink(ver, tmp))
	require.NoError(t, os.Rename(tmp, filepath.Join(d.dir, "..data")))
	require.NoError(t, os.RemoveAll(filepath.Join(d.dir, old)))
}

// serve starts an HTTP server on a real TLS listener using r.TLSConfig() and
// returns its URL. The handler echoes the protocol the request came over.
func serve(t *testing.T, r *Reloader) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", r.TLSConfig())
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.WriteString(w, req.Proto)
	}), ErrorLog: log.New(io.Discard, "", 0)} // rejected handshakes are expected
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "https://" + ln.Addr().String()
}

// fetch makes one request over a new connection, so a new handshake,
// trusting only the given certificates. It returns the server's certificate
// and the protocol the request was served over. It takes no *testing.T so
// that require.Eventually conditions can call it.
func fetch(url string, h2 bool, trusted ...pair) (*x509.Certificate, string, error) {
	pool := x509.NewCertPool()
	for _, p := range trusted {
		pool.AddCert(p.cert)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: h2}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: waitFor}).Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	return resp.TLS.PeerCertificates[0], string(body), nil
}

// serial is the serial number of the certificate a new h2 handshake
// presents, or -1 if the request fails.
func serial(url string, trusted ...pair) int64 {
	c, _, err := fetch(url, true, trusted...)
	if err != nil {
		return -1
	}
	return c.SerialNumber.Int64()
}

func TestReloadsRotatedSecret(t *testing.T) {
	a, b, c := newPair(t, 1), newPair(t, 2), newPair(t, 3)
	d := newSecretDir(t, a.certPEM, a.keyPEM)
	r, err := New(d.certFile(), d.keyFile(), WithInterval(tick))
	require.NoError(t, err)
	url := serve(t, r)

	// A client trusting only A connects, over h2 (gRPC) and HTTP/1.1.
	for _, h2 := range []bool{true, false} {
		got, proto, err := fetch(url, h2, a)
		require.NoError(t, err)
		assert.Equal(t, "cert-1", got.Subject.CommonName)
		assert.Equal(t, map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[h2], proto)
	}

	// Rotate to B by symlink swap: new handshakes present B.
	d.update(b.certPEM, b.keyPEM)
	require.Eventually(t, func() bool { return serial(url, a, b) == 2 }, waitFor, pollEach)
	require.NoError(t, r.LastError())
	_, _, err = fetch(url, true, a)
	require.Error(t, err, "a client trusting only A must now fail")

	// Bad updates keep B in service and report why.
	broken := []struct {
		name            string
		certPEM, keyPEM []byte
		wantErr         string
	}{
		{"broken key", b.certPEM, []byte("-----BEGIN PRIVATE KEY-----\nMIGH"), "failed to find any PEM data in key input"},
		{"half-written cert", b.certPEM[:len(b.certPEM)/2], b.keyPEM, "failed to find any PEM data in certificate input"},
		{"mismatched pair", c.certPEM, b.keyPEM, "private key does not match public key"},
	}
	for _, bc := range broken {
		d.update(bc.certPEM, bc.keyPEM)
		require.Eventually(t, func() bool {
			serial(url, b) // a handshake triggers the check
			err := r.LastError()
			return err != nil && strings.Contains(err.Error(), bc.wantErr)
		}, waitFor, pollEach, bc.name)
		assert.Equal(t, int64(2), serial(url, b), bc.name)
		assert.Contains(t, r.LastError().Error(), d.certFile(), bc.name)
		assert.NotContains(t, r.LastError().Error(), string(b.keyPEM[30:60]), "%s: error leaks key material", bc.name)
	}

	// Fixing the files recovers.
	d.update(c.certPEM, c.keyPEM)
	require.Eventually(t, func() bool { return serial(url, c) == 3 }, waitFor, pollEach)
	require.NoError(t, r.LastError())
}

// Plain files replaced by rename (no symlinks) are picked up too.
func TestReloadsReplacedFiles(t *testing.T) {
	a, b := newPair(t, 1), newPair(t, 2)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	replace := func(name string, data []byte) {
		tmp := name + ".tmp"
		require.NoError(t, os.WriteFile(tmp, data, 0o600))
		require.NoError(t, os.Rename(tmp, name))
	}
	replace(certFile, a.certPEM)
	replace(keyFile, a.keyPEM)
	r, err := New(certFile, keyFile, WithInterval(tick))
	require.NoError(t, err)
	url := serve(t, r)
	assert.Equal(t, int64(1), serial(url, a))

	replace(certFile, b.certPEM)
	replace(keyFile, b.keyPEM)
	require.Eventually(t, func() bool { return serial(url, a, b) == 2 }, waitFor, pollEach)
	require.NoError(t, r.LastError())
}

// Within the interval the files are not looked at.
func TestChecksAtMostOncePerInterval(t *testing.T) {
	a, b := newPair(t, 1), newPair(t, 2)
	d := newSecretDir(t, a.certPEM, a.keyPEM)
	r, err := New(d.certFile(), d.keyFile()) // DefaultInterval
	require.NoError(t, err)
	d.update(b.certPEM, b.keyPEM)
	for range 3 {
		c, err := r.GetCertificate(nil)
		require.NoError(t, err)
		assert.Equal(t, int64(1), c.Leaf.SerialNumber.Int64())
	}
}

func TestNewErrors(t *testing.T) {
	a, b := newPair(t, 1), newPair(t, 2)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	certFile, keyFile := write("a.crt", a.certPEM), write("a.key", a.keyPEM)
	otherKey := write("b.key", b.keyPEM)
	missing := filepath.Join(dir, "missing.pem")

	_, err := New(missing, keyFile)
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorContains(t, err, "certificate file")
	assert.ErrorContains(t, err, missing)

	_, err = New(certFile, missing)
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorContains(t, err, "key file")
	assert.ErrorContains(t, err, missing)

	_, err = New(certFile, otherKey)
	require.Error(t, err)
	assert.ErrorContains(t, err, certFile)
	assert.ErrorContains(t, err, otherKey)
	for _, line := range strings.Split(string(b.keyPEM), "\n")[1:3] {
		assert.NotContains(t, err.Error(), line, "error leaks key material")
	}
}

func TestTLSConfig(t *testing.T) {
	a := newPair(t, 1)
	d := newSecretDir(t, a.certPEM, a.keyPEM)
	r, err := New(d.certFile(), d.keyFile())
	require.NoError(t, err)
	cfg := r.TLSConfig()
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	assert.Equal(t, []string{"h2", "http/1.1"}, cfg.NextProtos)
	require.NotNil(t, cfg.GetCertificate)
	assert.Empty(t, cfg.Certificates, "static certificates would shadow GetCertificate for clients without SNI")
}

// Handshakes call GetCertificate concurrently while the files rotate; run
// with -race.
func TestConcurrentRotation(t *testing.T) {
	pairs := []pair{newPair(t, 1), newPair(t, 2)}
	d := newSecretDir(t, pairs[0].certPEM, pairs[0].keyPEM)
	r, err := New(d.certFile(), d.keyFile(), WithInterval(0))
	require.NoError(t, err)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := r.GetCertificate(nil)
				if !assert.NoError(t, err) || !assert.NotNil(t, c) {
					return
				}
				if n := c.Leaf.SerialNumber.Int64(); n != 1 && n != 2 {
					t.Errorf("unexpected serial %d", n)
					return
				}
				_ = r.LastError()
			}
		})
	}
	for i := range 20 {
		p := pairs[(i+1)%2]
		d.update(p.certPEM, p.keyPEM)
	}
	close(stop)
	wg.Wait()

	// The last rotation was to pairs[0]; a mismatch seen mid-swap is retried.
	require.Eventually(t, func() bool {
		c, _ := r.GetCertificate(nil)
		return c.Leaf.SerialNumber.Int64() == 1 && r.LastError() == nil
	}, waitFor, pollEach)
}
