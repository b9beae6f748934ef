// Package matchcount counts, per node and per topology domain, the pods that
// match a predicate (a selector in a namespace, say), and keeps the per-node
// counts between scheduling cycles so that the next pod asking the same question
// only recounts the nodes that changed.
//
// It relies on the snapshot's contract: a node info in the snapshot is never
// changed in place; a node that changed is a new node info (with a new
// generation). Counts are kept per node info pointer and generation, so a node
// whose pods or labels changed since it was last counted is counted again.
//
// PodTopologySpread and InterPodAffinity ask the same questions for every
// replica of a workload: with the counts kept, a replica's PreFilter walks an
// array of node pointers instead of every pod in the cluster.
package matchcount
