// Package testenv holds what Cairn's tests and benchmarks run against: a
// kube-apiserver and etcd (kubetest, with the devcluster command the
// Backstage plugin's tests start), a throwaway PostgreSQL (pgtest), the
// deploy/ manifests applied to a cluster (deploytest), the load and soak
// tools (loadtest) and free local ports (testnet). None of it is linked into
// the cairn binary; TestCairnLinksNoTestEnvironment in cmd/cairn checks that.
package testenv
