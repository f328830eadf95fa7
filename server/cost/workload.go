package cost

import (
	"fmt"
	"math/big"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// TypeCompute is the line type of a workload's estimate.
const TypeCompute = "compute"

// WorkloadPrices price what a Deployment requests, per replica.
type WorkloadPrices struct {
	// VCPUHour is one vCPU requested for an hour.
	VCPUHour Micros `yaml:"vcpuHour"`
	// GBHour is one GiB (2^30 bytes) of memory requested for an hour.
	GBHour Micros `yaml:"gbHour"`
}

// PlannedWorkload is what a service that does not exist yet is assumed to
// run in each environment, for the estimate of a planned create: the
// golden-path template's Deployment.
type PlannedWorkload struct {
	// CPU and Memory are one replica's requests, as Kubernetes quantities.
	CPU    string `yaml:"cpu"`
	Memory string `yaml:"memory"`
	// Replicas in every environment, and in production too unless the
	// create request gives its replica count.
	Replicas int32 `yaml:"replicas"`
}

// Workloads is where the Deployments of services are read: the cluster's
// informer cache.
type Workloads interface {
	Workloads(service string) []kube.Workload
}

// gib is a GiB in bytes.
const gib = 1 << 30

// monthly is a workload's price per month: its replicas' requests for 730
// hours. The products are taken exactly and rounded to the nearest micro
// once, as they can pass int64 before the division, and after it (a
// Deployment may request absurd amounts: its line then saturates at
// money.Max rather than wrap).
func (p WorkloadPrices) monthly(replicas int32, cpuMillis, memoryBytes int64) money.Sum {
	cpu := product(int64(replicas), cpuMillis, int64(p.VCPUHour), HoursPerMonth)
	memory := product(int64(replicas), memoryBytes, int64(p.GBHour), HoursPerMonth)
	// cpu is in thousandths of a vCPU and memory in bytes: over a common
	// denominator, cpu/1000 + memory/gib.
	cpu.Mul(cpu, big.NewInt(gib))
	memory.Mul(memory, big.NewInt(1000))
	return money.FromBig(roundedQuotient(cpu.Add(cpu, memory), 1000*gib))
}

func product(factors ...int64) *big.Int {
	p := big.NewInt(1)
	for _, f := range factors {
		p.Mul(p, big.NewInt(f))
	}
	return p
}

// roundedQuotient is n/d rounded half up, for n >= 0 and d > 0.
func roundedQuotient(n *big.Int, d int64) *big.Int {
	q := new(big.Int).Add(n, big.NewInt(d/2))
	return q.Quo(q, big.NewInt(d))
}

// workloadLines price a service's Deployments for the month starting at
// start and the month before, by the rule claims follow: a month is charged
// in full if the Deployment existed before it ended.
func (t PriceTable) workloadLines(workloads []kube.Workload, start time.Time) (current, previous []Line) {
	for _, w := range workloads {
		line := Line{
			Resource: w.Namespace + "/" + w.Name, Type: TypeCompute,
			MonthlyCost: t.Workload.monthly(w.Replicas, w.CPUMillis, w.MemoryBytes), Source: SourceEstimated,
		}
		if w.CreateTime.Before(start.AddDate(0, 1, 0)) {
			current = append(current, line)
		}
		if w.CreateTime.Before(start) {
			previous = append(previous, line)
		}
	}
	return current, previous
}

// plannedLines price what spec will run: PlannedWorkload in each of its
// environments, one line each, named after the service and environment,
// with the spec's replica count where the environment takes it.
func (c Config) plannedLines(service string, spec store.ProvisioningSpec, settings manifest.Settings) []Line {
	cpu, memory := c.PlannedWorkload.requests()
	lines := make([]Line, 0, len(spec.Environments))
	for _, name := range spec.Environments {
		replicas := c.PlannedWorkload.Replicas
		if env, _ := settings.Environment(name); env.Replicas && spec.ReplicaCount > 0 {
			replicas = spec.ReplicaCount
		}
		lines = append(lines, Line{
			Resource: service + " (" + name + ")", Type: TypeCompute,
			MonthlyCost: c.Prices.Workload.monthly(replicas, cpu, memory), Source: SourceEstimated,
		})
	}
	return lines
}

// requests are one planned replica's CPU in millicores and memory in
// bytes; Validate has checked the quantities.
func (w PlannedWorkload) requests() (cpuMillis, memoryBytes int64) {
	cpu, _ := resource.ParseQuantity(w.CPU)
	memory, _ := resource.ParseQuantity(w.Memory)
	return cpu.MilliValue(), memory.Value()
}

func (w PlannedWorkload) validate() []error {
	var errs []error
	for _, q := range []struct{ field, value string }{{"cpu", w.CPU}, {"memory", w.Memory}} {
		parsed, err := resource.ParseQuantity(q.value)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("cost: plannedWorkload.%s %q: want a Kubernetes quantity, such as 100m or 128Mi", q.field, q.value))
		case parsed.Sign() < 0:
			errs = append(errs, fmt.Errorf("cost: plannedWorkload.%s %q: must not be negative", q.field, q.value))
		}
	}
	if w.Replicas < 0 {
		errs = append(errs, fmt.Errorf("cost: plannedWorkload.replicas %d: must not be negative", w.Replicas))
	}
	return errs
}
