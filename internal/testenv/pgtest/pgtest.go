// Package pgtest gives tests a throwaway PostgreSQL server: a real one, run
// from the binaries of the postgresql package in a temporary directory, on
// 127.0.0.1 and a free port, with durability turned off for speed.
//
// A test binary shares one server, which TestMain sets up:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and each test takes a database of its own on it:
//
//	url := pgtest.Shared(t).NewDatabase(t)
//
// A test that stops and restarts PostgreSQL starts a server of its own with
// New, so as not to pull the shared one from under other tests.
//
// The server's default collation is ICU's en-US, as on a typical production
// database, not C: a test that needs byte order gets it from its schema,
// and proves that the schema asks for it.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvURL names the environment variable that, when set, points the shared
// server at an existing PostgreSQL instead of starting one. Its URL's user
// must be allowed to create databases.
const EnvURL = "CAIRN_TEST_POSTGRES_URL"

// Server is a PostgreSQL server for tests.
type Server struct {
	url   *url.URL      // the maintenance database, postgres
	admin *pgxpool.Pool // connected to url, to create and drop databases
	local *cluster      // nil for a server named by EnvURL
	// ownedByTest is set on a server started by New: only such a server may
	// be stopped, as the shared one serves other tests too.
	ownedByTest bool
}

// shared is the test binary's server: Main enables it, Shared starts it on
// first use, and Main stops it once the tests are done.
var shared struct {
	enabled bool
	once    sync.Once
	server  *Server
	err     error
}

// Main runs the tests of a test binary that uses Shared, then stops the
// shared server if one was started. Call it from TestMain.
func Main(m *testing.M) {
	shared.enabled = true
	m.Run() // TestMain returning hands m.Run's exit code to os.Exit
	if shared.server != nil {
		if err := shared.server.close(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
}

// Shared returns the test binary's server: the one EnvURL names, or else one
// started on first use, which Main stops at the end. It fails tb if the
// server cannot be had.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	if !shared.enabled {
		tb.Fatal("pgtest: Shared needs the test binary's TestMain to call pgtest.Main")
	}
	shared.once.Do(func() {
		if envURL := os.Getenv(EnvURL); envURL != "" {
			shared.server, shared.err = connect(envURL, nil)
		} else {
			shared.server, shared.err = startLocal()
		}
	})
	if shared.err != nil {
		tb.Fatalf("pgtest: %v", shared.err)
	}
	return shared.server
}

// New starts a server for tb alone, which tb's end stops and removes. Its
// Stop and Start methods stop and restart it.
func New(tb testing.TB) *Server {
	tb.Helper()
	s, err := startLocal()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	s.ownedByTest = true
	tb.Cleanup(func() {
		if err := s.close(); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	return s
}

// startLocal starts a server of pgtest's own.
func startLocal() (*Server, error) {
	c, err := newCluster()
	if err != nil {
		return nil, err
	}
	s, err := connect(c.url(), c)
	if err != nil {
		return nil, errors.Join(err, c.remove())
	}
	return s, nil
}

// connect returns the server at rawURL, run by local if not nil.
func connect(rawURL string, local *cluster) (*Server, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Not err itself, which quotes the URL and so its password.
		return nil, fmt.Errorf("server URL: %w", errors.Unwrap(err))
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/postgres"
	}
	admin, err := pgxpool.New(context.Background(), u.String())
	if err != nil {
		return nil, fmt.Errorf("server URL: %w", err)
	}
	return &Server{url: u, admin: admin, local: local}, nil
}

// close closes the server's connections and, if it is pgtest's own, stops
// and removes it.
func (s *Server) close() error {
	s.admin.Close()
	if s.local == nil {
		return nil
	}
	return s.local.remove()
}

// URL is the URL of the named database on the server.
func (s *Server) URL(dbname string) string {
	u := *s.url
	u.Path = "/" + dbname
	return u.String()
}

// databaseSeq numbers the databases NewDatabase creates. With the process
// ID, it makes names that other test binaries sharing a server do not use.
var databaseSeq atomic.Int64

// NewDatabase creates an empty database for tb, which tb's end drops, and
// returns its URL.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), databaseSeq.Add(1))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := s.admin.Exec(context.Background(), "CREATE DATABASE "+ident); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		if s.local != nil && !s.local.running() {
			return // stopped by the test: its cluster goes whole
		}
		// FORCE ends the connections a test left open.
		if _, err := s.admin.Exec(context.Background(), "DROP DATABASE "+ident+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database: %v", err)
		}
	})
	return s.URL(name)
}

// Stop stops the server as an administrator would, ending its connections
// (a fast shutdown). Only a server started by New can be stopped.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.requireOwnedByTest(tb)
	if err := s.local.stop(); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
}

// Start starts the server again after Stop, on the same data and port, and
// waits until it accepts connections.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	s.requireOwnedByTest(tb)
	if err := s.local.start(); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	// The stop ended the admin connections; the pool would find out by
	// failing a statement on each.
	s.admin.Reset()
}

func (s *Server) requireOwnedByTest(tb testing.TB) {
	tb.Helper()
	if !s.ownedByTest {
		tb.Fatal("pgtest: only a server started by New can be stopped and started")
	}
}
