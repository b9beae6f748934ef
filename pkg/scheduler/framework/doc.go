// Package framework is the scheduler's plugin framework: the extension points a
// plugin implements, the Status they answer with, the per-cycle state they share and
// the NodeInfo/PodInfo views of the cluster they read. The shape follows upstream's
// kube-scheduler framework (same extension points, same codes and messages) so a
// plugin reads like an upstream one; the implementation is our own and keeps the hot
// path — Filter and Score over thousands of nodes — free of allocation.
package framework
