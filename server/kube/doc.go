// Package kube is Cairn's I/O with a Kubernetes cluster: informers that
// cache the Argo CD Applications, the platform's claims and the labelled
// Deployments, trimmed to the fields Cairn reads; server-side apply, delete
// and sync requests; and leader election on a Lease. What Cairn applies is
// built by package manifest, from pure functions of a plan.
package kube
