package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// TagWriteFailer is implemented by the stores an engine's tests give Run,
// to prove that a write failing half way leaves nothing behind.
//
// FailTagWrites makes the store's database reject, from then on, every row
// written to its tag index (the table the tag filter reads), with an error
// that says TagWriteFailure: a trigger that raises it, say. A tag row
// refers to its service's row, so an upsert writes the service's row first
// and its tag rows after: with tags to write, it now fails in the middle of
// its transaction, on a statement the database itself rejects. Neither
// engine needs a test hook for it, and no timing decides where it fails, as
// it would with a context canceled part way.
type TagWriteFailer interface {
	FailTagWrites(t *testing.T)
}

// TagWriteFailure is the message of the error FailTagWrites has the
// database raise.
const TagWriteFailure = "storetest: tag writes fail"

func testUpsertFailingHalfWay(t *testing.T, s store.Store) {
	failer, ok := s.(TagWriteFailer)
	require.True(t, ok, "%T does not implement storetest.TagWriteFailer", s)
	orders := upsert(t, s, fullService("orders"))
	failer.FailTagWrites(t)

	t.Run("Update", func(t *testing.T) {
		changed := fullService("orders")
		changed.Description = "Takes, tracks and refunds orders."
		changed.Tags = []string{"java"}
		_, _, err := s.UpsertService(t.Context(), changed, orders.Etag)
		require.ErrorContains(t, err, TagWriteFailure)

		requireStored(t, s, orders)
		require.Equal(t, []string{"orders"}, listNames(t, s, store.ServiceFilter{Tag: orders.Tags[0]}))
		require.Empty(t, listNames(t, s, store.ServiceFilter{Tag: "java"}))
	})
	t.Run("Create", func(t *testing.T) {
		_, _, err := s.UpsertService(t.Context(), fullService("cart"), "")
		require.ErrorContains(t, err, TagWriteFailure)

		requireNotFound(t, s, "cart")
		require.Equal(t, []string{"orders"}, listNames(t, s, store.ServiceFilter{}))
		teams, err := s.ListTeams(t.Context(), "", 100)
		require.NoError(t, err)
		require.Equal(t, []store.Team{{Name: "payments", ServiceCount: 1, GoldenPathServiceCount: 1}}, teams)
	})
}
