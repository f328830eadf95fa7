// Package testnet gives tests addresses to listen on.
package testnet

import (
	"net"
	"testing"
)

// FreeAddr is a loopback address with a port nothing listens on now, for a
// server a test starts next, or for a test that needs a closed port.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testnet: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}
