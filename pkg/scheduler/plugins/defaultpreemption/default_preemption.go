// Package defaultpreemption is the DefaultPreemption plugin. When a pod fits on
// no node, it looks for nodes where removing pods of lower priority would make
// room (a dry run on copies of the nodes), picks the node where that hurts
// least, evicts those pods and nominates the node for the pod, which the
// scheduler then holds for it until the victims are gone.
package defaultpreemption

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.DefaultPreemption

// Upstream's messages; PostFilter prefixes each with "preemption: ".
const (
	msgPreemptionPolicyNever  = "not eligible due to preemptionPolicy=Never."
	msgTerminatingOnNominated = "not eligible due to a terminating pod on the nominated node."
	msgNoVictims              = "No preemption victims found for incoming pod"
	msgNotHelpful             = "Preemption is not helpful for scheduling"
)

// DefaultPreemption evicts lower-priority pods to make room for a pod that fits
// nowhere.
type DefaultPreemption struct {
	h    fw.Handle
	args Args
	pods corelisters.PodLister
	pdbs policylisters.PodDisruptionBudgetLister

	// randomOffset picks where among the candidate nodes the dry run starts, so
	// that preemption does not always fall on the same nodes.
	randomOffset func(n int32) int32
	// now dates pods that have not started yet (they count as the newest).
	now func() time.Time
	// evict marks a victim as disrupted and deletes it; false when it was
	// already gone. Tests replace it.
	evict func(ctx context.Context, preemptor, victim *corev1.Pod, node string) (bool, error)
	// clearNomination removes a pod's nominated node. Tests replace it.
	clearNomination func(ctx context.Context, pod *corev1.Pod) error
}

var _ fw.PostFilterPlugin = &DefaultPreemption{}

// New makes the plugin from DefaultPreemptionArgs (nil: the defaults).
func New(_ context.Context, obj runtime.Object, h fw.Handle) (fw.Plugin, error) {
	args, err := ArgsFrom(obj)
	if err != nil {
		return nil, err
	}
	if errs := ValidateArgs(nil, args); len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	pl := &DefaultPreemption{
		h:            h,
		args:         args,
		pods:         h.SharedInformerFactory().Core().V1().Pods().Lister(),
		pdbs:         h.SharedInformerFactory().Policy().V1().PodDisruptionBudgets().Lister(),
		randomOffset: func(n int32) int32 { return rand.Int32N(n) },
		now:          time.Now,
	}
	pl.evict = pl.evictThroughAPI
	pl.clearNomination = pl.clearNominationThroughAPI
	return pl, nil
}

// Name implements fw.Plugin.
func (*DefaultPreemption) Name() string { return Name }

// PostFilter implements fw.PostFilterPlugin. Success nominates a node whose
// victims are on their way out; a rejection says why preemption cannot help
// (and a non-nil result then clears a nomination that no longer holds).
func (pl *DefaultPreemption) PostFilter(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, m *fw.NodeToStatus) (*fw.PostFilterResult, *fw.Status) {
	res, st := pl.preempt(ctx, state, pod, m)
	if msg := st.Message(); msg != "" {
		return res, fw.NewStatus(st.Code(), "preemption: "+msg)
	}
	return res, st
}

func (pl *DefaultPreemption) preempt(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, m *fw.NodeToStatus) (*fw.PostFilterResult, *fw.Status) {
	// The queued copy may be older than the informer's: its nomination and
	// status are what eligibility and the nomination patch go by.
	latest, err := pl.pods.Pods(pod.Namespace).Get(pod.Name)
	if err != nil {
		return nil, fw.AsStatus(err)
	}
	if ok, msg := pl.eligible(latest, m.Get(latest.Status.NominatedNodeName)); !ok {
		return nil, fw.NewStatus(fw.Unschedulable, msg)
	}

	lister := pl.h.SnapshotSharedLister()
	numAll := lister.NumNodes()
	if numAll == 0 {
		return nil, fw.AsStatus(fmt.Errorf("no nodes available"))
	}
	// Most failed pods have nothing of lower priority anywhere to take the place
	// of: then every node that failed on something removing pods could fix
	// says so at once, with no copies, budgets, filters or status per node.
	if !anyLowerPriorityPod(lister.List(), corev1helpers.PodPriority(latest)) {
		return &fw.PostFilterResult{}, fw.NewStatus(fw.Unschedulable, noCandidatesMessage(numAll, m.CountWithCode(numAll, fw.Unschedulable)))
	}
	// Only nodes that failed on something removing pods can fix are worth a try.
	potential := m.NodesWithCode(lister, fw.Unschedulable)
	candidates, statuses, err := pl.findCandidates(ctx, state, latest, potential)
	if err != nil && len(candidates) == 0 {
		return nil, fw.AsStatus(err)
	}
	if len(candidates) == 0 {
		statuses.AbsentStatus = fw.NewStatus(fw.UnschedulableAndUnresolvable, msgNotHelpful)
		fitErr := &fw.FitError{NumAllNodes: numAll, Diagnosis: fw.Diagnosis{NodeToStatus: statuses}}
		// A nomination from an earlier preemption is cleared: it no longer helps.
		return &fw.PostFilterResult{}, fw.NewStatus(fw.Unschedulable, fitErr.Error())
	}
	best := pickCandidate(candidates, pl.now())
	if st := pl.prepare(ctx, best, latest); !st.IsSuccess() {
		return nil, st
	}
	return &fw.PostFilterResult{NominatedNodeName: best.node}, nil
}

// noCandidatesMessage is the message of a preemption with nothing to preempt on
// the potential nodes, the others being of no help: what the FitError of the
// dry run would say.
func noCandidatesMessage(numAll, numPotential int) string {
	return fw.NodesUnavailableMessage(numAll, map[string]int{msgNoVictims: numPotential, msgNotHelpful: numAll - numPotential})
}

// eligible says whether the pod may preempt now: not with preemptionPolicy
// Never, and not while lower-priority pods it already preempted on its
// nominated node are still terminating (unless filters now rule that node out
// for good).
func (pl *DefaultPreemption) eligible(pod *corev1.Pod, nominatedStatus *fw.Status) (bool, string) {
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy == corev1.PreemptNever {
		return false, msgPreemptionPolicyNever
	}
	nominated := pod.Status.NominatedNodeName
	if nominated == "" || nominatedStatus.Code() == fw.UnschedulableAndUnresolvable {
		return true, ""
	}
	ni, err := pl.h.SnapshotSharedLister().Get(nominated)
	if err != nil {
		return true, ""
	}
	prio := corev1helpers.PodPriority(pod)
	for _, pi := range ni.Pods {
		if corev1helpers.PodPriority(pi.Pod) < prio && terminatingByPreemption(pi.Pod) {
			return false, msgTerminatingOnNominated
		}
	}
	return true, ""
}

// terminatingByPreemption is true for a pod being deleted because the scheduler
// preempted it.
func terminatingByPreemption(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp == nil {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget {
			return c.Status == corev1.ConditionTrue && c.Reason == corev1.PodReasonPreemptionByScheduler
		}
	}
	return false
}
