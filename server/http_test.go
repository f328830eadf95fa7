package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"

	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/auth/authtest"
	"github.com/cairn-dev/cairn/store"
)

// rawHTTP is one connection to the guarded server's HTTP port, spoken to
// byte by byte as an attacker would.
type rawHTTP struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialHTTP(t *testing.T, g *guarded) *rawHTTP {
	t.Helper()
	u, err := url.Parse(g.http.URL)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	// Never hang the test: every read below has the answer well before.
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	return &rawHTTP{conn: conn, r: bufio.NewReader(conn)}
}

// send writes a request's head, with headers as given, and then part of
// its body.
func (c *rawHTTP) send(t *testing.T, method, path string, headers map[string]string, body []byte) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: cairn\r\n", method, path)
	for k, v := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	_, err := c.conn.Write(append([]byte(b.String()), body...))
	require.NoError(t, err)
}

// answer reads the response, and its body as the gateway's
// google.rpc.Status JSON when it is JSON.
func (c *rawHTTP) answer(t *testing.T) (*http.Response, rpcStatus) {
	t.Helper()
	resp, err := http.ReadResponse(c.r, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var st rpcStatus
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(body, &st), string(body))
	}
	return resp, st
}

type rpcStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// requireClosed proves the server hung up rather than wait for the rest.
func (c *rawHTTP) requireClosed(t *testing.T) {
	t.Helper()
	_, err := c.r.ReadByte()
	require.ErrorIs(t, err, io.EOF)
}

func TestWithheldBodiesOfUnauthenticatedCallersAreAnswered401WithoutBeingRead(t *testing.T) {
	g := newGuarded(t, nil)
	for _, tc := range []struct {
		name, path, contentType, authorization string
		length                                 int
	}{
		{"register without a token", "/v1/services:register", "application/json", "", 0},
		{"register with an unknown token", "/v1/services:register", "application/json", "Bearer guessed-token-0123456789", 0},
		{"register with a forged user token", "/v1/services:register", "application/json",
			"Bearer " + authtest.NewIssuer(t).Token(t, "user:default/mallory", []string{"group:default/team-a"}, time.Hour), 0},
		{"a FOCUS upload without a token", "/v1/costs:importFocus?source=aws", "text/csv", "", 0},
		{"register a small body without a token", "/v1/services:register", "application/json", "", 1000},
		{"a small FOCUS upload without a token", "/v1/costs:importFocus?source=aws", "text/csv", "", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialHTTP(t, g)
			length := 1 << 20
			if tc.length != 0 {
				length = tc.length
			}
			headers := map[string]string{"Content-Type": tc.contentType, "Content-Length": fmt.Sprint(length)}
			if tc.authorization != "" {
				headers["Authorization"] = tc.authorization
			}
			// All but the last byte would pin a megabyte if it were read;
			// this sends a little and withholds the rest.
			c.send(t, http.MethodPost, tc.path, headers, []byte(`{"service":{"name":"services/xxxx`))

			resp, st := c.answer(t)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.Equal(t, 16, st.Code, "UNAUTHENTICATED")
			require.NotEmpty(t, st.Message)
			require.True(t, resp.Close, "Connection: close")
			c.requireClosed(t)
		})
	}
	events, err := g.store.ListAuditEvents(context.Background(), store.AuditFilter{Action: "cairn.v1.CatalogService/RegisterService"}, 0, 10)
	require.NoError(t, err)
	require.Len(t, events, 4, "the refused registrations are audited")
	for _, e := range events {
		require.Equal(t, "denied", e.Outcome)
		require.Equal(t, "Unauthenticated", e.Code)
	}
	require.Equal(t, 6.0, counterValue(t, g, "cairn_unauthenticated_calls_total", "transport", "rest"))
}

func TestASlowAuthenticatedBodyIsCutAtItsDeadline(t *testing.T) {
	g := newGuarded(t, func(c *Config) { c.BodyTimeout = 300 * time.Millisecond })
	c := dialHTTP(t, g)
	c.send(t, http.MethodPost, "/v1/services:register", map[string]string{
		"Authorization": "Bearer " + roleTokens[auth.RoleAdmin], "Content-Type": "application/json", "Content-Length": "1000",
	}, []byte(`{"service":{`))

	resp, st := c.answer(t)
	require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	require.Equal(t, 4, st.Code, "DEADLINE_EXCEEDED")
	require.True(t, resp.Close)
	c.requireClosed(t)
}

func TestAStalledAuthenticatedUploadIsCutAtTheMinimumRate(t *testing.T) {
	g := newGuarded(t, func(c *Config) { c.BodyTimeout = 300 * time.Millisecond })
	c := dialHTTP(t, g)
	c.send(t, http.MethodPost, "/v1/costs:importFocus?source=aws", map[string]string{
		"Authorization": "Bearer " + roleTokens[auth.RoleAdmin], "Content-Type": "text/csv", "Content-Length": "100000000",
	}, []byte(focusHeader))

	resp, st := c.answer(t)
	require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	require.Equal(t, 4, st.Code, "DEADLINE_EXCEEDED")
	require.True(t, resp.Close)
}

// pausingReader gives its rows in chunks, pausing before each: an upload
// over a slow link.
type pausingReader struct {
	chunks [][]byte
	pause  time.Duration
}

func (r *pausingReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

func TestALargeAuthenticatedFocusUploadStreamsPastTheBodyTimeoutAndSizeLimit(t *testing.T) {
	// The upload takes longer than the body timeout, and is larger than
	// --max-request-bytes: it keeps to the rate and streams on.
	g := newGuarded(t, func(c *Config) { c.BodyTimeout, c.UploadMinRate, c.MaxRequestBytes = time.Second, 1024, 64<<10 })
	var file bytes.Buffer
	file.WriteString(focusHeader)
	const rows = 3000
	for i := range rows {
		file.WriteString(focusRow(fmt.Sprintf("i-%d", i)))
	}
	require.Greater(t, file.Len(), 2*(64<<10))
	var chunks [][]byte
	for data := file.Bytes(); len(data) > 0; {
		n := min(len(data), file.Len()/6+1)
		chunks, data = append(chunks, data[:n]), data[n:]
	}

	req, err := http.NewRequest(http.MethodPost, g.http.URL+"/v1/costs:importFocus?source=aws", &pausingReader{chunks: chunks, pause: 250 * time.Millisecond})
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+roleTokens[auth.RoleAdmin])
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var out struct {
		RowCount string `json:"rowCount"`
	}
	require.NoError(t, json.Unmarshal(body, &out))
	require.Equal(t, fmt.Sprint(rows), out.RowCount)
}

// fakeConn is a client's body as a connection reads it: each read waits
// for the client, and fails once the read deadline passes. clock is the
// only time there is.
type fakeConn struct {
	clock, deadline *time.Time
	wait            time.Duration // per read
	perRead, left   int
}

func (c *fakeConn) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	if !c.deadline.IsZero() && c.clock.Add(c.wait).After(*c.deadline) {
		*c.clock = *c.deadline
		return 0, os.ErrDeadlineExceeded
	}
	*c.clock = c.clock.Add(c.wait)
	n := min(c.perRead, c.left, len(p))
	c.left -= n
	return n, nil
}

func (c *fakeConn) Close() error { return nil }

func TestMinimumRateBodyCutsOnlyClientsBelowTheRate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		wait       time.Duration // per read
		perRead    int
		processing time.Duration // the handler's work between reads
		total      int
		wantCut    bool
	}{
		{"a fast upload streams however long it is", time.Millisecond, 64 << 10, 0, 1 << 30, false},
		{"time the handler works does not count", time.Millisecond, 1 << 10, time.Hour, 1 << 20, false},
		{"an upload at the floor streams", time.Second, 1 << 10, 0, 1 << 20, false},
		{"one byte a second is cut", time.Second, 1, 0, 1 << 20, true},
		{"half the floor is cut", time.Second, 512, 0, 1 << 20, true},
		{"a pause longer than allowed is cut", 31 * time.Second, 1 << 20, 0, 1 << 30, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)
			var deadline time.Time
			b := &minRateBody{
				ReadCloser:  &fakeConn{clock: &clock, deadline: &deadline, wait: tc.wait, perRead: tc.perRead, left: tc.total},
				now:         func() time.Time { return clock },
				setDeadline: func(d time.Time) error { deadline = d; return nil },
				maxPause:    30 * time.Second, perByte: time.Second / 1024, credit: 30 * time.Second,
			}
			buf := make([]byte, 1<<20)
			cut := false
			for {
				_, err := b.Read(buf)
				if errors.Is(err, os.ErrDeadlineExceeded) {
					cut = true
					break
				}
				if err == io.EOF {
					require.True(t, deadline.IsZero(), "the deadline is lifted at the end")
					break
				}
				require.NoError(t, err)
				clock = clock.Add(tc.processing)
			}
			require.Equal(t, tc.wantCut, cut)
		})
	}
}

func TestRESTCallLogsNameTheClientAddress(t *testing.T) {
	g := newGuarded(t, nil)
	req, err := http.NewRequest(http.MethodGet, g.http.URL+"/v1/services", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+roleTokens[auth.RoleViewer])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	var line string
	for l := range strings.SplitSeq(g.logs.String(), "\n") {
		if strings.Contains(l, "grpc.method=ListServices") {
			line = l
		}
	}
	require.Contains(t, line, "transport=rest")
	require.Contains(t, line, "peer.address=127.0.0.1:", "the HTTP client's address, not the in-process channel's")
}

func TestOversizedHeadersAreRefused(t *testing.T) {
	g := newGuarded(t, nil)
	t.Run("REST", func(t *testing.T) {
		c := dialHTTP(t, g)
		c.send(t, http.MethodGet, "/v1/services", map[string]string{"X-Padding": strings.Repeat("a", 4*maxHeaderBytes)}, nil)
		resp, _ := c.answer(t)
		require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	})
	t.Run("gRPC", func(t *testing.T) {
		// A raw HTTP/2 client that ignores the limit the server announces.
		fr := dialRawGRPC(t, g, 20*time.Second)
		fields := [][2]string{{"authorization", "Bearer " + roleTokens[auth.RoleViewer]}}
		for i := range 8 {
			fields = append(fields, [2]string{fmt.Sprintf("x-padding-%d", i), strings.Repeat("a", 1<<20)})
		}
		// The block in frames of 16 KiB, the size every peer accepts.
		data := grpcRequestHeaders(t, "/cairn.v1.CatalogService/ListServices", fields...)
		first := min(len(data), 16<<10)
		require.NoError(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: data[:first], EndStream: false, EndHeaders: first == len(data)}))
		written := first
		refused := false
		if first == len(data) {
			require.Fail(t, "the padding fits one frame")
		}
		for written < len(data) && !refused {
			n := min(len(data)-written, 16<<10)
			if err := fr.WriteContinuation(1, written+n == len(data), data[written:written+n]); err != nil {
				refused = true // the server hung up on us
				break
			}
			written += n
		}
		if !refused {
			// An empty request: served, the call would answer OK.
			_ = fr.WriteData(1, true, make([]byte, 5))
		}
		// The server answers the stream with a reset or an error status,
		// or ends the connection; it never runs the call.
		for !refused {
			f, err := fr.ReadFrame()
			if err != nil {
				break
			}
			switch f := f.(type) {
			case *http2.RSTStreamFrame:
				refused = true
			case *http2.GoAwayFrame:
				refused = true
			case *http2.MetaHeadersFrame:
				for _, hf := range f.Fields {
					if hf.Name == "grpc-status" {
						require.NotEqual(t, "0", hf.Value)
						refused = true
					}
				}
			}
		}
		require.True(t, refused)
	})
}
