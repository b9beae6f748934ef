// Package sim runs simulated nodes, as kwok does: a simulated node is a Node object
// (labelled node.minik8s.io/simulated=true), a Lease renewed like a kubelet's, and a
// controller that moves the pods bound to it to Running and completes their deletion.
// No containers run anywhere, which is how thousands of nodes fit on one machine.
//
// The decisions (what a node or pod status should be, when a lease is due, which
// address a pod gets) are pure functions beside their tests; the controller only
// reads informers, calls them and writes what they say. The same controller runs
// inside `minik8s server` and alone against any cluster with `minik8s sim run`.
package sim
