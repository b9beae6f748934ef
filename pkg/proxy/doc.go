// Package proxy is the node's service proxy: kube-proxy's nftables mode
// inside the agent. It watches Services and EndpointSlices and keeps one
// nftables table per address family, "minik8s-proxy" (ip and, on dual-stack
// nodes, ip6), in line with them:
//
//   - at start the table is replaced in one kernel transaction, so the rules a
//     previous run left keep carrying traffic until the new ones take over,
//     and nothing ever sees the table missing;
//   - after that, each change of a Service or its endpoints becomes a small
//     transaction touching only that Service's map elements and chains
//     (rules.State computes it).
//
// Stopping the proxy leaves the table in the kernel (a restarted agent or
// server keeps traffic flowing); Cleanup removes it.
//
// Beside the rules it serves externalTrafficPolicy Local health checks on
// healthCheckNodePort and flushes stale UDP conntrack entries when an
// endpoint goes, as kube-proxy does.
package proxy
