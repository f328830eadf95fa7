package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func testRoundTrip(t *testing.T, s store.Store) {
	in := fullService("orders")
	requireEveryClientFieldSet(t, *in, "CreateTime", "UpdateTime", "Etag")

	before := time.Now()
	stored, created, err := s.UpsertService(t.Context(), in, "")
	after := time.Now()
	require.NoError(t, err)
	require.True(t, created)

	want := fullService("orders")
	want.CreateTime, want.UpdateTime = stored.CreateTime, stored.UpdateTime
	want.Etag = store.ContentEtag(in)
	require.Equal(t, want, stored)
	requireStoreTime(t, stored.CreateTime, before, after)
	require.Equal(t, stored.CreateTime, stored.UpdateTime)

	requireStored(t, s, stored)
}

// requireStoreTime fails unless tm is a time the store took between before
// and after: UTC, in whole microseconds, the precision every engine keeps.
func requireStoreTime(t *testing.T, tm, before, after time.Time) {
	t.Helper()
	require.Equal(t, time.UTC, tm.Location())
	require.Zero(t, tm.Nanosecond()%int(time.Microsecond), "time %v has sub-microsecond digits", tm)
	require.WithinRange(t, tm, before.Truncate(time.Microsecond), after)
}

func testUpsertLeavesInput(t *testing.T, s store.Store) {
	in := fullService("orders")
	upsert(t, s, in)
	require.Equal(t, fullService("orders"), in, "on create")

	in.Description = "Takes, tracks and refunds orders."
	upsert(t, s, in)
	want := fullService("orders")
	want.Description = in.Description
	require.Equal(t, want, in, "on update")
}

func testEmptyCollectionsComeBackNil(t *testing.T, s store.Store) {
	stored := upsert(t, s, &store.Service{
		Name:         "bare",
		Labels:       map[string]string{},
		Annotations:  map[string]string{},
		Tags:         []string{},
		Links:        []store.Link{},
		ProvidesAPIs: []string{},
		ConsumesAPIs: []string{},
		DependsOn:    []string{},
	})

	want := &store.Service{Name: "bare"}
	want.CreateTime, want.UpdateTime = stored.CreateTime, stored.UpdateTime
	want.Etag = store.ContentEtag(want)
	require.Equal(t, want, stored)
	requireStored(t, s, want)
}

func testGetMissing(t *testing.T, s store.Store) {
	requireNotFound(t, s, "orders")
}

func testUpdate(t *testing.T, s store.Store) {
	first := upsert(t, s, fullService("orders"))

	changed := fullService("orders")
	changed.Description = "Takes, tracks and refunds orders."
	second, created, err := s.UpsertService(t.Context(), changed, "")
	require.NoError(t, err)
	require.False(t, created)

	require.Equal(t, changed.Description, second.Description)
	require.Equal(t, first.CreateTime, second.CreateTime)
	require.True(t, second.UpdateTime.After(first.UpdateTime), "update time %v is not after %v", second.UpdateTime, first.UpdateTime)
	require.Equal(t, store.ContentEtag(changed), second.Etag)
	require.NotEqual(t, first.Etag, second.Etag)
	requireStored(t, s, second)
}

func testIdenticalUpsert(t *testing.T, s store.Store) {
	first := upsert(t, s, fullService("orders"))
	again, created, err := s.UpsertService(t.Context(), fullService("orders"), "")
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first, again)
	requireStored(t, s, first)

	// Nil and empty collections are the same content.
	bare := upsert(t, s, &store.Service{Name: "bare"})
	again, created, err = s.UpsertService(t.Context(), &store.Service{Name: "bare", Tags: []string{}, Labels: map[string]string{}}, "")
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, bare, again)
}

func testUpsertMatchingEtag(t *testing.T, s store.Store) {
	first := upsert(t, s, fullService("orders"))

	changed := fullService("orders")
	changed.Lifecycle = "deprecated"
	second, created, err := s.UpsertService(t.Context(), changed, first.Etag)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, "deprecated", second.Lifecycle)
	requireStored(t, s, second)
}

func testUpsertStaleEtag(t *testing.T, s store.Store) {
	first := upsert(t, s, fullService("orders"))
	changed := fullService("orders")
	changed.Lifecycle = "deprecated"
	second := upsert(t, s, changed)

	lost := fullService("orders")
	lost.Owner = "group:default/platform"
	_, _, err := s.UpsertService(t.Context(), lost, first.Etag)
	require.ErrorIs(t, err, store.ErrEtagMismatch)
	requireStored(t, s, second)
}

func testUpsertEtagOfMissing(t *testing.T, s store.Store) {
	svc := fullService("orders")
	_, _, err := s.UpsertService(t.Context(), svc, store.ContentEtag(svc))
	require.ErrorIs(t, err, store.ErrNotFound)
	requireNotFound(t, s, "orders")
}

func testDelete(t *testing.T, s store.Store) {
	upsert(t, s, fullService("orders"))
	require.NoError(t, s.DeleteService(t.Context(), "orders", ""))
	requireNotFound(t, s, "orders")
}

func testDeleteMatchingEtag(t *testing.T, s store.Store) {
	stored := upsert(t, s, fullService("orders"))
	require.NoError(t, s.DeleteService(t.Context(), "orders", stored.Etag))
	requireNotFound(t, s, "orders")
}

func testDeleteStaleEtag(t *testing.T, s store.Store) {
	first := upsert(t, s, fullService("orders"))
	changed := fullService("orders")
	changed.Lifecycle = "deprecated"
	second := upsert(t, s, changed)

	err := s.DeleteService(t.Context(), "orders", first.Etag)
	require.ErrorIs(t, err, store.ErrEtagMismatch)
	requireStored(t, s, second)
}

func testDeleteMissing(t *testing.T, s store.Store) {
	require.ErrorIs(t, s.DeleteService(t.Context(), "orders", ""), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteService(t.Context(), "orders", "0123456789abcdef"), store.ErrNotFound)
}

func testUpsertAfterDelete(t *testing.T, s store.Store) {
	first := upsert(t, s, fullService("orders"))
	require.NoError(t, s.DeleteService(t.Context(), "orders", ""))

	second, created, err := s.UpsertService(t.Context(), fullService("orders"), "")
	require.NoError(t, err)
	require.True(t, created)
	require.True(t, second.CreateTime.After(first.CreateTime), "create time %v is not after %v", second.CreateTime, first.CreateTime)
}
