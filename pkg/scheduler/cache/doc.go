// Package cache keeps the scheduler's view of the cluster: every node with the pods
// on it, including pods the scheduler has assumed onto a node while their binding is
// in flight, and copies that view into a Snapshot at the start of each scheduling
// cycle. Only nodes that changed since the last cycle are copied.
package cache
