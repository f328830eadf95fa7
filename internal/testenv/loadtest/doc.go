// Package loadtest drives a running Cairn the way a busy Backstage portal
// does, to measure it: it seeds a fleet of services through the API (catalog
// registrations, provisioned services, two months of FOCUS billing through
// the import endpoint, deployments and incidents for DORA), then loads it
// with entity-page reads (the cost, status and DORA cards of random
// services) and a share of creates and deployment reports, over REST and
// over gRPC with the same calls, and reports throughput, p50 and p99
// latency per call and protocol, errors by code, and the server's resident
// memory and goroutines.
//
// The cairn-load command (./cmd/cairn-load) runs it against any Cairn;
// run.sh starts the pieces on one machine and runs the measurements that
// BENCHMARKS.md reports. The soak test (TestSoak, run only when asked) adds
// faults under load: PostgreSQL restarted, the Kubernetes API server
// stopped and started, Cairn killed and restarted; then it compares what
// was sent with the store and the cluster.
package loadtest
