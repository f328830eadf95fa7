package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// EnsureNamespace creates namespace, labelled as Cairn's and with team's
// label, when it does not exist; Cairn never deletes one. It asks the API
// server once per namespace: a namespace that exists, or that Cairn may not
// create (Forbidden, returned the first time only, for a platform whose
// namespaces are made by others), is not asked about again until an apply
// into it finds it missing. Only create is needed: the API server answers
// AlreadyExists to a create it authorizes.
func (c *Cluster) EnsureNamespace(ctx context.Context, namespace, team string) error {
	c.namespacesMu.Lock()
	known := c.namespaces[namespace]
	c.namespacesMu.Unlock()
	if known {
		return nil
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   namespace,
		Labels: map[string]string{manifest.LabelManagedBy: manifest.ManagedBy, manifest.LabelTeam: team},
	}}
	_, err := c.clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: manifest.FieldManager})
	switch {
	case err == nil, apierrors.IsAlreadyExists(err):
		c.knowNamespace(namespace, true)
		return nil
	case apierrors.IsForbidden(err):
		c.knowNamespace(namespace, true) // said once, not on every pass
	}
	return fmt.Errorf("create namespace %s: %w", namespace, err)
}

// knowNamespace records whether Cairn needs to ask about namespace again.
func (c *Cluster) knowNamespace(namespace string, known bool) {
	c.namespacesMu.Lock()
	defer c.namespacesMu.Unlock()
	if known {
		c.namespaces[namespace] = true
	} else {
		delete(c.namespaces, namespace)
	}
}
