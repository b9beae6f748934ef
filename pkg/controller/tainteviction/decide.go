package tainteviction

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// verdictKind is what to do about a pod on a node with NoExecute taints.
type verdictKind int

const (
	// keepPod: no taint, or every taint tolerated forever; a scheduled eviction is cancelled.
	keepPod verdictKind = iota
	// evictNow: some taint is not tolerated.
	evictNow
	// evictLater: every taint is tolerated, the shortest for verdict.after.
	evictLater
)

type verdict struct {
	kind  verdictKind
	after time.Duration
}

// decide judges a pod's tolerations against its node's NoExecute taints: a
// taint no toleration matches evicts the pod at once; otherwise the shortest
// tolerationSeconds among the tolerations used says when (zero or less: at
// once; none set: never).
func decide(taints []corev1.Taint, tolerations []corev1.Toleration) verdict {
	if len(taints) == 0 {
		return verdict{kind: keepPod}
	}
	used, ok := matchingTolerations(taints, tolerations)
	if !ok {
		return verdict{kind: evictNow}
	}
	shortest := int64(-1)
	for _, t := range used {
		if t.TolerationSeconds == nil {
			continue
		}
		s := *t.TolerationSeconds
		if s <= 0 {
			return verdict{kind: evictLater, after: 0}
		}
		if shortest < 0 || s < shortest {
			shortest = s
		}
	}
	if shortest < 0 {
		return verdict{kind: keepPod}
	}
	return verdict{kind: evictLater, after: time.Duration(shortest) * time.Second}
}

// matchingTolerations returns, for each taint, the first toleration that
// tolerates it; ok is false when some taint has none.
func matchingTolerations(taints []corev1.Taint, tolerations []corev1.Toleration) ([]corev1.Toleration, bool) {
	var used []corev1.Toleration
	for i := range taints {
		found := false
		for j := range tolerations {
			if tolerations[j].ToleratesTaint(klog.Background(), &taints[i], false) {
				used = append(used, tolerations[j])
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return used, true
}

// noExecuteTaints returns the NoExecute taints of a list.
func noExecuteTaints(taints []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}
