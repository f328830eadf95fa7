package postgres_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/internal/testenv/testnet"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres"
	"github.com/cairn-dev/cairn/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestConformance(t *testing.T) {
	server := pgtest.Shared(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		url := server.NewDatabase(t)
		return conformanceStore{Store: open(t, url), url: url}
	})
}

// conformanceStore is a store the conformance suite can make fail half way
// through a write, or look migrated by a newer Cairn.
type conformanceStore struct {
	*postgres.Store
	url string
}

// FailTagWrites implements storetest.TagWriteFailer with a trigger.
func (s conformanceStore) FailTagWrites(t *testing.T) {
	exec(t, s.url, `
		CREATE FUNCTION fail_tag_write() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION '`+storetest.TagWriteFailure+`'; END $$;
		CREATE TRIGGER fail_tag_writes BEFORE INSERT ON service_tags
		FOR EACH ROW EXECUTE FUNCTION fail_tag_write()`)
}

// RecordMigration implements storetest.MigrationRecorder.
func (s conformanceStore) RecordMigration(t *testing.T, version int, name string) {
	_, err := connect(t, s.url).Exec(t.Context(),
		`INSERT INTO cairn_schema_migrations (version, name) VALUES ($1, $2)`, version, name)
	require.NoError(t, err)
}

// OutageStore implements storetest.Outager: the store it returns reaches
// the server through a proxy, which the outage closes, with the
// connections it carries, and the end opens again on the same address.
func (s conformanceStore) OutageStore(t *testing.T) (store.Store, func() (end func())) {
	u, err := url.Parse(s.url)
	require.NoError(t, err)
	p := &proxy{to: u.Host, addr: testnet.FreeAddr(t)}
	p.listen(t)
	t.Cleanup(p.close)
	u.Host = p.addr
	return open(t, u.String()), func() func() {
		p.close()
		return func() { p.listen(t) }
	}
}

// proxy forwards the TCP connections made to addr to the address to.
type proxy struct {
	to, addr string
	mu       sync.Mutex
	listener net.Listener
	conns    []net.Conn
}

func (p *proxy) listen(t *testing.T) {
	l, err := net.Listen("tcp", p.addr)
	require.NoError(t, err)
	p.mu.Lock()
	p.listener = l
	p.mu.Unlock()
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", p.to)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, server)
			p.mu.Unlock()
			go func() { io.Copy(server, client); server.Close() }()
			go func() { io.Copy(client, server); client.Close() }()
		}
	}()
}

// close stops listening and breaks every connection carried.
func (p *proxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener != nil {
		p.listener.Close()
		p.listener = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestMigrateRecordsEachMigrationOnce(t *testing.T) {
	url := pgtest.Shared(t).NewDatabase(t)
	s := openMigrated(t, url)
	applied := appliedMigrations(t, url)
	require.NotEmpty(t, applied)

	require.NoError(t, s.Migrate(t.Context()))

	require.Equal(t, applied, appliedMigrations(t, url))
}

func TestConcurrentMigrationsOfANewDatabase(t *testing.T) {
	url := pgtest.Shared(t).NewDatabase(t)
	const replicas = 4
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		s := open(t, url)
		wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()

	for i, err := range errs {
		require.NoError(t, err, "replica %d", i)
	}
	_, _, err := open(t, url).UpsertService(t.Context(), &store.Service{Name: "orders"}, "")
	require.NoError(t, err)
}

func TestReopenKeepsData(t *testing.T) {
	url := pgtest.Shared(t).NewDatabase(t)
	s := openMigrated(t, url)
	stored, _, err := s.UpsertService(t.Context(), &store.Service{Name: "orders", Tags: []string{"go"}}, "")
	require.NoError(t, err)
	require.NoError(t, s.Close())

	reopened := openMigrated(t, url)
	got, err := reopened.GetService(t.Context(), "orders")
	require.NoError(t, err)
	require.Equal(t, stored, got)
	listed, err := reopened.ListServices(t.Context(), store.ServiceFilter{Tag: "go"}, "", 10)
	require.NoError(t, err)
	require.Equal(t, []*store.Service{stored}, listed)
}

func TestDeleteRemovesTagRows(t *testing.T) {
	url := pgtest.Shared(t).NewDatabase(t)
	s := openMigrated(t, url)
	_, _, err := s.UpsertService(t.Context(), &store.Service{Name: "orders", Tags: []string{"go", "grpc"}}, "")
	require.NoError(t, err)
	require.NoError(t, s.DeleteService(t.Context(), "orders", ""))

	var tagRows int
	query(t, url, `SELECT count(*) FROM service_tags`, &tagRows)
	require.Zero(t, tagRows)
}

func TestOpenNeedsNoServerAndCallsAreUnavailableWithoutOne(t *testing.T) {
	s := open(t, "postgres://cairn@"+testnet.FreeAddr(t)+"/cairn")

	require.ErrorIs(t, s.Ping(t.Context()), store.ErrUnavailable)
	require.ErrorIs(t, s.Migrate(t.Context()), store.ErrUnavailable)
	require.ErrorIs(t, s.CheckSchema(t.Context()), store.ErrUnavailable)
	_, err := s.GetService(t.Context(), "orders")
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, _, err = s.UpsertService(t.Context(), &store.Service{Name: "orders"}, "")
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.GetBudget(t.Context(), "payments")
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.PutBudget(t.Context(), store.Budget{Team: "payments", MonthlyAmount: 1, Currency: "USD"})
	require.ErrorIs(t, err, store.ErrUnavailable)
}

func TestPoolSizeDefaultsToSixteenUnlessTheURLSetsIt(t *testing.T) {
	address := testnet.FreeAddr(t)
	require.EqualValues(t, max(16, 4*runtime.GOMAXPROCS(0)), open(t, "postgres://cairn@"+address+"/cairn").MaxConns())
	require.EqualValues(t, 3, open(t, "postgres://cairn@"+address+"/cairn?pool_max_conns=3").MaxConns())
}

func TestOpenRejectsMalformedURLWithoutShowingItsPassword(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://cairn:secret@localhost:notaport/cairn")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret")
}

func TestMissingDatabaseIsNotUnavailable(t *testing.T) {
	s := open(t, pgtest.Shared(t).URL("no_such_database"))

	_, err := s.GetService(t.Context(), "orders")
	require.Error(t, err)
	require.NotErrorIs(t, err, store.ErrUnavailable, "waiting will not make the database appear")
	err = s.CheckSchema(t.Context())
	require.Error(t, err)
	require.NotErrorIs(t, err, store.ErrUnavailable, "waiting will not make the database appear")
	require.NotErrorIs(t, err, store.ErrSchemaOutdated, "migrating will not make the database appear")
}

func TestUnavailableWhileServerIsDown(t *testing.T) {
	server := pgtest.New(t)
	url := server.NewDatabase(t)
	s := openMigrated(t, url)
	orders, _, err := s.UpsertService(t.Context(), &store.Service{Name: "orders", Team: "payments", Tags: []string{"go"}}, "")
	require.NoError(t, err)

	server.Stop(t)
	// The first call likely takes the pooled connection that the stop
	// ended; the next ones cannot connect.
	_, err = s.GetService(t.Context(), "orders")
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.ErrorIs(t, s.Ping(t.Context()), store.ErrUnavailable)
	_, err = s.ListServices(t.Context(), store.ServiceFilter{}, "", 10)
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.ListTeams(t.Context(), "", 10)
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, _, err = s.UpsertService(t.Context(), &store.Service{Name: "cart"}, "")
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.ErrorIs(t, s.DeleteService(t.Context(), "orders", ""), store.ErrUnavailable)
	_, err = s.AppendAuditEvent(t.Context(), store.AuditEvent{Time: time.Now(), Principal: "anonymous"})
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.ListAuditEvents(t.Context(), store.AuditFilter{}, 0, 10)
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, _, err = s.CreateProvisioning(t.Context(), store.Provisioning{Service: "cart"}, &store.Service{Name: "cart"})
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.GetProvisioning(t.Context(), "orders")
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.ListProvisionings(t.Context(), "", 10)
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.UpdateProvisioningSpec(t.Context(), "orders", store.ProvisioningSpec{}, 1)
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.ErrorIs(t, s.MarkProvisioningApplied(t.Context(), "orders", 1), store.ErrUnavailable)
	require.ErrorIs(t, s.MarkProvisioningReady(t.Context(), "orders", time.Now()), store.ErrUnavailable)
	_, _, err = s.CreatePromotion(t.Context(), store.Promotion{Service: "orders", RequestID: "req-promote"})
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.GetPromotion(t.Context(), "orders", 1)
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.ListPromotions(t.Context(), "orders", 0, 10)
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.DecidePromotion(t.Context(), "orders", 1, "approved", "user:default/bob", "", time.Now())
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.ErrorIs(t, s.Migrate(t.Context()), store.ErrUnavailable)
	require.ErrorIs(t, s.CheckSchema(t.Context()), store.ErrUnavailable)

	server.Start(t)
	// Should a pooled connection that the stop ended be left, it fails the
	// one statement that finds out, with ErrUnavailable too.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NoError(c, s.Ping(t.Context()))
	}, 10*time.Second, 50*time.Millisecond)
	got, err := s.GetService(t.Context(), "orders")
	require.NoError(t, err)
	require.Equal(t, orders, got)
	_, _, err = s.UpsertService(t.Context(), &store.Service{Name: "cart"}, "")
	require.NoError(t, err)
	require.NoError(t, s.CheckSchema(t.Context()))
}

// open opens the database at url, closing it when the test ends.
func open(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// openMigrated opens and migrates the database at url, closing it when the
// test ends.
func openMigrated(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s := open(t, url)
	require.NoError(t, s.Migrate(t.Context()))
	return s
}

// appliedMigration is a row of the migration runner's table.
type appliedMigration struct {
	Version   int
	Name      string
	AppliedAt time.Time
}

// appliedMigrations reads the migration runner's table.
func appliedMigrations(t *testing.T, url string) []appliedMigration {
	t.Helper()
	conn := connect(t, url)
	rows, err := conn.Query(t.Context(), `SELECT version, name, applied_at FROM cairn_schema_migrations ORDER BY version`)
	require.NoError(t, err)
	applied, err := pgx.CollectRows(rows, pgx.RowToStructByPos[appliedMigration])
	require.NoError(t, err)
	return applied
}

// connect connects to the database at url around the store, to look at
// what it wrote, closing the connection when the test ends.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	_, err := connect(t, url).Exec(t.Context(), sql)
	require.NoError(t, err)
}

func query(t *testing.T, url, sql string, dst any) {
	t.Helper()
	require.NoError(t, connect(t, url).QueryRow(t.Context(), sql).Scan(dst))
}
