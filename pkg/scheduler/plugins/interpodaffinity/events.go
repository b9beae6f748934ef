package interpodaffinity

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// EventsToRegister implements fw.EnqueueExtensions: an assigned pod added,
// relabelled or deleted (it may now satisfy or stop violating a term), and a node
// added or relabelled (its topology domains changed).
func (pl *InterPodAffinity) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{
		{Event: fw.ClusterEvent{Resource: fw.Pod, ActionType: fw.Add | fw.UpdatePodLabel | fw.Delete}, QueueingHintFn: isSchedulableAfterPodChange},
		{Event: fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add | fw.UpdateNodeLabel}, QueueingHintFn: isSchedulableAfterNodeChange},
	}, nil
}

// requiredTerms parses the pod's required affinity and anti-affinity terms.
func requiredTerms(pod *corev1.Pod) (affinity, antiAffinity []fw.AffinityTerm, err error) {
	a := pod.Spec.Affinity
	if a == nil {
		return nil, nil, nil
	}
	if a.PodAffinity != nil {
		for i := range a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			t, err := fw.NewAffinityTerm(pod, &a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[i])
			if err != nil {
				return nil, nil, err
			}
			affinity = append(affinity, t)
		}
	}
	if a.PodAntiAffinity != nil {
		for i := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			t, err := fw.NewAffinityTerm(pod, &a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[i])
			if err != nil {
				return nil, nil, err
			}
			antiAffinity = append(antiAffinity, t)
		}
	}
	return affinity, antiAffinity, nil
}

func podMatchesAll(terms []fw.AffinityTerm, p *corev1.Pod) bool {
	return matchesAll(terms, labels.Set(p.Labels), p.Namespace)
}

// isSchedulableAfterPodChange: only assigned pods count. An added pod helps if it
// matches all of the pending pod's affinity terms; a relabelled one if it starts
// matching them or stops matching its anti-affinity terms; a deleted one if it
// matched its anti-affinity terms, or if its own anti-affinity repelled the
// pending pod (upstream added that last case after v1.34: kubernetes#134393).
func isSchedulableAfterPodChange(pod *corev1.Pod, oldObj, newObj interface{}) (fw.QueueingHint, error) {
	oldPod, _ := oldObj.(*corev1.Pod)
	newPod, _ := newObj.(*corev1.Pod)
	if (newPod != nil && newPod.Spec.NodeName == "") || (oldPod != nil && oldPod.Spec.NodeName == "") {
		return fw.QueueSkip, nil
	}
	terms, antiTerms, err := requiredTerms(pod)
	if err != nil {
		return fw.Queue, err
	}
	switch {
	case oldPod != nil && newPod != nil:
		if !podMatchesAll(terms, oldPod) && podMatchesAll(terms, newPod) {
			return fw.Queue, nil
		}
		if podMatchesAll(antiTerms, oldPod) && !podMatchesAll(antiTerms, newPod) {
			return fw.Queue, nil
		}
		return fw.QueueSkip, nil
	case newPod != nil:
		if podMatchesAll(terms, newPod) {
			return fw.Queue, nil
		}
		return fw.QueueSkip, nil
	case oldPod != nil:
		if podMatchesAll(antiTerms, oldPod) {
			return fw.Queue, nil
		}
		// The deleted pod's own anti-affinity may have kept the pending pod away.
		// Its namespace selectors are not resolved here: any may match.
		existing := fw.NewPodInfo(oldPod)
		podLabels := labels.Set(pod.Labels)
		for i := range existing.RequiredAntiAffinityTerms {
			t := &existing.RequiredAntiAffinityTerms[i]
			_, hasNamespaceSelector := t.NamespaceSelector.Requirements()
			if t.Selector.Matches(podLabels) && (t.Namespaces.Has(pod.Namespace) || hasNamespaceSelector) {
				return fw.Queue, nil
			}
		}
		return fw.QueueSkip, nil
	}
	return fw.Queue, nil
}

// isSchedulableAfterNodeChange: an added node helps if it has every affinity
// term's topology key (Filter wants them all); a changed node if it gained an
// affinity term's key or changed its value, or lost or changed an anti-affinity
// term's key. A pod with no required terms was kept away by existing pods'
// anti-affinity, which any relabelling may lift. (Upstream skips an added node
// for such a pod and for one that has only some of the affinity keys.)
func isSchedulableAfterNodeChange(pod *corev1.Pod, oldObj, newObj interface{}) (fw.QueueingHint, error) {
	oldNode, _ := oldObj.(*corev1.Node)
	newNode, _ := newObj.(*corev1.Node)
	if newNode == nil {
		return fw.QueueSkip, nil
	}
	terms, antiTerms, err := requiredTerms(pod)
	if err != nil {
		return fw.Queue, err
	}
	if oldNode == nil {
		for i := range terms {
			if _, ok := newNode.Labels[terms[i].TopologyKey]; !ok {
				return fw.QueueSkip, nil
			}
		}
		return fw.Queue, nil
	}
	if len(terms) == 0 && len(antiTerms) == 0 {
		return fw.Queue, nil
	}
	for i := range terms {
		key := terms[i].TopologyKey
		ov, ook := oldNode.Labels[key]
		nv, nok := newNode.Labels[key]
		if nok && (!ook || ov != nv) {
			return fw.Queue, nil
		}
	}
	for i := range antiTerms {
		key := antiTerms[i].TopologyKey
		ov, ook := oldNode.Labels[key]
		nv, nok := newNode.Labels[key]
		if ook && (!nok || ov != nv) {
			return fw.Queue, nil
		}
	}
	return fw.QueueSkip, nil
}
