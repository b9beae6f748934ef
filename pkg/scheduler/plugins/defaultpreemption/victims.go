package defaultpreemption

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// selectVictimsOnNode finds the fewest, least important pods to remove from the
// node for pod to fit. ni and state are the caller's copies and get changed:
// every lower-priority pod is removed; if the pod fits then, they are put back
// one by one, most important first and those a PodDisruptionBudget protects
// before the others, and each one the pod no longer fits beside is a victim.
// It returns the victims, most important first, and how many of them violate a
// budget. (Affinity of the pod to its victims is not considered, as upstream.)
func (pl *DefaultPreemption) selectVictimsOnNode(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo,
	pdbs []pdbBudget) ([]*corev1.Pod, int, *fw.Status) {
	prio := corev1helpers.PodPriority(pod)
	var potential []*fw.PodInfo
	for _, pi := range ni.Pods {
		if corev1helpers.PodPriority(pi.Pod) < prio {
			potential = append(potential, pi)
		}
	}
	if len(potential) == 0 {
		return nil, 0, fw.NewStatus(fw.UnschedulableAndUnresolvable, msgNoVictims)
	}
	remove := func(pi *fw.PodInfo) error {
		if !ni.RemovePod(pi.Pod) {
			return fmt.Errorf("pod %s/%s is not on node %s", pi.Pod.Namespace, pi.Pod.Name, ni.Node().Name)
		}
		return pl.h.RunPreFilterExtensionRemovePod(ctx, state, pod, pi, ni).AsError()
	}
	add := func(pi *fw.PodInfo) error {
		ni.AddPodInfo(pi)
		return pl.h.RunPreFilterExtensionAddPod(ctx, state, pod, pi, ni).AsError()
	}
	for _, pi := range potential {
		if err := remove(pi); err != nil {
			return nil, 0, fw.AsStatus(err)
		}
	}
	if st := pl.h.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni); !st.IsSuccess() {
		return nil, 0, st
	}

	now := pl.now()
	sort.SliceStable(potential, func(i, j int) bool { return moreImportant(potential[i].Pod, potential[j].Pod, now) })
	violating, nonViolating := splitByBudget(potential, pdbs)
	var victims []*fw.PodInfo
	// reprieve puts a pod back; if the pod no longer fits, it becomes a victim.
	reprieve := func(pi *fw.PodInfo) (bool, error) {
		if err := add(pi); err != nil {
			return false, err
		}
		if pl.h.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni).IsSuccess() {
			return true, nil
		}
		if err := remove(pi); err != nil {
			return false, err
		}
		victims = append(victims, pi)
		return false, nil
	}
	violations := 0
	for _, pi := range violating {
		kept, err := reprieve(pi)
		if err != nil {
			return nil, 0, fw.AsStatus(err)
		}
		if !kept {
			violations++
		}
	}
	for _, pi := range nonViolating {
		if _, err := reprieve(pi); err != nil {
			return nil, 0, fw.AsStatus(err)
		}
	}
	if len(violating) > 0 && len(nonViolating) > 0 {
		// Two runs, each in order: merge them back into one.
		sort.SliceStable(victims, func(i, j int) bool { return moreImportant(victims[i].Pod, victims[j].Pod, now) })
	}
	out := make([]*corev1.Pod, len(victims))
	for i, pi := range victims {
		out[i] = pi.Pod
	}
	return out, violations, nil
}

// moreImportant orders pods by priority, then by start time, the longest
// running first (a pod not started yet counts as starting now).
func moreImportant(a, b *corev1.Pod, now time.Time) bool {
	pa, pb := corev1helpers.PodPriority(a), corev1helpers.PodPriority(b)
	if pa != pb {
		return pa > pb
	}
	return startTime(a, now).Before(startTime(b, now))
}

func startTime(pod *corev1.Pod, now time.Time) time.Time {
	if pod.Status.StartTime != nil {
		return pod.Status.StartTime.Time
	}
	return now
}

// pdbBudget is a PodDisruptionBudget with its selector parsed once per
// preemption.
type pdbBudget struct {
	namespace string
	selector  labels.Selector
	allowed   int32
	disrupted map[string]metav1.Time
}

// listPDBs reads every PodDisruptionBudget; those with a selector that does not
// parse, or an empty one, select nothing and are left out.
func (pl *DefaultPreemption) listPDBs() ([]pdbBudget, error) {
	if pl.pdbs == nil {
		return nil, nil
	}
	list, err := pl.pdbs.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list PodDisruptionBudgets: %w", err)
	}
	out := make([]pdbBudget, 0, len(list))
	for _, pdb := range list {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() {
			continue
		}
		out = append(out, pdbBudget{namespace: pdb.Namespace, selector: sel, allowed: pdb.Status.DisruptionsAllowed,
			disrupted: pdb.Status.DisruptedPods})
	}
	return out, nil
}

// splitByBudget sorts pods, keeping their order, into those whose eviction
// would take some budget below zero and the others. Each pod spends one
// disruption of every budget that selects it, unless the budget already counts
// it as disrupted.
func splitByBudget(pods []*fw.PodInfo, pdbs []pdbBudget) (violating, nonViolating []*fw.PodInfo) {
	allowed := make([]int32, len(pdbs))
	for i := range pdbs {
		allowed[i] = pdbs[i].allowed
	}
	for _, pi := range pods {
		pod := pi.Pod
		violated := false
		if len(pod.Labels) > 0 {
			for i := range pdbs {
				b := &pdbs[i]
				if b.namespace != pod.Namespace || !b.selector.Matches(labels.Set(pod.Labels)) {
					continue
				}
				if _, ok := b.disrupted[pod.Name]; ok {
					continue
				}
				allowed[i]--
				if allowed[i] < 0 {
					violated = true
				}
			}
		}
		if violated {
			violating = append(violating, pi)
		} else {
			nonViolating = append(nonViolating, pi)
		}
	}
	return violating, nonViolating
}
