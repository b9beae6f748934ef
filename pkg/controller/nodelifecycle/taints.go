package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	// unreachableNoExecute and notReadyNoExecute evict pods from a node whose
	// Ready condition is Unknown or False; a node has at most one of them.
	unreachableNoExecute = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	notReadyNoExecute    = corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
)

// conditionTaintKeys maps a condition and status to the NoSchedule taint it
// brings (upstream's TaintNodesByCondition).
var conditionTaintKeys = map[corev1.NodeConditionType]map[corev1.ConditionStatus]string{
	corev1.NodeReady: {
		corev1.ConditionFalse:   corev1.TaintNodeNotReady,
		corev1.ConditionUnknown: corev1.TaintNodeUnreachable,
	},
	corev1.NodeMemoryPressure:     {corev1.ConditionTrue: corev1.TaintNodeMemoryPressure},
	corev1.NodeDiskPressure:       {corev1.ConditionTrue: corev1.TaintNodeDiskPressure},
	corev1.NodeNetworkUnavailable: {corev1.ConditionTrue: corev1.TaintNodeNetworkUnavailable},
	corev1.NodePIDPressure:        {corev1.ConditionTrue: corev1.TaintNodePIDPressure},
}

// conditionTaintOwned lists the NoSchedule taint keys the controller manages;
// other NoSchedule taints are the user's and left alone.
var conditionTaintOwned = map[string]bool{
	corev1.TaintNodeNotReady: true, corev1.TaintNodeUnreachable: true, corev1.TaintNodeMemoryPressure: true,
	corev1.TaintNodeDiskPressure: true, corev1.TaintNodeNetworkUnavailable: true, corev1.TaintNodePIDPressure: true,
	corev1.TaintNodeUnschedulable: true,
}

// conditionTaints returns the NoSchedule taints a node's conditions and
// spec.unschedulable call for.
func conditionTaints(node *corev1.Node) []corev1.Taint {
	var out []corev1.Taint
	for _, c := range node.Status.Conditions {
		if key, ok := conditionTaintKeys[c.Type][c.Status]; ok {
			out = append(out, corev1.Taint{Key: key, Effect: corev1.TaintEffectNoSchedule})
		}
	}
	if node.Spec.Unschedulable {
		out = append(out, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule})
	}
	return out
}

// noScheduleChanges compares the NoSchedule taints a node should carry with
// the managed ones it carries, by key.
func noScheduleChanges(node *corev1.Node) (add, remove []corev1.Taint) {
	want := conditionTaints(node)
	var have []corev1.Taint
	for _, t := range node.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule && conditionTaintOwned[t.Key] {
			have = append(have, t)
		}
	}
	for _, w := range want {
		if !hasTaint(have, w) {
			add = append(add, w)
		}
	}
	for _, h := range have {
		if !hasTaint(want, h) {
			remove = append(remove, h)
		}
	}
	return add, remove
}

// noExecuteFor returns the NoExecute taint a Ready status calls for and the one
// it excludes; ok is false for a Ready node.
func noExecuteFor(ready corev1.ConditionStatus) (want, opposite corev1.Taint, ok bool) {
	switch ready {
	case corev1.ConditionFalse:
		return notReadyNoExecute, unreachableNoExecute, true
	case corev1.ConditionUnknown:
		return unreachableNoExecute, notReadyNoExecute, true
	}
	return corev1.Taint{}, corev1.Taint{}, false
}

// hasTaint reports whether list has a taint with t's key and effect.
func hasTaint(list []corev1.Taint, t corev1.Taint) bool {
	for i := range list {
		if list[i].MatchTaint(&t) {
			return true
		}
	}
	return false
}

// applyTaints returns taints with remove dropped and add added (replacing a
// taint of the same key and effect), each added taint stamped with now; changed
// reports whether anything differs.
func applyTaints(taints []corev1.Taint, add, remove []corev1.Taint, now time.Time) ([]corev1.Taint, bool) {
	stamp := metav1.NewTime(now)
	changed := false
	out := make([]corev1.Taint, 0, len(taints)+len(add))
	for _, t := range taints {
		if hasTaint(remove, t) || hasTaint(add, t) {
			if hasTaint(remove, t) && !hasTaint(add, t) {
				changed = true
				continue
			}
			// Replaced below unless it already says the same.
			if sameTaint(t, add) {
				out = append(out, t)
			}
			continue
		}
		out = append(out, t)
	}
	for _, a := range add {
		if hasTaint(out, a) {
			continue
		}
		a.TimeAdded = &stamp
		out = append(out, a)
		changed = true
	}
	return out, changed
}

// sameTaint reports whether the taint in add matching t has t's value (the time
// it was added is kept).
func sameTaint(t corev1.Taint, add []corev1.Taint) bool {
	for _, a := range add {
		if a.MatchTaint(&t) {
			return a.Value == t.Value
		}
	}
	return false
}
