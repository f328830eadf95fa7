package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// errorClasses tells what PostgreSQL's errors mean (see sqlstore.Errors).
type errorClasses struct{}

func (errorClasses) IsNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// IsUnavailable: a connection that could not be made or broke, or a server
// that is starting, shutting down or full.
func (errorClasses) IsUnavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller gave up, whatever the database was doing
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
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

// IsConflict: unique_violation.
func (errorClasses) IsConflict(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pgErr.Code == "23505"
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
