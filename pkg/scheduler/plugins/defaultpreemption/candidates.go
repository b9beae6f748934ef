package defaultpreemption

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// candidate is a node where the pod would fit once victims are gone.
type candidate struct {
	node string
	// victims are ordered most important first.
	victims []*corev1.Pod
	// pdbViolations counts victims whose eviction a PodDisruptionBudget forbids.
	pdbViolations int
}

// findCandidates dry-runs preemption on the potential nodes, from a random
// offset, until enough candidates are found (upstream's sample: a share of
// the nodes, at least an absolute number). It returns why each node it tried
// and rejected is no candidate.
func (pl *DefaultPreemption) findCandidates(ctx context.Context, state *fw.CycleState, pod *corev1.Pod,
	potential []*fw.NodeInfo) ([]*candidate, *fw.NodeToStatus, error) {
	if len(potential) == 0 {
		return nil, fw.NewNodeToStatus(), nil
	}
	pdbs, err := pl.listPDBs()
	if err != nil {
		return nil, nil, err
	}
	n := int32(len(potential))
	return pl.dryRun(ctx, state, pod, potential, pdbs, pl.randomOffset(n), max(pl.args.numCandidates(n), 1))
}

// dryRun tries the nodes in parallel, starting at offset, and stops once it has
// want candidates of which at least one violates no PodDisruptionBudget. The
// candidates come back violation-free ones first.
func (pl *DefaultPreemption) dryRun(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, potential []*fw.NodeInfo,
	pdbs []pdbBudget, offset, want int32) ([]*candidate, *fw.NodeToStatus, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(potential)
	prio := corev1helpers.PodPriority(pod)
	noVictims := fw.NewStatus(fw.UnschedulableAndUnresolvable, msgNoVictims)
	rejected := make([]*fw.Status, n)
	var mu sync.Mutex
	var clean, violating []*candidate
	check := func(i int) {
		ni := potential[(int(offset)+i)%n]
		if !hasLowerPriorityPod(ni, prio) {
			rejected[i] = noVictims
			return
		}
		victims, violations, st := pl.selectVictimsOnNode(ctx, state.Clone(), pod, ni.Clone(), pdbs)
		if st.IsSuccess() && len(victims) == 0 {
			st = fw.AsStatus(fmt.Errorf("expected at least one victim pod on node %q", ni.Node().Name))
		}
		if !st.IsSuccess() {
			rejected[i] = st
			return
		}
		c := &candidate{node: ni.Node().Name, victims: victims, pdbViolations: violations}
		mu.Lock()
		defer mu.Unlock()
		if violations == 0 {
			if int32(len(clean)) < want {
				clean = append(clean, c)
			}
		} else if int32(len(violating)) < want {
			violating = append(violating, c)
		}
		if len(clean) > 0 && int32(len(clean)+len(violating)) >= want {
			cancel()
		}
	}
	pl.h.Parallelizer().Until(ctx, n, check)

	statuses := fw.NewNodeToStatus()
	var errs []error
	for i, st := range rejected {
		if st == nil {
			continue
		}
		if st.Code() == fw.Error {
			errs = append(errs, st.AsError())
		}
		statuses.Set(potential[(int(offset)+i)%n].Node().Name, st)
	}
	return append(clean, violating...), statuses, utilerrors.NewAggregate(errs)
}

// anyLowerPriorityPod says whether any of the nodes has a pod of lower priority
// than prio.
func anyLowerPriorityPod(nodes []*fw.NodeInfo, prio int32) bool {
	for _, ni := range nodes {
		if hasLowerPriorityPod(ni, prio) {
			return true
		}
	}
	return false
}

// hasLowerPriorityPod says whether the node has a pod of lower priority than prio.
func hasLowerPriorityPod(ni *fw.NodeInfo, prio int32) bool {
	for _, pi := range ni.Pods {
		if corev1helpers.PodPriority(pi.Pod) < prio {
			return true
		}
	}
	return false
}
