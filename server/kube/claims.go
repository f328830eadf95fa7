package kube

import (
	"cmp"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// Claim is what the platform metrics read of a claim of the platform's
// kinds.
type Claim struct {
	Kind      string // KindDatabaseClaim or KindBucketClaim
	Namespace string
	Name      string
	// Service is the claim's name label, the service it belongs to; ""
	// when it has none.
	Service string
	// ManagedByCairn says the claim carries Cairn's managed-by label:
	// Cairn applied it. Claims without it were made by hand.
	ManagedByCairn bool
	// ReadySince is when the claim's Ready condition last turned True;
	// zero while the claim is not ready.
	ReadySince time.Time
}

// Claims returns every claim of the platform's kinds in the informer
// cache, whoever made it and whatever its labels, in kind, namespace and
// name order.
func (c *Cluster) Claims() []Claim {
	var claims []Claim
	for _, kind := range c.kinds {
		if !kind.Claim {
			continue
		}
		for _, item := range c.informer[kind.Kind].GetStore().List() {
			u := item.(*unstructured.Unstructured)
			claims = append(claims, Claim{
				Kind:           kind.Kind,
				Namespace:      u.GetNamespace(),
				Name:           u.GetName(),
				Service:        u.GetLabels()[manifest.LabelName],
				ManagedByCairn: managedByCairn(u),
				ReadySince:     manifest.ReadySince(u),
			})
		}
	}
	slices.SortFunc(claims, func(a, b Claim) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return claims
}
