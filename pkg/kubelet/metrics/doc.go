// Package metrics holds the node agent's own Prometheus metrics, named, typed and
// described as upstream's kubelet v1.34 exposes them: the registry the kubelet
// API serves on /metrics (pods and containers in the runtime, pod start latency,
// the node's name and build, Go and process figures) and the one it serves on
// /metrics/probes (probe results by container). The agent's parts record into
// them through the methods of Metrics; a nil *Metrics records nothing, so parts
// built without metrics (tests) need no fake.
//
// Usage figures (/metrics/resource and /metrics/cadvisor) are not here: they are
// views of the stats provider, built beside /stats/summary in package server.
package metrics
