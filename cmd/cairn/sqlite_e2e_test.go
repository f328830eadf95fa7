package main

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	_ "modernc.org/sqlite" // the "sqlite" driver, for a second writer

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// TestSQLiteLockedByAnotherWriterAnswersUnavailable has another process's
// writer hold SQLite's write lock past Cairn's busy timeout: writes answer
// UNAVAILABLE over gRPC and 503 over REST, as PostgreSQL's outages do, not
// INTERNAL; reads go on; once the lock is released writes succeed again.
func TestSQLiteLockedByAnotherWriterAnswersUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	p := startCairn(t, "sqlite:"+path)
	body, err := os.ReadFile("../../deploy/examples/register-orders-service.json")
	require.NoError(t, err)
	r := p.rest(t, "POST", "/v1/services:register", bytes.NewReader(body))
	require.Equal(t, http.StatusOK, r.status, r.raw)

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	writer, err := db.Conn(t.Context())
	require.NoError(t, err)
	_, err = writer.ExecContext(t.Context(), "BEGIN IMMEDIATE")
	require.NoError(t, err)

	catalog := cairnv1.NewCatalogServiceClient(p.conn)
	register := func() error {
		_, err := catalog.RegisterService(context.Background(), &cairnv1.RegisterServiceRequest{Source: &cairnv1.RegisterServiceRequest_Service{
			Service: &cairnv1.Service{Name: "services/cart-service", Type: "service", Lifecycle: "production", Owner: "team-orders"},
		}})
		return err
	}
	// Both wait out Cairn's busy timeout, together.
	var (
		wg      sync.WaitGroup
		grpcErr error
		locked  restResponse
	)
	wg.Go(func() { grpcErr = register() })
	wg.Go(func() { locked = p.rest(t, "POST", "/v1/services:register", bytes.NewReader(body)) })
	wg.Wait()
	require.Equal(t, codes.Unavailable, status.Code(grpcErr), "%v", grpcErr)
	require.Equal(t, http.StatusServiceUnavailable, locked.status, locked.raw)
	require.Equal(t, "STORE_UNAVAILABLE", locked.body["details"].([]any)[0].(map[string]any)["reason"])
	require.NotContains(t, locked.raw, "SQLITE", "the database's own words stay in the log")
	r = p.rest(t, "GET", "/v1/services/orders-service", nil)
	require.Equal(t, http.StatusOK, r.status, "reads go on under a writer (WAL): %s", r.raw)

	_, err = writer.ExecContext(t.Context(), "ROLLBACK")
	require.NoError(t, err)
	require.NoError(t, writer.Close())
	require.NoError(t, register())
	r = p.rest(t, "POST", "/v1/services:register", bytes.NewReader(body))
	require.Equal(t, http.StatusOK, r.status, r.raw)
}
