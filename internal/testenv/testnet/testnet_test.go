package testnet

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeAddrIsALoopbackPortBelowTheEphemeralRangeThatCanBeListenedOn(t *testing.T) {
	addr := FreeAddr(t)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || host != "127.0.0.1" || n < firstPort || n > lastPort {
		t.Fatalf("FreeAddr() = %s, want 127.0.0.1 with a port in %d-%d", addr, firstPort, lastPort)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	l.Close()
}
