// Package netpol enforces networking.k8s.io/v1 NetworkPolicies on a node with
// nftables.
//
// The decision is pure: Build turns the cluster's policies, pods and
// namespaces into one nftables table per address family (model.go and the
// files beside it, table-tested). The Enforcer keeps that table in line with
// the API through informers and replaces it atomically whenever the result
// changes, so a packet sees either the old rules or the new ones.
//
// The table hooks forward (bridged and routed pod traffic; bridged traffic
// reaches it when br_netfilter is on) and input (pods talking to the node).
// Both hooks run after prerouting's DNAT, so a packet sent to a Service is
// judged by the pod it was sent to. Packets of established or related
// connections are accepted first: a policy update never cuts a connection
// it allowed. A new connection from a local pod that some egress policy
// selects must match one of their rules, then a connection to a local pod
// that some ingress policy selects must match one of theirs; anything else
// is dropped. Pods no policy selects in a direction stay open in it, and the
// node itself may always reach its pods (kubelet probes).
package netpol
