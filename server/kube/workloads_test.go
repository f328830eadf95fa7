package kube

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func deploymentRequesting(requests ...[2]string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	for _, r := range requests {
		d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse(r[0]), corev1.ResourceMemory: resource.MustParse(r[1]),
			}},
		})
	}
	return d
}

func TestWorkloadRequestsAddUpExactlyOrSaturateNeverWrap(t *testing.T) {
	w := workloadOf(deploymentRequesting([2]string{"250m", "128Mi"}, [2]string{"1", "1Gi"}))
	require.Equal(t, int64(1250), w.CPUMillis)
	require.Equal(t, int64(128<<20+1<<30), w.MemoryBytes)

	for _, requests := range [][][2]string{
		{{"9223372036854775807", "9223372036854775807"}},         // beyond int64 in millicores
		{{"9000000000000000", "8E"}, {"9000000000000000", "8E"}}, // each fits; their sum does not
		{{"1e30", "1e30"}}, // beyond int64 altogether
	} {
		w := workloadOf(deploymentRequesting(requests...))
		require.Equal(t, int64(math.MaxInt64), w.CPUMillis, requests)
		require.Equal(t, int64(math.MaxInt64), w.MemoryBytes, requests)
	}
}
