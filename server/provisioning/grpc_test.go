package provisioning

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/client-go/rest"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// failingStore is a store whose reads of provisionings or services fail
// as an unreachable database's do, when told to.
type failingStore struct {
	store.Store
	provisioningsDown, servicesDown bool
}

func unavailable(op string) error {
	return fmt.Errorf("%s: %w: connection refused", op, store.ErrUnavailable)
}

func (s failingStore) GetProvisioning(ctx context.Context, service string) (store.Provisioning, error) {
	if s.provisioningsDown {
		return store.Provisioning{}, unavailable("get provisioning")
	}
	return s.Store.GetProvisioning(ctx, service)
}

func (s failingStore) GetService(ctx context.Context, name string) (*store.Service, error) {
	if s.servicesDown {
		return nil, unavailable("get service")
	}
	return s.Store.GetService(ctx, name)
}

func TestGetServiceStatusWhileTheStoreIsDownIsUnavailable(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(t.Context()))
	// A service in the catalog with nothing provisioned: the second read,
	// of the catalog, decides between SERVICE_ and PROVISIONING_NOT_FOUND.
	_, _, err = st.UpsertService(t.Context(), &store.Service{Name: "orders-service", Type: "service", Lifecycle: "production", Owner: "team-orders"}, "")
	require.NoError(t, err)
	// A cluster that is never started: the status reads its empty caches.
	one, err := kube.NewCluster(&rest.Config{Host: "http://127.0.0.1:1"}, manifest.DefaultSettings())
	require.NoError(t, err)
	cluster, err := kube.NewClusters(manifest.DefaultSettings(), "", one)
	require.NoError(t, err)

	statusCode := func(st store.Store, service string) codes.Code {
		p := New(st, cluster, manifest.DefaultSettings(), entityref.Teams{}, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		_, err := NewServer(p).GetServiceStatus(t.Context(), &cairnv1.GetServiceStatusRequest{Name: "services/" + service})
		rewritten, _ := apierr.Rewrite(err, cairnv1.ProvisioningService_GetServiceStatus_FullMethodName)
		return status.Code(rewritten)
	}
	for _, tc := range []struct {
		name    string
		store   failingStore
		service string
		want    codes.Code
	}{
		{"Up", failingStore{Store: st}, "orders-service", codes.NotFound},
		{"UpUnknownService", failingStore{Store: st}, "cart-service", codes.NotFound},
		{"Down", failingStore{Store: st, provisioningsDown: true, servicesDown: true}, "orders-service", codes.Unavailable},
		{"DownAfterFindingNoProvisioning", failingStore{Store: st, servicesDown: true}, "orders-service", codes.Unavailable},
		{"DownAfterFindingNoProvisioningOfAnUnknownService", failingStore{Store: st, servicesDown: true}, "cart-service", codes.Unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, statusCode(tc.store, tc.service))
		})
	}
}
