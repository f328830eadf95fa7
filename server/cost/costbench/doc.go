// Package costbench benchmarks the cost service as operators run it: a
// million-row FinOps FOCUS file imported into each store engine beside
// PostgreSQL's own bulk load, and the cost card's latency through the real
// HTTP gateway and gRPC server over a catalog of 10,000 services. Its
// benchmarks write their data into temporary directories, so that `go test`
// without -bench runs nothing here. BENCHMARKS.md holds the figures.
package costbench
