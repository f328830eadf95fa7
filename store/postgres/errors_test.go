package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
)

func TestFailedMarksOutagesUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"ConnectionRefused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"ConnectionLostMidQuery", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"ConnectionFailure", &pgconn.PgError{Code: "08006"}, true},
		{"AdminShutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"CrashShutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"StartingUp", &pgconn.PgError{Code: "57P03"}, true},
		{"TooManyConnections", &pgconn.PgError{Code: "53300"}, true},
		{"ConnectFailed", &pgconn.ConnectError{}, true},
		{"WrongPassword", fmt.Errorf("connect: %w", &pgconn.PgError{Code: "28P01"}), false},
		{"MissingDatabase", &pgconn.PgError{Code: "3D000"}, false},
		{"UniqueViolation", &pgconn.PgError{Code: "23505"}, false},
		{"NoRows", pgx.ErrNoRows, false},
		{"Canceled", context.Canceled, false},
		{"DeadlineExceeded", fmt.Errorf("dial: %w", context.DeadlineExceeded), false},
		{"NotFound", store.ErrNotFound, false},
		{"EtagMismatch", store.ErrEtagMismatch, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sqlstore.Classify(errorClasses{}, tc.err)
			require.ErrorIs(t, err, tc.err, "the cause is kept")
			require.Equal(t, tc.unavailable, errors.Is(err, store.ErrUnavailable))
		})
	}
}
