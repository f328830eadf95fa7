package kube

import (
	"math"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// Workload is what one Deployment of a service asks for: what its cost
// estimate is priced from.
type Workload struct {
	Namespace string
	Name      string
	// Replicas is the Deployment's desired replicas (spec.replicas, 1 when
	// unset): an autoscaler's later changes show here as it writes them.
	Replicas int32
	// CPUMillis and MemoryBytes are one replica's requests: the sum over its
	// containers. Init containers run to completion before the others and
	// are not counted.
	CPUMillis   int64
	MemoryBytes int64
	CreateTime  time.Time
}

// newDeploymentInformer watches the Deployments that name their service
// with the name label, in every namespace: the golden-path template labels
// each Deployment so, and Argo CD applies them wherever a team deploys.
// The cache keeps only what Workload needs, so that thousands of
// Deployments cost little memory.
func newDeploymentInformer(client kubernetes.Interface) (cache.SharedIndexInformer, error) {
	factory := informers.NewSharedInformerFactoryWithOptions(client, resyncPeriod,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = manifest.LabelName }))
	inf := factory.Apps().V1().Deployments().Informer()
	if err := inf.SetTransform(trimDeployment); err != nil {
		return nil, err
	}
	if err := inf.AddIndexers(cache.Indexers{indexByService: deploymentService}); err != nil {
		return nil, err
	}
	return inf, nil
}

// trimDeployment keeps what Workload and the cache's keys and index read.
func trimDeployment(obj any) (any, error) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return obj, nil // a tombstone: its object was trimmed when cached
	}
	containers := make([]corev1.Container, 0, len(d.Spec.Template.Spec.Containers))
	for _, c := range d.Spec.Template.Spec.Containers {
		containers = append(containers, corev1.Container{Resources: corev1.ResourceRequirements{Requests: c.Resources.Requests}})
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: d.Name, Namespace: d.Namespace, ResourceVersion: d.ResourceVersion,
			CreationTimestamp: d.CreationTimestamp,
			Labels:            map[string]string{manifest.LabelName: d.Labels[manifest.LabelName]},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: d.Spec.Replicas,
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: containers}},
		},
	}, nil
}

func deploymentService(obj any) ([]string, error) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok || d.Labels[manifest.LabelName] == "" {
		return nil, nil
	}
	return []string{d.Labels[manifest.LabelName]}, nil
}

// Workloads returns the cached Deployments of a service, by namespace and
// name.
func (c *Cluster) Workloads(service string) []Workload {
	items, _ := c.deployments.GetIndexer().ByIndex(indexByService, service)
	workloads := make([]Workload, 0, len(items))
	for _, item := range items {
		workloads = append(workloads, workloadOf(item.(*appsv1.Deployment)))
	}
	slices.SortFunc(workloads, func(a, b Workload) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return workloads
}

func workloadOf(d *appsv1.Deployment) Workload {
	w := Workload{Namespace: d.Namespace, Name: d.Name, Replicas: 1, CreateTime: d.CreationTimestamp.Time}
	if d.Spec.Replicas != nil {
		w.Replicas = *d.Spec.Replicas
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		w.CPUMillis = saturatingAdd(w.CPUMillis, scaledRequest(*c.Resources.Requests.Cpu(), resource.Milli))
		w.MemoryBytes = saturatingAdd(w.MemoryBytes, scaledRequest(*c.Resources.Requests.Memory(), 0))
	}
	return w
}

// scaledRequest is a request in units of 10^scale, or the largest int64
// for one beyond it: the API server takes quantities int64 cannot hold,
// and such a Deployment is priced at the most, never at a wrapped sum.
func scaledRequest(q resource.Quantity, scale resource.Scale) int64 {
	if q.Sign() < 0 {
		return 0
	}
	limit := resource.NewScaledQuantity(math.MaxInt64, scale)
	if q.Cmp(*limit) >= 0 {
		return math.MaxInt64
	}
	return q.ScaledValue(scale)
}

func saturatingAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
