package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cairn-dev/cairn/store"
)

// failed annotates the error of operation op. An error that says the
// database cannot be reached now also wraps store.ErrUnavailable, so that
// callers answer "try again later" rather than "internal error".
func failed(op string, err error) error {
	if unreachable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// unreachable reports whether err says the database cannot serve now: a
// connection that could not be made or broke, or a server that is starting,
// shutting down or full.
func unreachable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller gave up, whatever the database was doing
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// The server answered, perhaps to a connection attempt: whether it
		// can serve is in its SQLSTATE. A refused password or a missing
		// database is a mistake to fix, not an outage to wait out.
		return unavailableState(pgErr.Code)
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		pgconn.SafeToRetry(err) // failed before anything was sent, such as on a closed connection
}

// unavailableState reports whether a SQLSTATE says the server cannot serve
// now: class 08 (connection exception), admin_shutdown, crash_shutdown,
// cannot_connect_now (starting up or shutting down) and
// too_many_connections.
func unavailableState(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03", "53300":
		return true
	}
	return strings.HasPrefix(code, "08")
}
