// Package scheduler places pods on nodes as upstream's kube-scheduler does: one pod
// at a time from a priority queue, each through its profile's plugins (filter →
// score → reserve → bind), binding asynchronously while the next pod is scheduled,
// with the pod assumed onto its node in the cache meanwhile. A pod that fits
// nowhere gets upstream's FailedScheduling event and PodScheduled condition and
// waits for a cluster event that may let it fit; preemption may nominate it to a
// node where lower-priority pods make way.
package scheduler
