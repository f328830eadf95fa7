package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// fullSpec is a spec with every field set, so that a round trip that drops
// one shows.
func fullSpec() store.ProvisioningSpec {
	return store.ProvisioningSpec{
		Owner:              "group:default/payments",
		Team:               "payments",
		Description:        "Takes and tracks orders.",
		Template:           "template:default/go-grpc-service",
		RepositoryURL:      "https://github.com/acme/orders",
		Database:           "postgresql",
		DatabaseSize:       "small",
		DatabaseVersion:    "16",
		Bucket:             true,
		Environments:       []string{"staging", "production"},
		ReplicaCount:       3,
		Revisions:          map[string]string{"production": "4f2c1e9"},
		ProductionRevision: "4f2c1e9",
	}
}

// fullProvisioning is a provisioning of service with every field the
// caller sets set.
func fullProvisioning(service string) store.Provisioning {
	return store.Provisioning{
		Service:   service,
		RequestID: "req-" + service,
		Requester: "user:default/jane",
		Spec:      fullSpec(),
	}
}

// provisioningTime is a time outside UTC and finer than a microsecond, so
// that a round trip that shifts or keeps too much of it shows.
var provisioningTime = time.Date(2031, 3, 14, 15, 9, 26, 535_897_932, time.FixedZone("CET", 3600))

func testProvisioningRoundTrip(t *testing.T, s store.Store) {
	in := fullProvisioning("orders")
	requireEveryClientFieldSet(t, in, "Generation", "AppliedGeneration", "CreateTime", "UpdateTime", "ReadyTime")
	requireEveryClientFieldSet(t, in.Spec)
	// The store sets these, whatever the caller's.
	in.Generation, in.AppliedGeneration = 7, 5
	in.CreateTime, in.UpdateTime, in.ReadyTime = provisioningTime, provisioningTime, provisioningTime
	svc := fullService("orders")

	before := time.Now()
	stored, created, err := s.CreateProvisioning(t.Context(), in, svc)
	after := time.Now()
	require.NoError(t, err)
	require.True(t, created)

	want := fullProvisioning("orders")
	want.Generation = 1
	want.CreateTime, want.UpdateTime = stored.CreateTime, stored.UpdateTime
	require.Equal(t, want, stored)
	requireStoreTime(t, stored.CreateTime, before, after)
	require.Equal(t, stored.CreateTime, stored.UpdateTime)
	require.Equal(t, fullService("orders"), svc, "creating leaves the caller's service alone")
	requireProvisioning(t, s, want)
	require.Equal(t, []store.Provisioning{want}, listProvisionings(t, s, ""))

	// The fields only later calls set round trip too.
	require.NoError(t, s.MarkProvisioningApplied(t.Context(), "orders", 1))
	require.NoError(t, s.MarkProvisioningReady(t.Context(), "orders", provisioningTime))
	want.AppliedGeneration = 1
	want.ReadyTime = provisioningTime.Truncate(time.Microsecond).UTC()
	got := requireProvisioning(t, s, want)
	requireEveryClientFieldSet(t, got)
}

func testCreateProvisioningAddsCatalogEntry(t *testing.T, s store.Store) {
	before := time.Now()
	provision(t, s, fullProvisioning("orders"))
	after := time.Now()

	got, err := s.GetService(t.Context(), "orders")
	require.NoError(t, err)
	want := fullService("orders")
	want.CreateTime, want.UpdateTime = got.CreateTime, got.UpdateTime
	want.Etag = store.ContentEtag(want)
	require.Equal(t, want, got, "stored as UpsertService stores it")
	requireStoreTime(t, got.CreateTime, before, after)
	require.Equal(t, []string{"orders"}, listNames(t, s, store.ServiceFilter{Tag: want.Tags[0]}))
	teams, err := s.ListTeams(t.Context(), "", 100)
	require.NoError(t, err)
	require.Equal(t, []store.Team{{Name: "payments", ServiceCount: 1, GoldenPathServiceCount: 1}}, teams)
}

func testCreateProvisioningKeepsCatalogEntry(t *testing.T, s store.Store) {
	registered := fullService("orders")
	registered.Description = "Registered before it was provisioned."
	registered.Tags = []string{"java"}
	existing := upsert(t, s, registered)

	_, created, err := s.CreateProvisioning(t.Context(), fullProvisioning("orders"), fullService("orders"))
	require.NoError(t, err)
	require.True(t, created)

	requireStored(t, s, existing)
	require.Empty(t, listNames(t, s, store.ServiceFilter{Tag: "go"}))
	require.Equal(t, []string{"orders"}, listNames(t, s, store.ServiceFilter{Tag: "java"}))
}

func testCreateProvisioningRequestIDAgain(t *testing.T, s store.Store) {
	first := provision(t, s, fullProvisioning("orders"))
	catalog := listNames(t, s, store.ServiceFilter{})

	t.Run("SameService", func(t *testing.T) {
		again := fullProvisioning("orders")
		again.Spec.ReplicaCount = 5
		got, created, err := s.CreateProvisioning(t.Context(), again, fullService("orders"))
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, first, got)
	})
	t.Run("OtherService", func(t *testing.T) {
		other := fullProvisioning("cart")
		other.RequestID = first.RequestID
		got, created, err := s.CreateProvisioning(t.Context(), other, fullService("cart"))
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, first, got)
		requireNoProvisioning(t, s, "cart")
		requireNotFound(t, s, "cart")
	})

	requireProvisioning(t, s, first)
	require.Equal(t, []store.Provisioning{first}, listProvisionings(t, s, ""))
	require.Equal(t, catalog, listNames(t, s, store.ServiceFilter{}))
}

// A request id is its requester's: another requester's create with the
// same id is another request, never answered with the first requester's
// provisioning.
func testCreateProvisioningRequestIDOfAnotherRequester(t *testing.T, s store.Store) {
	first := provision(t, s, fullProvisioning("orders"))

	sameService := fullProvisioning("orders")
	sameService.Requester = "user:default/mallory"
	_, _, err := s.CreateProvisioning(t.Context(), sameService, fullService("orders"))
	require.ErrorIs(t, err, store.ErrAlreadyExists, "the service is provisioned: not the first requester's record")

	other := fullProvisioning("cart")
	other.RequestID = first.RequestID
	other.Requester = "user:default/mallory"
	got, created, err := s.CreateProvisioning(t.Context(), other, fullService("cart"))
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "cart", got.Service)
	require.Equal(t, "user:default/mallory", got.Requester)

	again, created, err := s.CreateProvisioning(t.Context(), other, fullService("cart"))
	require.NoError(t, err)
	require.False(t, created, "the second requester's retry")
	require.Equal(t, got, again)
	require.Equal(t, []store.Provisioning{got, first}, listProvisionings(t, s, ""))
}

func testCreateProvisioningOfProvisionedService(t *testing.T, s store.Store) {
	first := provision(t, s, fullProvisioning("orders"))
	catalogEntry, err := s.GetService(t.Context(), "orders")
	require.NoError(t, err)

	for _, requestID := range []string{"req-other", ""} {
		second := fullProvisioning("orders")
		second.RequestID = requestID
		second.Spec.ReplicaCount = 5
		changed := fullService("orders")
		changed.Description = "Written by the second create."
		_, _, err := s.CreateProvisioning(t.Context(), second, changed)
		require.ErrorIs(t, err, store.ErrAlreadyExists, "request id %q", requestID)
	}

	requireProvisioning(t, s, first)
	require.Equal(t, []store.Provisioning{first}, listProvisionings(t, s, ""))
	requireStored(t, s, catalogEntry)
}

func testCreateProvisioningsWithoutRequestID(t *testing.T, s store.Store) {
	for _, name := range []string{"cart", "orders"} {
		p := fullProvisioning(name)
		p.RequestID = ""
		stored := provision(t, s, p)
		require.Empty(t, stored.RequestID)
	}
	require.Equal(t, []string{"cart", "orders"}, provisionedNames(t, s, ""))
}

func testCreateProvisioningFailingHalfWay(t *testing.T, s store.Store) {
	failer, ok := s.(TagWriteFailer)
	require.True(t, ok, "%T does not implement storetest.TagWriteFailer", s)
	cart := upsert(t, s, fullService("cart"))
	failer.FailTagWrites(t)

	t.Run("NewCatalogEntry", func(t *testing.T) {
		_, _, err := s.CreateProvisioning(t.Context(), fullProvisioning("orders"), fullService("orders"))
		require.ErrorContains(t, err, TagWriteFailure)

		requireNoProvisioning(t, s, "orders")
		requireNotFound(t, s, "orders")
		require.Empty(t, listProvisionings(t, s, ""))
		require.Equal(t, []string{"cart"}, listNames(t, s, store.ServiceFilter{}))
	})
	t.Run("ExistingCatalogEntry", func(t *testing.T) {
		// Nothing to write to the catalog, so no tag write to fail.
		stored := provision(t, s, fullProvisioning("cart"))
		requireProvisioning(t, s, stored)
		requireStored(t, s, cart)
	})
}

func testConcurrentCreatesOfOneRequest(t *testing.T, s store.Store) {
	stored := make([]store.Provisioning, writers)
	created := make([]bool, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			stored[i], created[i], errs[i] = s.CreateProvisioning(t.Context(), fullProvisioning("orders"), fullService("orders"))
		})
	}
	wg.Wait()

	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
		require.Equal(t, stored[0], stored[i], "writer %d", i)
	}
	require.Equal(t, 1, countTrue(created), "creates that report creating the provisioning")
	require.Equal(t, []store.Provisioning{stored[0]}, listProvisionings(t, s, ""))
	require.Equal(t, []string{"orders"}, listNames(t, s, store.ServiceFilter{}))
}

func testConcurrentCreatesOfOneRequestForDifferentServices(t *testing.T, s store.Store) {
	stored := make([]store.Provisioning, writers)
	created := make([]bool, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			name := fmt.Sprintf("svc-%02d", i)
			p := fullProvisioning(name)
			p.RequestID = "req-retried"
			stored[i], created[i], errs[i] = s.CreateProvisioning(t.Context(), p, fullService(name))
		})
	}
	wg.Wait()

	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
		require.Equal(t, stored[0], stored[i], "writer %d", i)
	}
	require.Equal(t, 1, countTrue(created), "creates that report creating the provisioning")
	winner := stored[0].Service
	require.Equal(t, []store.Provisioning{stored[0]}, listProvisionings(t, s, ""))
	require.Equal(t, []string{winner}, listNames(t, s, store.ServiceFilter{}), "the losers wrote no catalog entry")
}

func testConcurrentCreatesOfOneService(t *testing.T, s store.Store) {
	stored := make([]store.Provisioning, writers)
	created := make([]bool, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			p := fullProvisioning("orders")
			p.RequestID = fmt.Sprintf("req-%02d", i)
			stored[i], created[i], errs[i] = s.CreateProvisioning(t.Context(), p, fullService("orders"))
		})
	}
	wg.Wait()

	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "writers %d and %d both created", winner, i)
			require.True(t, created[i], "writer %d", i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, store.ErrAlreadyExists, "writer %d", i)
	}
	require.NotEqual(t, -1, winner, "no writer created")
	require.Equal(t, fmt.Sprintf("req-%02d", winner), stored[winner].RequestID)
	require.Equal(t, []store.Provisioning{stored[winner]}, listProvisionings(t, s, ""))
	require.Equal(t, []string{"orders"}, listNames(t, s, store.ServiceFilter{}))
}

func testUpdateProvisioningSpec(t *testing.T, s store.Store) {
	first := provision(t, s, fullProvisioning("orders"))

	spec := fullSpec()
	spec.ReplicaCount = 5
	spec.Environments = nil
	spec.ProductionRevision = "9b1d0c3"
	second, err := s.UpdateProvisioningSpec(t.Context(), "orders", spec, 1)
	require.NoError(t, err)

	want := first
	want.Spec = spec
	want.Generation = 2
	want.UpdateTime = second.UpdateTime
	require.Equal(t, want, second)
	require.True(t, second.UpdateTime.After(first.UpdateTime), "update time %v is not after %v", second.UpdateTime, first.UpdateTime)
	requireProvisioning(t, s, second)

	// The same spec again is a change too.
	third, err := s.UpdateProvisioningSpec(t.Context(), "orders", spec, 2)
	require.NoError(t, err)
	require.Equal(t, int64(3), third.Generation)
	requireProvisioning(t, s, third)
}

func testUpdateProvisioningSpecStaleGeneration(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	spec := fullSpec()
	spec.ReplicaCount = 5
	current, err := s.UpdateProvisioningSpec(t.Context(), "orders", spec, 1)
	require.NoError(t, err)

	lost := fullSpec()
	lost.Bucket = false
	for _, generation := range []int64{1, 3, 0} {
		_, err := s.UpdateProvisioningSpec(t.Context(), "orders", lost, generation)
		require.ErrorIs(t, err, store.ErrConflict, "generation %d", generation)
		require.NotErrorIs(t, err, store.ErrNotFound)
	}
	requireProvisioning(t, s, current)
}

func testConcurrentSpecUpdates(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	updated := make([]store.Provisioning, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			spec := fullSpec()
			spec.ReplicaCount = int32(i + 10)
			updated[i], errs[i] = s.UpdateProvisioningSpec(t.Context(), "orders", spec, 1)
		})
	}
	wg.Wait()

	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "writers %d and %d both updated generation 1", winner, i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, store.ErrConflict, "writer %d", i)
	}
	require.NotEqual(t, -1, winner, "no writer updated")
	require.Equal(t, int64(2), updated[winner].Generation)
	require.Equal(t, int32(winner+10), updated[winner].Spec.ReplicaCount)
	requireProvisioning(t, s, updated[winner])
}

func testMarkProvisioningApplied(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	require.NoError(t, s.MarkProvisioningApplied(t.Context(), "orders", 1))
	for range 2 {
		_, err := s.UpdateProvisioningSpec(t.Context(), "orders", fullSpec(), requireGetProvisioning(t, s, "orders").Generation)
		require.NoError(t, err)
	}
	want := requireGetProvisioning(t, s, "orders")
	require.Equal(t, int64(3), want.Generation)
	require.Equal(t, int64(1), want.AppliedGeneration)

	require.NoError(t, s.MarkProvisioningApplied(t.Context(), "orders", 3))
	want.AppliedGeneration = 3
	// Marking leaves the update time, which follows the spec.
	requireProvisioning(t, s, want)

	for _, generation := range []int64{2, 1, 0, 3} {
		require.NoError(t, s.MarkProvisioningApplied(t.Context(), "orders", generation))
		requireProvisioning(t, s, want)
	}
}

func testMarkProvisioningReady(t *testing.T, s store.Store) {
	want := provision(t, s, fullProvisioning("orders"))

	require.NoError(t, s.MarkProvisioningReady(t.Context(), "orders", provisioningTime))
	want.ReadyTime = provisioningTime.Truncate(time.Microsecond).UTC()
	// Marking leaves the update time, which follows the spec.
	requireProvisioning(t, s, want)

	for _, later := range []time.Time{provisioningTime.Add(time.Hour), provisioningTime.Add(-time.Hour), provisioningTime} {
		require.NoError(t, s.MarkProvisioningReady(t.Context(), "orders", later))
		requireProvisioning(t, s, want)
	}
}

func testMissingProvisioning(t *testing.T, s store.Store) {
	// A catalog entry is not a provisioning.
	upsert(t, s, fullService("cart"))
	for _, name := range []string{"orders", "cart"} {
		requireNoProvisioning(t, s, name)
		_, err := s.UpdateProvisioningSpec(t.Context(), name, fullSpec(), 1)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NotErrorIs(t, err, store.ErrConflict)
		require.ErrorIs(t, s.MarkProvisioningApplied(t.Context(), name, 1), store.ErrNotFound)
		require.ErrorIs(t, s.MarkProvisioningReady(t.Context(), name, provisioningTime), store.ErrNotFound)
	}
	require.Empty(t, listProvisionings(t, s, ""))
}

func testListProvisioningsPagination(t *testing.T, s store.Store) {
	const total, pageSize = 25, 10
	want := make([]string, total)
	for i := range want {
		want[i] = fmt.Sprintf("svc-%02d", i)
	}
	// Created out of order, so that the order listed is the store's doing.
	for _, i := range rand.Perm(total) {
		provision(t, s, fullProvisioning(want[i]))
	}

	var got []string
	var pageSizes []int
	for after := ""; ; {
		page, err := s.ListProvisionings(t.Context(), after, pageSize)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.Less(t, len(pageSizes), total, "listing does not end")
		pageSizes = append(pageSizes, len(page))
		for _, p := range page {
			got = append(got, p.Service)
		}
		after = page[len(page)-1].Service
	}
	require.Equal(t, []int{10, 10, 5}, pageSizes)
	require.Equal(t, want, got)

	for _, limit := range []int{0, -1} {
		page, err := s.ListProvisionings(t.Context(), "", limit)
		require.NoError(t, err)
		require.Empty(t, page, "limit %d", limit)
	}
}

func testListPendingProvisionings(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, name := range []string{"applied-ready", "applied", "new", "changed-ready"} {
		provision(t, s, fullProvisioning(name))
	}
	for _, name := range []string{"applied-ready", "applied", "changed-ready"} {
		require.NoError(t, s.MarkProvisioningApplied(ctx, name, 1))
	}
	for _, name := range []string{"applied-ready", "changed-ready"} {
		require.NoError(t, s.MarkProvisioningReady(ctx, name, time.Now()))
	}
	_, err := s.UpdateProvisioningSpec(ctx, "changed-ready", fullProvisioning("changed-ready").Spec, 1)
	require.NoError(t, err)

	var got []string
	for after := ""; ; {
		page, err := s.ListPendingProvisionings(ctx, after, 1)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		got = append(got, page[0].Service)
		after = page[0].Service
	}
	require.Equal(t, []string{"applied", "changed-ready", "new"}, got)
}

func testListProvisioningsByteOrder(t *testing.T, s store.Store) {
	for _, i := range rand.Perm(len(byteOrdered)) {
		provision(t, s, fullProvisioning(byteOrdered[i]))
	}

	require.Equal(t, byteOrdered, provisionedNames(t, s, ""))
	require.Equal(t, byteOrdered[2:], provisionedNames(t, s, "a"), "after a")
}

// promotionRequest is a promotion of service as its caller asks for it.
func promotionRequest(service, requestID string) store.Promotion {
	return store.Promotion{
		Service:     service,
		RequestID:   requestID,
		Revision:    "4f2c1e9",
		Requester:   "user:default/jane",
		Environment: "staging",
		Rollback:    true,
		Evidence:    fullEvidence(),
	}
}

// fullEvidence is a promotion's evidence with every field set.
func fullEvidence() *store.PromotionEvidence {
	return &store.PromotionEvidence{
		ComputeTime: time.Date(2031, 6, 20, 9, 30, 0, 123_456_000, time.UTC), Currency: "USD",
		MonthlyCostChange: 61_320_000, CostChangeBasis: "first promotion into staging",
		TeamSpent: 4_900_000_000, TeamProjected: 7_350_000_000, SpendUnknown: "(set for the round trip)",
		TeamBudget: 5_000_000_000, BudgetNote: "(set for the round trip)",
		ChangeFailureRate: 0.25, ChangeFailureDeployments: 8, ChangeFailureBand: "low",
		RunningRevision: "v1.3.0", OpenIncidents: []string{"INC-7", "INC-9"},
	}
}

func testPromotionRoundTrip(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	in := promotionRequest("orders", "req-promote")
	requireEveryClientFieldSet(t, in, "ID", "State", "Decider", "Reason", "CreateTime", "DecideTime")
	requireEveryClientFieldSet(t, *in.Evidence)
	// A new promotion is pending and undecided, whatever the caller says.
	in.ID, in.State, in.Decider, in.Reason = 42, "approved", "user:default/bob", "Looks good."
	in.CreateTime, in.DecideTime = provisioningTime, provisioningTime

	before := time.Now()
	stored, created, err := s.CreatePromotion(t.Context(), in)
	after := time.Now()
	require.NoError(t, err)
	require.True(t, created)

	want := promotionRequest("orders", "req-promote")
	want.ID = stored.ID
	want.State = "pending"
	want.CreateTime = stored.CreateTime
	require.Equal(t, want, stored)
	require.Positive(t, stored.ID)
	requireStoreTime(t, stored.CreateTime, before, after)
	requirePromotion(t, s, want)

	decided, err := s.DecidePromotion(t.Context(), "orders", stored.ID, "approved", "user:default/bob", "Looks good.", provisioningTime)
	require.NoError(t, err)
	want.State, want.Decider, want.Reason = "approved", "user:default/bob", "Looks good."
	want.DecideTime = provisioningTime.Truncate(time.Microsecond).UTC()
	require.Equal(t, want, decided)
	requireEveryClientFieldSet(t, decided)
	requirePromotion(t, s, want)
	require.Equal(t, []store.Promotion{want}, listPromotions(t, s, "orders"))
}

func testCreatePromotionRequestIDAgain(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	provision(t, s, fullProvisioning("cart"))
	first := createPromotion(t, s, promotionRequest("orders", "req-promote"))

	again := promotionRequest("orders", "req-promote")
	again.Revision = "9b1d0c3"
	got, created, err := s.CreatePromotion(t.Context(), again)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first, got)
	require.Equal(t, []store.Promotion{first}, listPromotions(t, s, "orders"))

	// Request ids are each service's own.
	cart := createPromotion(t, s, promotionRequest("cart", "req-promote"))
	require.Greater(t, cart.ID, first.ID)
	require.Equal(t, []store.Promotion{first}, listPromotions(t, s, "orders"))

	// And each requester's own.
	other := promotionRequest("orders", "req-promote")
	other.Requester = "user:default/bob"
	bobs, created, err := s.CreatePromotion(t.Context(), other)
	require.NoError(t, err)
	require.True(t, created, "another requester's request id is another request")
	require.Equal(t, "user:default/bob", bobs.Requester)
	require.Equal(t, []store.Promotion{bobs, first}, listPromotions(t, s, "orders"))
}

func testCreatePromotionsWithoutRequestID(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	first := createPromotion(t, s, promotionRequest("orders", ""))
	second := createPromotion(t, s, promotionRequest("orders", ""))

	require.Greater(t, second.ID, first.ID)
	require.Equal(t, []store.Promotion{second, first}, listPromotions(t, s, "orders"))
}

func testConcurrentCreatesOfOnePromotion(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	stored := make([]store.Promotion, writers)
	created := make([]bool, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			stored[i], created[i], errs[i] = s.CreatePromotion(t.Context(), promotionRequest("orders", "req-promote"))
		})
	}
	wg.Wait()

	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
		require.Equal(t, stored[0], stored[i], "writer %d", i)
	}
	require.Equal(t, 1, countTrue(created), "creates that report creating the promotion")
	require.Equal(t, []store.Promotion{stored[0]}, listPromotions(t, s, "orders"))
}

func testCreatePromotionWithoutProvisioning(t *testing.T, s store.Store) {
	// A catalog entry is not a provisioning.
	upsert(t, s, fullService("cart"))
	for _, name := range []string{"orders", "cart"} {
		for _, requestID := range []string{"req-promote", ""} {
			_, _, err := s.CreatePromotion(t.Context(), promotionRequest(name, requestID))
			require.ErrorIs(t, err, store.ErrNotFound, "service %q, request id %q", name, requestID)
		}
		require.Empty(t, listPromotions(t, s, name))
	}
}

func testListPromotions(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	provision(t, s, fullProvisioning("cart"))
	const total, pageSize = 25, 10
	want := make([]int64, total)
	for i := range total {
		want[total-1-i] = createPromotion(t, s, promotionRequest("orders", fmt.Sprintf("req-%02d", i))).ID
		if i%5 == 0 { // Another service's, in between.
			createPromotion(t, s, promotionRequest("cart", fmt.Sprintf("req-%02d", i)))
		}
	}

	var got []int64
	var pageSizes []int
	for before := int64(0); ; {
		page, err := s.ListPromotions(t.Context(), "orders", before, pageSize)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.Less(t, len(pageSizes), total, "listing does not end")
		pageSizes = append(pageSizes, len(page))
		for _, p := range page {
			require.Equal(t, "orders", p.Service)
			got = append(got, p.ID)
		}
		before = page[len(page)-1].ID
	}
	require.Equal(t, []int{10, 10, 5}, pageSizes)
	require.Equal(t, want, got)

	page, err := s.ListPromotions(t.Context(), "orders", want[0]+1000, 100)
	require.NoError(t, err)
	require.Len(t, page, total, "before every ID")
	for _, limit := range []int{0, -1} {
		page, err := s.ListPromotions(t.Context(), "orders", 0, limit)
		require.NoError(t, err)
		require.Empty(t, page, "limit %d", limit)
	}
	require.Empty(t, listPromotions(t, s, "unknown"))
}

func testDecidePromotionOnce(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	for _, tc := range []struct{ name, first, second string }{
		{"ApprovedThenDenied", "approved", "denied"},
		{"DeniedThenApproved", "denied", "approved"},
		{"ApprovedTwice", "approved", "approved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := createPromotion(t, s, promotionRequest("orders", ""))
			decided, err := s.DecidePromotion(t.Context(), "orders", p.ID, tc.first, "user:default/bob", "First.", provisioningTime)
			require.NoError(t, err)
			require.Equal(t, tc.first, decided.State)

			_, err = s.DecidePromotion(t.Context(), "orders", p.ID, tc.second, "user:default/eve", "Second.", provisioningTime.Add(time.Hour))
			require.ErrorIs(t, err, store.ErrConflict)
			require.NotErrorIs(t, err, store.ErrNotFound)
			requirePromotion(t, s, decided)
		})
	}
}

func testConcurrentDecisions(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	p := createPromotion(t, s, promotionRequest("orders", "req-promote"))
	decided := make([]store.Promotion, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			state := []string{"approved", "denied"}[i%2]
			decider := fmt.Sprintf("user:default/approver-%02d", i)
			decided[i], errs[i] = s.DecidePromotion(t.Context(), "orders", p.ID, state, decider, "Decided.", provisioningTime)
		})
	}
	wg.Wait()

	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "deciders %d and %d both won", winner, i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, store.ErrConflict, "decider %d", i)
	}
	require.NotEqual(t, -1, winner, "no decider won")
	require.Equal(t, fmt.Sprintf("user:default/approver-%02d", winner), decided[winner].Decider)
	requirePromotion(t, s, decided[winner])
}

func testMissingPromotion(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	provision(t, s, fullProvisioning("cart"))
	p := createPromotion(t, s, promotionRequest("orders", "req-promote"))

	for _, tc := range []struct {
		name    string
		service string
		id      int64
	}{
		{"UnknownID", "orders", p.ID + 1000},
		{"OtherServicesID", "cart", p.ID},
		{"UnknownService", "unknown", p.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.GetPromotion(t.Context(), tc.service, tc.id)
			require.ErrorIs(t, err, store.ErrNotFound)
			_, err = s.DecidePromotion(t.Context(), tc.service, tc.id, "approved", "user:default/bob", "", provisioningTime)
			require.ErrorIs(t, err, store.ErrNotFound)
			require.NotErrorIs(t, err, store.ErrConflict)
		})
	}
	requirePromotion(t, s, p)
}

func testDecidePromotionUnknownState(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	p := createPromotion(t, s, promotionRequest("orders", "req-promote"))

	for _, state := range []string{"pending", "rejected", ""} {
		_, err := s.DecidePromotion(t.Context(), "orders", p.ID, state, "user:default/bob", "", provisioningTime)
		require.Error(t, err, "state %q", state)
	}
	requirePromotion(t, s, p)
}

func testPromotionEnvironmentRoundTrip(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	var want []store.Promotion // newest first
	for _, tc := range []struct {
		environment string
		rollback    bool
	}{
		{"dev", false}, {"staging", true}, {"production-eu", false}, {"production-us", true},
	} {
		in := promotionRequest("orders", "req-"+tc.environment)
		in.Environment, in.Rollback = tc.environment, tc.rollback
		stored := createPromotion(t, s, in)
		require.Equal(t, tc.environment, stored.Environment)
		require.Equal(t, tc.rollback, stored.Rollback, "%s", tc.environment)
		requirePromotion(t, s, stored)
		want = append([]store.Promotion{stored}, want...)
	}
	require.Equal(t, want, listPromotions(t, s, "orders"))

	for i, p := range want {
		decided, err := s.DecidePromotion(t.Context(), "orders", p.ID, []string{"approved", "denied"}[i%2], "user:default/bob", "", provisioningTime)
		require.NoError(t, err)
		require.Equal(t, p.Environment, decided.Environment)
		require.Equal(t, p.Rollback, decided.Rollback, "%s", p.Environment)
		requirePromotion(t, s, decided)
		want[i] = decided
	}
	require.Equal(t, want, listPromotions(t, s, "orders"))
}

func testCreatePromotionWithoutEnvironment(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	in := promotionRequest("orders", "req-promote")
	in.Environment, in.Rollback = "", false

	stored := createPromotion(t, s, in)
	require.Equal(t, store.DefaultPromotionEnvironment, stored.Environment)
	require.Equal(t, "production", stored.Environment)
	require.False(t, stored.Rollback)
	requirePromotion(t, s, stored)
	require.Equal(t, []store.Promotion{stored}, listPromotions(t, s, "orders"))
	decided, err := s.DecidePromotion(t.Context(), "orders", stored.ID, "approved", "user:default/bob", "", provisioningTime)
	require.NoError(t, err)
	require.Equal(t, "production", decided.Environment)
	require.False(t, decided.Rollback)
}

func testCreatePromotionRequestIDAgainKeepsTheFirstEnvironment(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	first := createPromotion(t, s, promotionRequest("orders", "req-promote"))
	withoutEnvironment := createPromotion(t, s, store.Promotion{
		Service: "orders", RequestID: "req-old-caller", Revision: "4f2c1e9", Requester: "user:default/jane",
	})

	for _, tc := range []struct {
		name  string
		first store.Promotion
		again store.Promotion
	}{
		{"OtherEnvironmentAndRollback", first, store.Promotion{Environment: "production", Rollback: false}},
		{"NoEnvironment", first, store.Promotion{}},
		{"EnvironmentOfOneThatNamedNone", withoutEnvironment, store.Promotion{Environment: "staging", Rollback: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			again := tc.again
			again.Service, again.RequestID, again.Revision, again.Requester = "orders", tc.first.RequestID, "9b1d0c3", tc.first.Requester
			got, created, err := s.CreatePromotion(t.Context(), again)
			require.NoError(t, err)
			require.False(t, created)
			require.Equal(t, tc.first, got)
		})
	}
	require.Equal(t, []store.Promotion{withoutEnvironment, first}, listPromotions(t, s, "orders"))
}

// provision creates p with its full catalog entry, failing the test unless
// it is created.
func provision(t *testing.T, s store.Store, p store.Provisioning) store.Provisioning {
	t.Helper()
	stored, created, err := s.CreateProvisioning(t.Context(), p, fullService(p.Service))
	require.NoError(t, err)
	require.True(t, created)
	return stored
}

// requireGetProvisioning returns the service's provisioning, failing the
// test on error.
func requireGetProvisioning(t *testing.T, s store.Store, service string) store.Provisioning {
	t.Helper()
	p, err := s.GetProvisioning(t.Context(), service)
	require.NoError(t, err)
	return p
}

// requireProvisioning fails unless the store holds want, and returns it as
// read.
func requireProvisioning(t *testing.T, s store.Store, want store.Provisioning) store.Provisioning {
	t.Helper()
	got := requireGetProvisioning(t, s, want.Service)
	require.Equal(t, want, got)
	return got
}

// requireNoProvisioning fails unless the service has no provisioning.
func requireNoProvisioning(t *testing.T, s store.Store, service string) {
	t.Helper()
	_, err := s.GetProvisioning(t.Context(), service)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// listProvisionings lists all the provisionings after `after`.
func listProvisionings(t *testing.T, s store.Store, after string) []store.Provisioning {
	t.Helper()
	page, err := s.ListProvisionings(t.Context(), after, 1000)
	require.NoError(t, err)
	return page
}

// provisionedNames lists the services of all the provisionings after
// `after`, nil when there are none.
func provisionedNames(t *testing.T, s store.Store, after string) []string {
	t.Helper()
	var out []string
	for _, p := range listProvisionings(t, s, after) {
		out = append(out, p.Service)
	}
	return out
}

// createPromotion creates p, failing the test unless it is created.
func createPromotion(t *testing.T, s store.Store, p store.Promotion) store.Promotion {
	t.Helper()
	stored, created, err := s.CreatePromotion(t.Context(), p)
	require.NoError(t, err)
	require.True(t, created)
	return stored
}

// requirePromotion fails unless the store holds want.
func requirePromotion(t *testing.T, s store.Store, want store.Promotion) {
	t.Helper()
	got, err := s.GetPromotion(t.Context(), want.Service, want.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// listPromotions lists all the service's promotions, newest first.
func listPromotions(t *testing.T, s store.Store, service string) []store.Promotion {
	t.Helper()
	page, err := s.ListPromotions(t.Context(), service, 0, 1000)
	require.NoError(t, err)
	require.True(t, slices.IsSortedFunc(page, func(a, b store.Promotion) int { return cmp.Compare(b.ID, a.ID) }), "not newest first")
	return page
}

// A promotion recorded without evidence, as every one before evidence was
// kept, reads back with none.
func testPromotionWithoutEvidence(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	in := promotionRequest("orders", "req-promote")
	in.Evidence = nil
	stored := createPromotion(t, s, in)
	require.Nil(t, stored.Evidence)
	got, err := s.GetPromotion(t.Context(), "orders", stored.ID)
	require.NoError(t, err)
	require.Nil(t, got.Evidence)
}
