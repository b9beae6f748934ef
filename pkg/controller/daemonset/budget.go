package daemonset

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/kubectl/pkg/util/podutils"
)

// surge is maxSurge of n nodes (rounded up), 0 unless the DaemonSet rolls.
func surge(ds *appsv1.DaemonSet, n int) (int, error) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil || ru.MaxSurge == nil {
		return 0, nil
	}
	return intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, n, true)
}

// unavailableBudget is maxUnavailable of n nodes (rounded up), 0 unless the DaemonSet rolls.
func unavailableBudget(ds *appsv1.DaemonSet, n int) (int, error) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil {
		return 0, nil
	}
	return intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, n, true)
}

// allowsSurge: a node may hold an old and a new pod at once during an update.
func allowsSurge(ds *appsv1.DaemonSet) bool {
	n, err := surge(ds, 1)
	return err == nil && n > 0
}

// rollout is what a rolling update step does.
type rollout struct {
	// remove are old (or surplus) pods to delete.
	remove []*corev1.Pod
	// create are nodes that get a new pod next to their old one (surge).
	create []string
}

// rollingUpdate plans one step of a RollingUpdate. Without surge, old pods are
// deleted (the manage step then creates their replacements) while no more than
// maxUnavailable nodes are without an available pod; an old pod that is not
// available anyway may always go. With surge, a new pod is created next to an
// old one on at most maxSurge nodes at a time (at once where the old one is
// not available), and the old one goes when the new one is available.
// byNode holds the set's pods by node, with an empty entry for every node
// that should run one; nodes maps names to nodes.
func rollingUpdate(ds *appsv1.DaemonSet, nodes map[string]*corev1.Node, byNode map[string][]*corev1.Pod, desired int, hash string, now time.Time) (rollout, error) {
	maxSurge, err := surge(ds, desired)
	if err != nil {
		return rollout{}, err
	}
	maxUnavailable, err := unavailableBudget(ds, desired)
	if err != nil {
		return rollout{}, err
	}
	if desired > 0 && maxSurge == 0 && maxUnavailable == 0 {
		// The API refuses both zero; should it slip through, progress one at a time.
		maxUnavailable = 1
	}
	available := func(p *corev1.Pod) bool {
		return podutils.IsPodAvailable(p, ds.Spec.MinReadySeconds, metav1.NewTime(now))
	}
	generation := templateGeneration(ds)
	names := make([]string, 0, len(byNode))
	for name := range byNode {
		names = append(names, name)
	}
	sort.Strings(names)

	var out rollout
	if maxSurge == 0 {
		unavailable := 0
		var replace, candidates []*corev1.Pod
		for _, name := range names {
			newPod, oldPod, ok := splitByRevision(byNode[name], hash, generation)
			switch {
			case !ok:
				// Several pods of a kind: the manage step trims them; count the node as down.
				unavailable++
			case (oldPod == nil) == (newPod == nil):
				// Nothing here yet, or both: the manage step acts; count it as down.
				unavailable++
			case newPod != nil:
				if !available(newPod) {
					unavailable++
				}
			case !available(oldPod):
				replace = append(replace, oldPod)
				unavailable++
			case unavailable < maxUnavailable:
				candidates = append(candidates, oldPod)
			}
		}
		room := min(max(maxUnavailable-unavailable, 0), len(candidates))
		out.remove = append(replace, candidates[:room]...)
		return out, nil
	}

	var retiring []*corev1.Pod // old pods on nodes that no longer want one
	var replaceNow, candidates []string
	surged, availableCount := 0, 0
	for _, name := range names {
		newPod, oldPod, ok := splitByRevision(byNode[name], hash, generation)
		if !ok {
			surged++
			continue
		}
		if oldPod != nil && available(oldPod) || oldPod == nil && newPod != nil && available(newPod) {
			availableCount++
		}
		switch {
		case oldPod == nil:
			// Nothing to replace; the manage step looks after the node.
		case newPod == nil:
			node := nodes[name]
			wanted := false
			if node != nil {
				wanted, _ = shouldRun(node, ds)
			}
			switch {
			case !available(oldPod) && !wanted:
				out.remove = append(out.remove, oldPod)
			case !available(oldPod):
				replaceNow = append(replaceNow, name)
			case !wanted:
				retiring = append(retiring, oldPod)
			case surged < maxSurge:
				candidates = append(candidates, name)
			}
		case !available(newPod):
			surged++
		default:
			out.remove = append(out.remove, oldPod)
		}
	}
	// Old pods on nodes that stopped matching go only as far as the others
	// make up for them: with surge, availability is never traded away.
	if extra := min(availableCount-desired, len(retiring)); extra > 0 {
		out.remove = append(out.remove, retiring[:extra]...)
	}
	room := min(max(maxSurge-surged, 0), len(candidates))
	out.create = append(replaceNow, candidates[:room]...)
	return out, nil
}

// splitByRevision finds the one new and the one old live pod on a node; ok is
// false when there are more of either.
func splitByRevision(pods []*corev1.Pod, hash string, generation *int64) (newPod, oldPod *corev1.Pod, ok bool) {
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if isUpdated(p, hash, generation) {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = p
		} else {
			if oldPod != nil {
				return nil, nil, false
			}
			oldPod = p
		}
	}
	return newPod, oldPod, true
}
