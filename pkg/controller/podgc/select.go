package podgc

import (
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// isTerminated: the pod reached a terminal phase (or one this version does
// not know, which upstream counts the same).
func isTerminated(p *corev1.Pod) bool {
	switch p.Status.Phase {
	case corev1.PodPending, corev1.PodRunning, corev1.PodUnknown:
		return false
	}
	return true
}

func isEvicted(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed && p.Status.Reason == "Evicted"
}

// gcOrder: evicted pods first, then the oldest, then by name.
func gcOrder(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if ea, eb := isEvicted(a), isEvicted(b); ea != eb {
			return ea
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// terminatedOverThreshold picks the terminated pods beyond threshold, the
// ones to delete; a threshold of 0 keeps them all.
func terminatedOverThreshold(pods []*corev1.Pod, threshold int) []*corev1.Pod {
	if threshold <= 0 {
		return nil
	}
	var terminated []*corev1.Pod
	for _, p := range pods {
		if isTerminated(p) {
			terminated = append(terminated, p)
		}
	}
	n := len(terminated) - threshold
	if n <= 0 {
		return nil
	}
	gcOrder(terminated)
	return terminated[:n]
}

// unscheduledTerminating are pods being deleted that never got a node: no
// kubelet will ever finish their deletion.
func unscheduledTerminating(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil && p.Spec.NodeName == "" {
			out = append(out, p)
		}
	}
	return out
}

// terminatingOutOfService are pods being deleted on nodes that are not ready
// and carry the node.kubernetes.io/out-of-service taint: their kubelet is
// gone, the user said so.
func terminatingOutOfService(pods []*corev1.Pod, nodes map[string]*corev1.Node) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			continue
		}
		n, ok := nodes[p.Spec.NodeName]
		if !ok || nodeReady(n) || !hasTaint(n, corev1.TaintNodeOutOfService) {
			continue
		}
		out = append(out, p)
	}
	gcOrder(out)
	return out
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hasTaint(n *corev1.Node, key string) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key {
			return true
		}
	}
	return false
}

// quarantine remembers since when pods have named a node the cache does not
// know: only after a while, and a live check, is the node taken as deleted
// (a node just created may not be in the cache yet).
type quarantine struct {
	since map[string]time.Time
}

// observe records the nodes pods name that do not exist, and forgets the
// ones that exist again or no pod names any more.
func (q *quarantine) observe(pods []*corev1.Pod, existing sets.Set[string], now time.Time) {
	named := sets.New[string]()
	for _, p := range pods {
		if n := p.Spec.NodeName; n != "" && !existing.Has(n) {
			named.Insert(n)
			if _, ok := q.since[n]; !ok {
				q.since[n] = now
			}
		}
	}
	for n := range q.since {
		if !named.Has(n) {
			delete(q.since, n)
		}
	}
}

// due returns the nodes missing for at least d, and forgets them: each is
// checked once, and quarantined afresh if pods still name it.
func (q *quarantine) due(now time.Time, d time.Duration) []string {
	var out []string
	for n, since := range q.since {
		if now.Sub(since) >= d {
			out = append(out, n)
			delete(q.since, n)
		}
	}
	sort.Strings(out)
	return out
}
