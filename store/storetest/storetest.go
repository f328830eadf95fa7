// Package storetest is the conformance suite of store.Store: every engine's
// tests run it, so that the engines behave the same.
package storetest

import (
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// Run runs the suite. newStore is called once per subtest with that
// subtest's t, and must return a store of a fresh, empty database that has
// not been migrated, that it closes when t ends, and that implements
// TagWriteFailer, MigrationRecorder and Outager. Most subtests migrate it
// first. Subtests run in parallel, so the stores must not share data.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	// The one test of a store as newStore returns it.
	t.Run("CheckSchemaOfNewDatabaseIsOutdatedUntilMigrated", func(t *testing.T) {
		t.Parallel()
		testCheckSchemaOfNewDatabase(t, newStore(t))
	})

	// The tests of a store once migrated.
	suite := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"PingSucceeds", testPing},
		{"OutageIsUnavailable", testOutageIsUnavailable},
		{"MigrateAgainIsANoOp", testMigrateAgain},
		{"CheckSchemaRefusesSchemaOfNewerCairn", testCheckSchemaOfNewerSchema},

		{"UpsertThenGetRoundTripsEveryField", testRoundTrip},
		{"UpsertLeavesTheCallersServiceAlone", testUpsertLeavesInput},
		{"EmptyCollectionsComeBackNil", testEmptyCollectionsComeBackNil},
		{"GetMissingServiceReturnsNotFound", testGetMissing},
		{"UpdateKeepsCreateTimeAndMovesUpdateTimeAndEtag", testUpdate},
		{"IdenticalUpsertWritesNothing", testIdenticalUpsert},
		{"UpsertWithMatchingEtagUpdates", testUpsertMatchingEtag},
		{"UpsertWithStaleEtagFailsAndKeepsService", testUpsertStaleEtag},
		{"UpsertWithEtagOfMissingServiceReturnsNotFound", testUpsertEtagOfMissing},
		{"UpsertFailingHalfWayWritesNothing", testUpsertFailingHalfWay},

		{"DeleteRemovesService", testDelete},
		{"DeleteWithMatchingEtagRemovesService", testDeleteMatchingEtag},
		{"DeleteWithStaleEtagFailsAndKeepsService", testDeleteStaleEtag},
		{"DeleteMissingServiceReturnsNotFound", testDeleteMissing},
		{"UpsertAfterDeleteCreatesAnew", testUpsertAfterDelete},
		{"DeletedNameIsRefusedToAnotherTeamAndWritesNothing", testDeletedNameRefusedToAnotherTeam},
		{"DeletedNameIsTakenBackByItsTeam", testDeletedNameTakenBackByItsTeam},
		{"ReleasedRetiredNameIsAnyTeams", testReleaseRetiredName},

		{"ListPagesThroughEveryServiceOnceInNameOrder", testListPagination},
		{"ListWithNonPositiveLimitReturnsNothing", testListNonPositiveLimit},
		{"ListFiltersServices", testListFilters},
		{"ListTagFilterFollowsTagsChangedOnUpdate", testTagFilterFollowsUpdate},
		{"ListTagFilterForgetsDeletedService", testTagFilterForgetsDeleted},
		{"DuplicateTagsRoundTripAndMatchOnce", testDuplicateTags},
		{"ListOrdersNamesByBytes", testListByteOrder},

		{"ListTeamsCountsServicesAndGoldenPaths", testListTeamsCounts},
		{"ListTeamsPagesInNameOrder", testListTeamsPagination},
		{"ListTeamsLeavesOutServicesWithoutTeam", testListTeamsWithoutTeam},
		{"ListTeamsOrdersNamesByBytes", testListTeamsByteOrder},

		{"ConcurrentUpsertsOfOneNameAllSucceedAndCreateOnce", testConcurrentUpsertsOfOneName},
		{"ConcurrentUpsertsOfDifferentNamesAllLand", testConcurrentUpsertsOfDifferentNames},

		{"AppendAuditEventReturnsIncreasingIDsAndRoundTripsEveryField", testAuditRoundTrip},
		{"AppendAuditEventBoundsAndEscapesEveryString", testAuditBoundsStrings},
		{"ListAuditEventsReturnsNewestFirstByID", testAuditNewestFirst},
		{"ListAuditEventsPagesThroughEveryEventOnce", testAuditPagination},
		{"ListAuditEventsWithNonPositiveLimitReturnsNothing", testAuditNonPositiveLimit},
		{"ListAuditEventsFiltersEvents", testAuditFilters},
		{"ConcurrentAuditAppendsAllLandWithDistinctIDs", testConcurrentAuditAppends},
		{"AuditEventsSurviveMigrateAgain", testAuditEventsSurviveMigrateAgain},

		{"CreateProvisioningThenGetRoundTripsEveryField", testProvisioningRoundTrip},
		{"CreateProvisioningAddsTheServiceToTheCatalogAsUpsertDoes", testCreateProvisioningAddsCatalogEntry},
		{"CreateProvisioningLeavesAnExistingCatalogEntryAlone", testCreateProvisioningKeepsCatalogEntry},
		{"CreateProvisioningWithRecordedRequestIDReturnsItAndWritesNothing", testCreateProvisioningRequestIDAgain},
		{"CreateProvisioningWithAnotherRequestersRequestIDIsAnotherRequest", testCreateProvisioningRequestIDOfAnotherRequester},
		{"CreateProvisioningOfProvisionedServiceIsAlreadyExistsAndWritesNothing", testCreateProvisioningOfProvisionedService},
		{"CreateProvisioningOfAnotherTeamsCatalogEntryIsRefusedAndWritesNothing", testCreateProvisioningOfAnotherTeamsService},
		{"CreateProvisioningsWithoutRequestIDDoNotCollide", testCreateProvisioningsWithoutRequestID},
		{"CreateProvisioningFailingHalfWayWritesNeitherServiceNorProvisioning", testCreateProvisioningFailingHalfWay},
		{"ConcurrentCreatesOfOneRequestAllSucceedAndCreateOnce", testConcurrentCreatesOfOneRequest},
		{"ConcurrentCreatesOfOneRequestForDifferentServicesCreateOneProvisioningAndCatalogEntry", testConcurrentCreatesOfOneRequestForDifferentServices},
		{"ConcurrentCreatesOfOneServiceCreateOnceAndTheRestAlreadyExist", testConcurrentCreatesOfOneService},
		{"UpdateProvisioningSpecAtCurrentGenerationReplacesSpecAndMovesGenerationUp", testUpdateProvisioningSpec},
		{"UpdateProvisioningSpecAtOtherGenerationIsConflictAndChangesNothing", testUpdateProvisioningSpecStaleGeneration},
		{"ConcurrentSpecUpdatesOfOneGenerationOneWins", testConcurrentSpecUpdates},
		{"MarkProvisioningAppliedNeverMovesBack", testMarkProvisioningApplied},
		{"MarkProvisioningReadyKeepsTheFirstTime", testMarkProvisioningReady},
		{"ProvisioningCallsOnUnprovisionedServiceAreNotFound", testMissingProvisioning},
		{"ListProvisioningsPagesThroughEveryOneOnceInNameOrder", testListProvisioningsPagination},
		{"ListPendingProvisioningsLeavesOutTheAppliedAndReady", testListPendingProvisionings},
		{"ListProvisioningsOrdersNamesByBytes", testListProvisioningsByteOrder},

		{"CreatePromotionThenGetAndDecideRoundTripsEveryField", testPromotionRoundTrip},
		{"PromotionRecordedWithoutEvidenceReadsBackWithNone", testPromotionWithoutEvidence},
		{"CreatePromotionWithRecordedRequestIDOfItsRequesterReturnsItAndWritesNothing", testCreatePromotionRequestIDAgain},
		{"CreatePromotionsWithoutRequestIDDoNotCollide", testCreatePromotionsWithoutRequestID},
		{"ConcurrentCreatesOfOnePromotionRequestAllSucceedAndCreateOnce", testConcurrentCreatesOfOnePromotion},
		{"CreatePromotionOfUnprovisionedServiceIsNotFound", testCreatePromotionWithoutProvisioning},
		{"ListPromotionsPagesThroughTheServicesPromotionsNewestFirst", testListPromotions},
		{"DecidePromotionDecidesOnceThenIsConflict", testDecidePromotionOnce},
		{"ConcurrentDecisionsOfOnePromotionOneWins", testConcurrentDecisions},
		{"GetOrDecideMissingPromotionIsNotFound", testMissingPromotion},
		{"DecidePromotionToNeitherApprovedNorDeniedFailsAndChangesNothing", testDecidePromotionUnknownState},
		{"PromotionEnvironmentAndRollbackRoundTripThroughCreateGetListAndDecide", testPromotionEnvironmentRoundTrip},
		{"CreatePromotionWithoutEnvironmentIsToProduction", testCreatePromotionWithoutEnvironment},
		{"CreatePromotionWithRecordedRequestIDKeepsTheFirstEnvironmentAndRollback", testCreatePromotionRequestIDAgainKeepsTheFirstEnvironment},

		{"EnqueueNotificationsKeepsEachKeyOnce", testEnqueueNotificationsKeepsEachKeyOnce},
		{"ClaimNotificationsLeasesThemToOneSender", testClaimNotificationsLeasesThemToOneSender},
		{"ConcurrentClaimsNeverShareANotification", testConcurrentClaimsNeverShareANotification},
		{"PromotionsToNotifyFollowEachState", testPromotionsToNotifyFollowEachState},

		{"ReplaceBillingSumsEachServicesResourcesPerMonth", testReplaceBillingSumsEachServicesResourcesPerMonth},
		{"ReplaceBillingSummarisesTheImport", testReplaceBillingSummarisesTheImport},
		{"ReimportOfAMonthReplacesItAndKeepsTheOthers", testReimportOfAMonthReplacesItAndKeepsTheOthers},
		{"ReplaceBillingKeepsOtherSourcesRowsOfTheMonth", testReplaceBillingKeepsOtherSourcesRowsOfTheMonth},
		{"ReplaceBillingFailingHalfWayRollsBackTheWholeImportAndReturnsTheRowsError", testReplaceBillingFailingHalfWayRollsBackTheWholeImport},
		{"ReplaceBillingOfMixedCurrenciesFailsAndWritesNothing", testReplaceBillingOfMixedCurrenciesFailsAndWritesNothing},
		{"LastBillingImportMovesWithEachImport", testLastBillingImportMovesWithEachImport},
		{"ReplaceBillingOfNoRowsImportsNothing", testReplaceBillingOfNoRowsImportsNothing},
		{"ReplaceBillingOfManyRowsKeepsEveryOne", testReplaceBillingOfManyRowsKeepsEveryOne},
		{"DailyBillingSumsEachDayAcrossTheServices", testDailyBillingSumsEachDayAcrossTheServices},
		{"DailyBillingKeepsToItsRangeFromInclusiveToExclusive", testDailyBillingKeepsToItsRange},
		{"DailyBillingLeavesOtherServicesOut", testDailyBillingLeavesOtherServicesOut},
		{"DailyBillingOfNothingIsEmpty", testDailyBillingOfNothingIsEmpty},
		{"ListChangesListsSuccessfulDeploymentsAndUnshippedApprovedPromotions", testListChanges},
		{"BillingSumsPastInt64AreExact", testBillingSumsPastInt64AreExact},
		{"BillingNeverAddsCurrenciesTogether", testBillingNeverAddsCurrenciesTogether},

		{"PutBudgetThenGetRoundTripsEveryField", testBudgetRoundTrip},
		{"PutBudgetOfATeamWithOneReplacesIt", testBudgetUpsertReplaces},
		{"GetBudgetOfATeamWithoutOneIsNotFound", testBudgetNotFound},
	}
	suite = append(suite, metricsTests...)
	suite = append(suite, chargeTests...)
	suite = append(suite, platformTests...)
	for _, tc := range suite {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			require.NoError(t, s.Migrate(t.Context()))
			tc.test(t, s)
		})
	}
}

func testPing(t *testing.T, s store.Store) {
	require.NoError(t, s.Ping(t.Context()))
}

func testMigrateAgain(t *testing.T, s store.Store) {
	stored := upsert(t, s, fullService("orders"))

	require.NoError(t, s.Migrate(t.Context()))
	require.NoError(t, s.Migrate(t.Context()))

	require.NoError(t, s.CheckSchema(t.Context()))
	requireStored(t, s, stored)
	require.Equal(t, []string{"orders"}, listNames(t, s, store.ServiceFilter{Tag: stored.Tags[0]}))
}

// fullService is a service with every client-set field set, so that a round
// trip that drops one shows.
func fullService(name string) *store.Service {
	return &store.Service{
		Name:        name,
		Title:       "Orders Service",
		Description: "Takes and tracks orders.",
		Labels:      map[string]string{"tier": "1", "region": "eu"},
		Annotations: map[string]string{"backstage.io/techdocs-ref": "dir:.", "github.com/project-slug": "acme/orders"},
		Tags:        []string{"go", "grpc"},
		Links: []store.Link{
			{URL: "https://grafana.example.com/d/orders", Title: "Dashboard", Icon: "dashboard", Type: "metrics"},
			{URL: "https://runbooks.example.com/orders"},
		},
		Type:           "service",
		Lifecycle:      "production",
		Owner:          "group:default/payments",
		Team:           "payments",
		System:         "checkout",
		ProvidesAPIs:   []string{"orders-api"},
		ConsumesAPIs:   []string{"payments-api", "stock-api"},
		DependsOn:      []string{"resource:default/orders-db"},
		GoldenPath:     true,
		SourceTemplate: "template:default/go-grpc-service",
	}
}

// requireEveryClientFieldSet fails when the struct v leaves a field at its
// zero value, other than the named fields, which the store sets: it keeps
// the values the tests fill in full (fullService, fullAuditEvent) in step
// with their types.
func requireEveryClientFieldSet(t *testing.T, v any, storeSet ...string) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		field := rv.Type().Field(i).Name
		if !slices.Contains(storeSet, field) {
			require.False(t, rv.Field(i).IsZero(), "%T leaves %s unset", v, field)
		}
	}
}

// upsert stores svc unconditionally, failing the test on error.
func upsert(t *testing.T, s store.Store, svc *store.Service) *store.Service {
	t.Helper()
	stored, _, err := s.UpsertService(t.Context(), svc, "")
	require.NoError(t, err)
	return stored
}

// requireStored fails unless the store holds want.
func requireStored(t *testing.T, s store.Store, want *store.Service) {
	t.Helper()
	got, err := s.GetService(t.Context(), want.Name)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// requireNotFound fails unless the named service is gone.
func requireNotFound(t *testing.T, s store.Store, name string) {
	t.Helper()
	_, err := s.GetService(t.Context(), name)
	require.ErrorIs(t, err, store.ErrNotFound)
}
