package podtopologyspread

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/labels"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// EventsToRegister implements fw.EnqueueExtensions: assigned pods of the
// namespace added, relabelled or deleted (the counts change), the pod's own
// tolerations changed (nodeTaintsPolicy Honor), and nodes added, deleted,
// relabelled or retainted (the domains change).
func (pl *PodTopologySpread) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{
		{Event: fw.ClusterEvent{Resource: fw.Pod, ActionType: fw.Add | fw.UpdatePodLabel | fw.UpdatePodToleration | fw.Delete}, QueueingHintFn: pl.isSchedulableAfterPodChange},
		{Event: fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add | fw.Delete | fw.UpdateNodeLabel | fw.UpdateNodeTaint}, QueueingHintFn: pl.isSchedulableAfterNodeChange},
	}, nil
}

// involved: the changed pod is the pending pod itself, or an assigned pod of its
// namespace.
func involved(changed, pending *corev1.Pod) bool {
	return changed.UID == pending.UID || (changed.Spec.NodeName != "" && changed.Namespace == pending.Namespace)
}

func (pl *PodTopologySpread) isSchedulableAfterPodChange(pod *corev1.Pod, oldObj, newObj interface{}) (fw.QueueingHint, error) {
	oldPod, _ := oldObj.(*corev1.Pod)
	newPod, _ := newObj.(*corev1.Pod)
	if (newPod != nil && !involved(newPod, pod)) || (oldPod != nil && !involved(oldPod, pod)) {
		return fw.QueueSkip, nil
	}
	cs, err := pl.constraintsFor(pod, corev1.DoNotSchedule)
	if err != nil {
		return fw.Queue, err
	}
	matchesAny := func(p *corev1.Pod) bool {
		for i := range cs {
			if cs[i].selector.Matches(labels.Set(p.Labels)) {
				return true
			}
		}
		return false
	}
	switch {
	case oldPod != nil && newPod != nil:
		if pod.UID == newPod.UID && !equality.Semantic.DeepEqual(newPod.Spec.Tolerations, oldPod.Spec.Tolerations) {
			for i := range cs {
				if cs[i].nodeTaintsPolicy == corev1.NodeInclusionPolicyHonor {
					return fw.Queue, nil
				}
			}
		}
		if equality.Semantic.DeepEqual(newPod.Labels, oldPod.Labels) {
			return fw.QueueSkip, nil
		}
		for i := range cs {
			if cs[i].selector.Matches(labels.Set(oldPod.Labels)) != cs[i].selector.Matches(labels.Set(newPod.Labels)) {
				return fw.Queue, nil
			}
		}
		return fw.QueueSkip, nil
	case newPod != nil:
		if matchesAny(newPod) {
			return fw.Queue, nil
		}
		return fw.QueueSkip, nil
	case oldPod != nil:
		if matchesAny(oldPod) {
			return fw.Queue, nil
		}
		return fw.QueueSkip, nil
	}
	return fw.Queue, nil
}

func (pl *PodTopologySpread) isSchedulableAfterNodeChange(pod *corev1.Pod, oldObj, newObj interface{}) (fw.QueueingHint, error) {
	oldNode, _ := oldObj.(*corev1.Node)
	newNode, _ := newObj.(*corev1.Node)
	cs, err := pl.constraintsFor(pod, corev1.DoNotSchedule)
	if err != nil {
		return fw.Queue, err
	}
	var oldMatch, newMatch bool
	if oldNode != nil {
		oldMatch = hasAllKeys(oldNode.Labels, cs)
	}
	if newNode != nil {
		newMatch = hasAllKeys(newNode.Labels, cs)
	}
	switch {
	case oldNode != nil && newNode != nil:
		if oldMatch != newMatch {
			return fw.Queue, nil
		}
		if newMatch && (topologyValuesChanged(oldNode.Labels, newNode.Labels, cs) || !equality.Semantic.DeepEqual(oldNode.Spec.Taints, newNode.Spec.Taints)) {
			return fw.Queue, nil
		}
		return fw.QueueSkip, nil
	case newNode != nil:
		if newMatch {
			return fw.Queue, nil
		}
		return fw.QueueSkip, nil
	case oldNode != nil:
		if oldMatch {
			return fw.Queue, nil
		}
		return fw.QueueSkip, nil
	}
	return fw.Queue, nil
}

func topologyValuesChanged(oldLabels, newLabels map[string]string, cs []constraint) bool {
	for i := range cs {
		if oldLabels[cs[i].topologyKey] != newLabels[cs[i].topologyKey] {
			return true
		}
	}
	return false
}
