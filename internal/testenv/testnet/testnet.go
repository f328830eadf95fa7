// Package testnet gives tests addresses to listen on.
package testnet

import (
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
)

// The ports FreeAddr picks from: below Linux's default ephemeral range
// (32768-60999), from which the kernel also takes the local port of every
// outgoing connection. A port picked from that range could be taken by any
// connection (of kube-apiserver, etcd or the test itself) between the pick
// and the server's listen; one below it is taken only by another listener.
const (
	firstPort = 20000
	lastPort  = 32000
)

// FreeAddr is a loopback address with a port nothing listens on now, for a
// server a test starts next, or for a test that needs a closed port.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	for range 100 {
		addr := fmt.Sprintf("127.0.0.1:%d", firstPort+rand.IntN(lastPort-firstPort+1))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		l.Close()
		return addr
	}
	tb.Fatalf("testnet: no free port in %d-%d after 100 tries", firstPort, lastPort)
	return ""
}
