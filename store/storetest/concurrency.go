package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

const writers = 16

func testConcurrentUpsertsOfOneName(t *testing.T, s store.Store) {
	created := make([]bool, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			// A different description each, so that every upsert writes.
			svc := fullService("orders")
			svc.Description = fmt.Sprintf("Written by writer %d.", i)
			_, created[i], errs[i] = s.UpsertService(t.Context(), svc, "")
		})
	}
	wg.Wait()

	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
	}
	require.Equal(t, 1, countTrue(created), "upserts that report creating the service")
	require.Equal(t, []string{"orders"}, listNames(t, s, store.ServiceFilter{}))
}

func testConcurrentUpsertsOfDifferentNames(t *testing.T, s store.Store) {
	const perWriter = 4
	errs := make([]error, writers)
	var want []string
	var wg sync.WaitGroup
	for i := range writers {
		names := make([]string, perWriter)
		for j := range names {
			names[j] = fmt.Sprintf("svc-%02d-%d", i, j)
		}
		want = append(want, names...)
		wg.Go(func() {
			for _, name := range names {
				if _, _, err := s.UpsertService(t.Context(), fullService(name), ""); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()

	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
	}
	slices.Sort(want)
	require.Equal(t, want, listNames(t, s, store.ServiceFilter{}))
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
