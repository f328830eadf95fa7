package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/cairn-dev/cairn/server/auth"
)

// dialRawGRPC opens an HTTP/2 connection to g's gRPC server, past the
// preface and settings, for a client that keeps to no limit it is told.
func dialRawGRPC(t *testing.T, g *guarded, deadline time.Duration) *http2.Framer {
	t.Helper()
	conn, err := g.grpcLis.Dial()
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(deadline)))
	_, err = io.WriteString(conn, http2.ClientPreface)
	require.NoError(t, err)
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	require.NoError(t, fr.WriteSettings())
	return fr
}

// grpcRequestHeaders is the header block of a call of method, with extra
// fields after the ones every call has.
func grpcRequestHeaders(t *testing.T, method string, extra ...[2]string) []byte {
	t.Helper()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fields := append([][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", method}, {":authority", "cairn"},
		{"content-type", "application/grpc"}, {"te", "trailers"},
	}, extra...)
	for _, f := range fields {
		require.NoError(t, enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}))
	}
	return block.Bytes()
}

// withheldCall opens a raw gRPC call of method whose message announces
// 1 MiB and sends only its first bytes, and returns the grpc-status the
// server answers with before the rest would come ("" if it waits).
func withheldCall(t *testing.T, g *guarded, method, authorization string) string {
	t.Helper()
	fr := dialRawGRPC(t, g, 3*time.Second)
	var extra [][2]string
	if authorization != "" {
		extra = append(extra, [2]string{"authorization", authorization})
	}
	block := grpcRequestHeaders(t, method, extra...)
	require.NoError(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndHeaders: true}))
	prefix := make([]byte, 5, 5+1024)
	binary.BigEndian.PutUint32(prefix[1:], 1<<20)
	require.NoError(t, fr.WriteData(1, false, append(prefix, make([]byte, 1024)...)))
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return "" // the deadline: the server waits for the rest of the message
		}
		if h, ok := f.(*http2.MetaHeadersFrame); ok {
			for _, hf := range h.Fields {
				if hf.Name == "grpc-status" {
					return hf.Value
				}
			}
		}
	}
}

func TestGRPCCallsWithoutValidCredentialsAreRefusedBeforeTheirMessageIsRead(t *testing.T) {
	g := newGuarded(t, nil)
	const register = "/cairn.v1.CatalogService/RegisterService"
	jane := g.issuer.Token(t, "user:default/jane", []string{"group:default/team-a"}, time.Hour)
	admin := g.issuer.Token(t, "user:default/alice", []string{"group:default/admins"}, time.Hour)
	// Jane's header and claims under the signature of another token.
	forged := jane[:strings.LastIndex(jane, ".")] + admin[strings.LastIndex(admin, "."):]
	// Backstage's keys are fetched once a valid token needs them.
	_, err := g.guard.authenticator.Authenticate(context.Background(), "Bearer "+jane)
	require.NoError(t, err)
	for name, authorization := range map[string]string{
		"no token":                 "",
		"unknown token":            "Bearer not-a-token-cairn-knows",
		"a JWT with a forged body": "Bearer " + forged,
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, "16", withheldCall(t, g, register, authorization), "UNAUTHENTICATED, without waiting for the message")
		})
	}
	t.Run("a valid token waits for its message", func(t *testing.T) {
		require.Equal(t, "", withheldCall(t, g, register, "Bearer "+roleTokens[auth.RoleDeveloper]))
	})
}
