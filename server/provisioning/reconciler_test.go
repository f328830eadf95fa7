package provisioning

// Unit tests of the reconciler's decisions, one pass at a time
// (reconcileAll), on the in-memory store and cluster of fakes_test.go:
// what a pass applies, prunes and records, and what it leaves for the
// next. The reconciler on a real API server is tested end to end in
// cmd/cairn.

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// reconcilerHarness is a Provisioner on a memStore and a fakeCluster, with
// metrics of its own.
type reconcilerHarness struct {
	p       *Provisioner
	store   *memStore
	cluster *fakeCluster
	reg     *prometheus.Registry
}

func newReconcilerHarness(t *testing.T) *reconcilerHarness {
	t.Helper()
	h := &reconcilerHarness{store: newMemStore(), cluster: newFakeCluster(), reg: prometheus.NewRegistry()}
	h.p = New(h.store, h.cluster, manifest.DefaultSettings(), entityref.Teams{}, NewMetrics(h.reg), slog.New(slog.DiscardHandler))
	return h
}

// pass runs one reconciler pass, a full resync or a quick one.
func (h *reconcilerHarness) pass(t *testing.T, full bool) bool {
	t.Helper()
	return h.p.reconcileAll(t.Context(), full)
}

// applied returns the keys of the objects applied since the last look, and
// checks that nothing else was called on the cluster.
func (h *reconcilerHarness) applied(t *testing.T) []string {
	t.Helper()
	applied, deleted, syncs := h.cluster.calls()
	require.Empty(t, deleted, "deleted")
	require.Empty(t, syncs, "sync requests")
	return applied
}

// marked returns the services the reconciler holds marked to apply again.
func (h *reconcilerHarness) marked() []string {
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	var services []string
	for service := range h.p.drifted {
		services = append(services, service)
	}
	slices.Sort(services)
	return services
}

// provisioned records prov as applied and ready, with its objects on the
// cluster, as a reconciler would have left it.
func (h *reconcilerHarness) provisioned(prov store.Provisioning) {
	prov.AppliedGeneration = prov.Generation
	prov.ReadyTime = prov.CreateTime.Add(3 * time.Minute)
	h.store.put(prov)
	h.cluster.hold(manifest.Objects(h.p.plan(prov.Service, prov.Spec), h.p.settings)...)
}

// ordersProvisioningPending is orders-service as its create recorded it.
func ordersProvisioningPending() store.Provisioning {
	p := ordersProvisioning()
	p.Generation = 1
	return p
}

// pendingProvisioning is a provisioning as a create records it, not applied
// yet: orders-service's spec under another name.
func pendingProvisioning(service string) store.Provisioning {
	p := ordersProvisioning()
	p.Service = service
	p.Spec.RepositoryURL = "https://git.example/" + service + ".git"
	p.Generation = 1
	return p
}

// fleetProvisioning is one of a fleet of pending provisionings with one
// object each, a BucketClaim, named so that their order is their number.
func fleetProvisioning(i int) store.Provisioning {
	return store.Provisioning{
		Service: fmt.Sprintf("svc-%04d", i), Generation: 1,
		CreateTime: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		Spec:       store.ProvisioningSpec{Owner: "team-fleet", Team: "team-fleet", Bucket: true},
	}
}

// keysOf are the keys of the objects Cairn applies for prov, in the order
// it applies them.
func keysOf(prov store.Provisioning) []string {
	var keys []string
	for _, obj := range manifest.Objects(manifest.Plan{Service: prov.Service, Team: prov.Spec.Team, Namespace: prov.Spec.Team,
		RepositoryURL: prov.Spec.RepositoryURL, Database: prov.Spec.Database, DatabaseSize: prov.Spec.DatabaseSize,
		Bucket: prov.Spec.Bucket, Environments: prov.Spec.Environments}, manifest.DefaultSettings()) {
		keys = append(keys, kube.ObjectKey(obj))
	}
	return keys
}

// Keys of orders-service's objects.
const (
	ordersDatabase   = "DatabaseClaim/team-orders/orders-service-db"
	ordersBucket     = "BucketClaim/team-orders/orders-service-bucket"
	ordersStaging    = "Application/argocd/orders-service-staging"
	ordersProduction = "Application/argocd/orders-service-production"
)

// becomeReady has the controllers report orders-service ready: both claims
// Ready, staging synced and healthy, production waiting for a promotion.
func becomeReady(c *fakeCluster) {
	for _, key := range []string{ordersDatabase, ordersBucket} {
		c.update(key, func(obj *unstructured.Unstructured) { setConditions(obj, ready("True")) })
	}
	c.update(ordersStaging, func(obj *unstructured.Unstructured) { setApp(obj, "Synced", "Healthy") })
}

// provisionedSamples returns how many resources' provisioning durations
// were observed, and their sum in seconds.
func provisionedSamples(t *testing.T, reg *prometheus.Registry) (count uint64, sum float64) {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, family := range families {
		if family.GetName() != "platform_provisioning_duration_seconds" {
			continue
		}
		for _, m := range family.GetMetric() {
			count += m.GetHistogram().GetSampleCount()
			sum += m.GetHistogram().GetSampleSum()
		}
	}
	return count, sum
}

var errUnavailable = fmt.Errorf("connection refused: %w", store.ErrUnavailable)

func TestReconcileAppliesAPendingProvisioningOnce(t *testing.T) {
	h := newReconcilerHarness(t)
	h.store.put(ordersProvisioningPending())

	require.True(t, h.pass(t, false))
	require.Equal(t, []string{ordersDatabase, ordersBucket, ordersStaging, ordersProduction}, h.applied(t))
	_, _, markedApplied, markedReady := h.store.calls()
	require.Equal(t, []string{"orders-service@1"}, markedApplied)
	require.Empty(t, markedReady, "nothing is ready yet")
	prov, _ := h.store.get("orders-service")
	require.Equal(t, int64(1), prov.AppliedGeneration)

	require.True(t, h.pass(t, false))
	require.Empty(t, h.applied(t), "applied again on a quick pass")
	_, _, markedApplied, _ = h.store.calls()
	require.Empty(t, markedApplied)
}

func TestReconcileLeavesAppliedObjectsNotYetReadyToTheFullResync(t *testing.T) {
	h := newReconcilerHarness(t)
	h.store.put(ordersProvisioningPending())
	require.True(t, h.pass(t, false))
	h.applied(t)
	h.store.calls()

	for range 3 {
		require.True(t, h.pass(t, false))
		require.Empty(t, h.applied(t), "applied again on a quick pass")
		lists, _, markedApplied, markedReady := h.store.calls()
		require.Equal(t, []listCall{{Pending: true, After: "", Limit: listPage}}, lists, "a quick pass reads the pending")
		require.Empty(t, markedApplied)
		require.Empty(t, markedReady)
	}

	require.True(t, h.pass(t, true))
	require.Equal(t, []string{ordersDatabase, ordersBucket, ordersStaging, ordersProduction}, h.applied(t), "a full resync applies everything")
	lists, _, markedApplied, _ := h.store.calls()
	require.Equal(t, []listCall{{Pending: false, After: "", Limit: listPage}}, lists, "a full resync reads every provisioning")
	require.Equal(t, []string{"orders-service@1"}, markedApplied)
}

func TestReconcileReappliesAServiceAnObjectOfWhichWasDeletedOnTheNextPass(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ready bool // ready services are not pending: the pass reads it alone
	}{
		{name: "NotReadyYet"},
		{name: "Ready", ready: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newReconcilerHarness(t)
			if tc.ready {
				h.provisioned(ordersProvisioningPending())
			} else {
				h.store.put(ordersProvisioningPending())
				require.True(t, h.pass(t, false))
			}
			h.applied(t)

			h.cluster.remove(ordersDatabase)
			require.Equal(t, []string{"orders-service"}, h.marked())
			require.True(t, h.pass(t, false))
			require.Equal(t, []string{ordersDatabase, ordersBucket, ordersStaging, ordersProduction}, h.applied(t))
			require.NotNil(t, h.cluster.object(ordersDatabase), "the deleted claim is back")
			require.Empty(t, h.marked())

			require.True(t, h.pass(t, false))
			require.Empty(t, h.applied(t), "applied again once only")
		})
	}
}

func TestReconcileDropsTheMarkOfADeletedObjectOfAServiceNoLongerProvisioned(t *testing.T) {
	h := newReconcilerHarness(t)
	h.provisioned(ordersProvisioningPending())
	h.store.remove("orders-service")

	h.cluster.remove(ordersDatabase)
	require.True(t, h.pass(t, false))
	require.Empty(t, h.applied(t))
	_, gets, markedApplied, _ := h.store.calls()
	require.Equal(t, []string{"orders-service"}, gets)
	require.Empty(t, markedApplied)
	require.Empty(t, h.marked())

	require.True(t, h.pass(t, false))
	require.Empty(t, h.applied(t))
	_, gets, _, _ = h.store.calls()
	require.Empty(t, gets, "the mark was dropped, yet the service was looked for again")
}

func TestReconcileReportsAFailedApplyAndRetriesItOnTheNextPass(t *testing.T) {
	refused := errors.New("admission webhook refused")
	for _, tc := range []struct {
		name string
		// setup leaves orders-service and cart-service as a pass finds
		// them, and returns whether that pass is a full resync.
		setup func(h *reconcilerHarness) (full bool)
		fail  func(h *reconcilerHarness, fail bool)
	}{
		{
			name: "ApplyOfAPendingProvisioning",
			setup: func(h *reconcilerHarness) bool {
				h.store.put(ordersProvisioningPending())
				return false
			},
			fail: func(h *reconcilerHarness, fail bool) {
				h.cluster.failApply = nil
				if fail {
					h.cluster.failApply = func(obj *unstructured.Unstructured) error {
						if kube.ObjectKey(obj) == ordersBucket {
							return refused
						}
						return nil
					}
				}
			},
		},
		{
			// Applied and ready already, so not pending: only the mark
			// brings it back before the next resync.
			name: "ApplyAtAFullResync",
			setup: func(h *reconcilerHarness) bool {
				h.provisioned(ordersProvisioningPending())
				return true
			},
			fail: func(h *reconcilerHarness, fail bool) {
				h.cluster.failApply = nil
				if fail {
					h.cluster.failApply = func(obj *unstructured.Unstructured) error {
						if kube.ObjectKey(obj) == ordersStaging {
							return refused
						}
						return nil
					}
				}
			},
		},
		{
			name: "PruneOfAnObjectTheSpecNoLongerHas",
			setup: func(h *reconcilerHarness) bool {
				prov := ordersProvisioningPending()
				h.provisioned(prov)
				prov.Spec.Bucket = false
				prov.Generation = 2
				h.store.put(prov)
				return false
			},
			fail: func(h *reconcilerHarness, fail bool) {
				h.cluster.failDelete = nil
				if fail {
					h.cluster.failDelete = func(*unstructured.Unstructured) error { return refused }
				}
			},
		},
		{
			name: "RecordOfTheApply",
			setup: func(h *reconcilerHarness) bool {
				h.store.put(ordersProvisioningPending())
				return false
			},
			fail: func(h *reconcilerHarness, fail bool) {
				h.store.failMarkApplied = nil
				if fail {
					h.store.failMarkApplied = func(service string) error {
						if service == "orders-service" {
							return errUnavailable
						}
						return nil
					}
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newReconcilerHarness(t)
			full := tc.setup(h)
			h.store.put(pendingProvisioning("cart-service"))
			before, _ := h.store.get("orders-service")
			tc.fail(h, true)

			require.False(t, h.pass(t, full), "the pass reports the failure")
			applied, _, _ := h.cluster.calls()
			require.Subset(t, applied, keysOf(pendingProvisioning("cart-service")), "a failure holds no other service up")
			require.Equal(t, []string{"orders-service"}, h.marked(), "the failed service stays marked")
			after, _ := h.store.get("orders-service")
			require.Equal(t, before.AppliedGeneration, after.AppliedGeneration, "recorded as applied")
			cart, _ := h.store.get("cart-service")
			require.Equal(t, int64(1), cart.AppliedGeneration)

			tc.fail(h, false)
			require.True(t, h.pass(t, false), "the next pass, a quick one, retries")
			applied, _, _ = h.cluster.calls()
			require.Equal(t, keysOf(after), applied)
			after, _ = h.store.get("orders-service")
			require.Equal(t, after.Generation, after.AppliedGeneration)
			require.Empty(t, h.marked())
		})
	}
}

func TestReconcileKeepsTheMarksOfDeletedObjectsWhileTheStoreIsDown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fleet   []store.Provisioning
		removed string // the key of the object deleted from the cluster
		service string // its service
		full    bool
		fail    func(s *memStore, fail bool)
	}{
		{
			name:  "ListingFails",
			fleet: []store.Provisioning{ordersProvisioningPending()}, removed: ordersBucket, service: "orders-service",
			fail: func(s *memStore, fail bool) {
				s.failList = nil
				if fail {
					s.failList = func(string) error { return errUnavailable }
				}
			},
		},
		{
			name:  "ReadingTheProvisioningFails",
			fleet: []store.Provisioning{ordersProvisioningPending()}, removed: ordersBucket, service: "orders-service",
			fail: func(s *memStore, fail bool) {
				s.failGet = nil
				if fail {
					s.failGet = func(string) error { return errUnavailable }
				}
			},
		},
		{
			// The first page reconciled, then the store goes: a service of
			// a page not read yet keeps its mark.
			name: "ListingTheSecondPageOfAFullResyncFails",
			fleet: func() []store.Provisioning {
				var fleet []store.Provisioning
				for i := range listPage + listPage/4 {
					fleet = append(fleet, fleetProvisioning(i))
				}
				return fleet
			}(),
			removed: "BucketClaim/team-fleet/" + manifest.BucketClaimName(fleetProvisioning(listPage+10).Service),
			service: fleetProvisioning(listPage + 10).Service,
			full:    true,
			fail: func(s *memStore, fail bool) {
				s.failList = nil
				if fail {
					s.failList = func(after string) error {
						if after != "" {
							return errUnavailable
						}
						return nil
					}
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newReconcilerHarness(t)
			for _, prov := range tc.fleet {
				h.provisioned(prov)
			}
			h.cluster.remove(tc.removed)
			tc.fail(h.store, true)

			require.False(t, h.pass(t, tc.full))
			require.NotContains(t, h.applied(t), tc.removed)
			require.Equal(t, []string{tc.service}, h.marked(), "forgotten while the store was down")

			tc.fail(h.store, false)
			require.True(t, h.pass(t, false))
			require.Contains(t, h.applied(t), tc.removed)
			require.NotNil(t, h.cluster.object(tc.removed), "applied again once the store is back")
			require.Empty(t, h.marked())
		})
	}
}

func TestReconcilePrunesOnlyTheObjectsCairnManages(t *testing.T) {
	h := newReconcilerHarness(t)
	prov := ordersProvisioningPending()
	h.provisioned(prov)
	// Objects of orders-service the spec does not have: a preview
	// Application Cairn applied once, a claim another tool made, and one
	// made by hand without the managed-by label.
	preview := manifest.Application(h.p.plan(prov.Service, prov.Spec), "preview", h.p.settings)
	helm := manifest.BucketClaim(h.p.plan(prov.Service, prov.Spec), h.p.settings)
	helm.SetName("orders-service-archive")
	labels := helm.GetLabels()
	labels[manifest.LabelManagedBy] = "Helm"
	helm.SetLabels(labels)
	byHand := manifest.DatabaseClaim(h.p.plan(prov.Service, prov.Spec), h.p.settings)
	byHand.SetName("orders-service-legacy")
	labels = byHand.GetLabels()
	delete(labels, manifest.LabelManagedBy)
	byHand.SetLabels(labels)
	h.cluster.hold(preview, helm, byHand)
	// The spec no longer has the bucket.
	prov.Spec.Bucket = false
	prov.Generation = 2
	h.store.put(prov)

	require.True(t, h.pass(t, false))
	applied, deleted, _ := h.cluster.calls()
	require.Equal(t, []string{ordersDatabase, ordersStaging, ordersProduction}, applied)
	require.ElementsMatch(t, []string{kube.ObjectKey(preview), ordersBucket}, deleted)
	require.NotNil(t, h.cluster.object(kube.ObjectKey(helm)), "another tool's claim")
	require.NotNil(t, h.cluster.object(kube.ObjectKey(byHand)), "a claim made by hand")
	stored, _ := h.store.get("orders-service")
	require.Equal(t, int64(2), stored.AppliedGeneration)
}

func TestReconcileRecordsReadinessOnce(t *testing.T) {
	h := newReconcilerHarness(t)
	h.store.put(ordersProvisioningPending())
	require.True(t, h.pass(t, false))
	_, _, _, markedReady := h.store.calls()
	require.Empty(t, markedReady, "recorded ready before anything was")

	becomeReady(h.cluster)
	require.True(t, h.pass(t, false))
	_, _, _, markedReady = h.store.calls()
	require.Equal(t, []string{"orders-service"}, markedReady)
	prov, _ := h.store.get("orders-service")
	require.False(t, prov.ReadyTime.IsZero())
	count, sum := provisionedSamples(t, h.reg)
	require.Equal(t, uint64(2), count, "one duration per claim")
	require.InDelta(t, 2*(3*time.Minute).Seconds(), sum, 0.001, "from the create to each claim's Ready transition")

	for _, full := range []bool{false, true} {
		require.True(t, h.pass(t, full))
		_, _, _, markedReady = h.store.calls()
		require.Empty(t, markedReady, "recorded again, full=%v", full)
		again, _ := h.store.get("orders-service")
		require.Equal(t, prov.ReadyTime, again.ReadyTime)
		count, _ = provisionedSamples(t, h.reg)
		require.Equal(t, uint64(2), count, "durations observed again, full=%v", full)
	}
}

func TestReconcileReconcilesAFleetLargerThanOnePage(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		full bool
	}{
		{name: "PendingOverThreePages", size: 2*listPage + listPage/4},
		{name: "FullResyncOfTwoWholePages", size: 2 * listPage, full: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newReconcilerHarness(t)
			var want []string
			for i := range tc.size {
				prov := fleetProvisioning(i)
				h.store.put(prov)
				want = append(want, keysOf(prov)...)
			}

			require.True(t, h.pass(t, tc.full))
			require.Equal(t, want, h.applied(t), "each service applied once, in name order")
			for i := range tc.size {
				prov, _ := h.store.get(fleetProvisioning(i).Service)
				require.Equal(t, int64(1), prov.AppliedGeneration, prov.Service)
			}
			lists, _, _, _ := h.store.calls()
			var afters []string
			for _, l := range lists {
				require.Equal(t, !tc.full, l.Pending)
				require.Equal(t, listPage, l.Limit)
				afters = append(afters, l.After)
			}
			wantAfters := []string{""}
			for end := listPage; end <= tc.size; end += listPage {
				wantAfters = append(wantAfters, fleetProvisioning(end-1).Service)
			}
			require.Equal(t, wantAfters, afters, "pages read")
		})
	}
}

func TestReconcileMakesTheTeamsNamespaceBeforeApplyingIntoIt(t *testing.T) {
	h := newReconcilerHarness(t)
	h.store.put(ordersProvisioningPending())

	require.True(t, h.pass(t, false))
	require.Equal(t, []string{"team-orders/team-orders"}, h.cluster.namespaces)
	require.Equal(t, []string{ordersDatabase, ordersBucket, ordersStaging, ordersProduction}, h.applied(t))
}

func TestReconcileAppliesIntoANamespaceItMayNotCreate(t *testing.T) {
	h := newReconcilerHarness(t)
	h.cluster.failNamespace = apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "team-orders", errors.New("no create"))
	h.store.put(ordersProvisioningPending())

	require.True(t, h.pass(t, false), "a namespace made by others is one Cairn applies into")
	require.Equal(t, []string{ordersDatabase, ordersBucket, ordersStaging, ordersProduction}, h.applied(t))
}

func TestReconcileRetriesAServiceWhoseNamespaceFailed(t *testing.T) {
	h := newReconcilerHarness(t)
	h.cluster.failNamespace = errors.New("connection refused")
	h.store.put(ordersProvisioningPending())

	require.False(t, h.pass(t, false))
	require.Empty(t, h.applied(t), "nothing is applied into a namespace that may not exist")
	h.cluster.failNamespace = nil
	require.True(t, h.pass(t, false))
	require.Equal(t, []string{ordersDatabase, ordersBucket, ordersStaging, ordersProduction}, h.applied(t))
}
