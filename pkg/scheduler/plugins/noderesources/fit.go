package noderesources

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	schedconfig "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// FitName is the NodeResourcesFit plugin's name.
const FitName = names.NodeResourcesFit

const fitStateKey fw.StateKey = "PreFilter" + FitName

// Fit filters nodes without room for the pod and scores the rest.
type Fit struct {
	ignored       sets.Set[string]
	ignoredGroups sets.Set[string]
	scorer        scorer
	strategy      schedconfig.ScoringStrategyType
}

var (
	_ fw.PreFilterPlugin   = &Fit{}
	_ fw.FilterPlugin      = &Fit{}
	_ fw.ScorePlugin       = &Fit{}
	_ fw.EnqueueExtensions = &Fit{}
)

// DefaultFitArgs are upstream's defaults: LeastAllocated over cpu and memory.
func DefaultFitArgs() *schedconfig.NodeResourcesFitArgs {
	return &schedconfig.NodeResourcesFitArgs{ScoringStrategy: &schedconfig.ScoringStrategy{
		Type: schedconfig.LeastAllocated, Resources: append([]schedconfig.ResourceSpec(nil), defaultResources...)}}
}

// NewFit makes the plugin from NodeResourcesFitArgs (nil: the defaults).
func NewFit(_ context.Context, args runtime.Object, _ fw.Handle) (fw.Plugin, error) {
	a, ok := args.(*schedconfig.NodeResourcesFitArgs)
	if args != nil && !ok {
		return nil, fmt.Errorf("want args to be of type NodeResourcesFitArgs, got %T", args)
	}
	if a == nil {
		a = DefaultFitArgs()
	}
	if err := ValidateFitArgs(a); err != nil {
		return nil, err
	}
	st := a.ScoringStrategy
	if st == nil {
		st = DefaultFitArgs().ScoringStrategy
	}
	res := st.Resources
	if len(res) == 0 {
		res = defaultResources
	}
	f := &Fit{ignored: sets.New(a.IgnoredResources...), ignoredGroups: sets.New(a.IgnoredResourceGroups...), strategy: st.Type}
	rw := toResourceWeights(res)
	switch st.Type {
	case schedconfig.LeastAllocated, "":
		f.scorer = scorer{resources: rw, score: leastRequestedScore, nonZero: true}
	case schedconfig.MostAllocated:
		f.scorer = scorer{resources: rw, score: mostRequestedScore, nonZero: true}
	case schedconfig.RequestedToCapacityRatio:
		f.scorer = scorer{resources: rw, score: ratioScorer(st.RequestedToCapacityRatio.Shape), nonZero: true, ratio: true}
	}
	return f, nil
}

// Name implements fw.Plugin.
func (*Fit) Name() string { return FitName }

type fitState struct{ pi *fw.PodInfo }

func (s *fitState) Clone() fw.StateData { return s }

// PreFilter implements fw.PreFilterPlugin.
func (f *Fit) PreFilter(_ context.Context, state *fw.CycleState, pod *corev1.Pod, _ []*fw.NodeInfo) (*fw.PreFilterResult, *fw.Status) {
	state.Write(fitStateKey, &fitState{pi: state.PodInfoFor(pod)})
	return nil, nil
}

// PreFilterExtensions implements fw.PreFilterPlugin.
func (*Fit) PreFilterExtensions() fw.PreFilterExtensions { return nil }

func podInfoFrom(state *fw.CycleState, pod *corev1.Pod) *fw.PodInfo {
	if d, ok := state.Read(fitStateKey); ok {
		return d.(*fitState).pi
	}
	return fw.NewPodInfo(pod)
}

// Filter implements fw.FilterPlugin. A node that could never hold the pod, even
// empty, is unresolvable: preemption cannot help there.
func (f *Fit) Filter(_ context.Context, state *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	insufficient := f.Insufficient(podInfoFrom(state, pod), ni)
	if len(insufficient) == 0 {
		return nil
	}
	code := fw.Unschedulable
	reasons := make([]string, 0, len(insufficient))
	for _, r := range insufficient {
		reasons = append(reasons, r.Reason)
		if r.Unresolvable {
			code = fw.UnschedulableAndUnresolvable
		}
	}
	return fw.NewStatus(code, reasons...)
}

// InsufficientResource is one resource the node lacks.
type InsufficientResource struct {
	ResourceName corev1.ResourceName
	Reason       string
	Requested    int64
	Used         int64
	Capacity     int64
	// Unresolvable: the node's whole allocatable is less than the request.
	Unresolvable bool
}

// Insufficient lists what the node lacks for the pod, in upstream's order.
func (f *Fit) Insufficient(pi *fw.PodInfo, ni *fw.NodeInfo) []InsufficientResource {
	var out []InsufficientResource
	if allowed := ni.Allocatable.AllowedPodNumber; int64(len(ni.Pods))+1 > allowed {
		out = append(out, InsufficientResource{ResourceName: corev1.ResourcePods, Reason: "Too many pods", Requested: 1,
			Used: int64(len(ni.Pods)), Capacity: allowed, Unresolvable: allowed < 1})
	}
	req := &pi.Requests
	if req.MilliCPU == 0 && req.Memory == 0 && req.EphemeralStorage == 0 && len(req.Scalar) == 0 {
		return out
	}
	check := func(name corev1.ResourceName, reason string, want, used, alloc int64) {
		if want > 0 && alloc < want+used {
			out = append(out, InsufficientResource{ResourceName: name, Reason: reason, Requested: want, Used: used, Capacity: alloc,
				Unresolvable: alloc < want})
		}
	}
	check(corev1.ResourceCPU, "Insufficient cpu", req.MilliCPU, ni.Requested.MilliCPU, ni.Allocatable.MilliCPU)
	check(corev1.ResourceMemory, "Insufficient memory", req.Memory, ni.Requested.Memory, ni.Allocatable.Memory)
	check(corev1.ResourceEphemeralStorage, "Insufficient ephemeral-storage", req.EphemeralStorage, ni.Requested.EphemeralStorage, ni.Allocatable.EphemeralStorage)
	for name, want := range req.Scalar {
		if f.isIgnored(name) || want == 0 {
			continue
		}
		check(name, fmt.Sprintf("Insufficient %v", name), want, ni.Requested.Scalar[name], ni.Allocatable.Scalar[name])
	}
	return out
}

// isIgnored says whether an extended resource is left to something else
// (ignoredResources, ignoredResourceGroups by domain prefix).
func (f *Fit) isIgnored(name corev1.ResourceName) bool {
	if !isExtended(name) {
		return false
	}
	if f.ignored.Has(string(name)) {
		return true
	}
	if i := strings.Index(string(name), "/"); i > 0 && f.ignoredGroups.Has(string(name)[:i]) {
		return true
	}
	return false
}

// isExtended is true for domain-prefixed resources outside kubernetes.io and
// requests.-prefixed names (hugepages and attachable volumes are not extended).
func isExtended(name corev1.ResourceName) bool {
	s := string(name)
	if !strings.Contains(s, "/") || strings.HasPrefix(s, corev1.ResourceDefaultNamespacePrefix) || strings.HasPrefix(s, "requests.") {
		return false
	}
	return true
}

// Score implements fw.ScorePlugin.
func (f *Fit) Score(_ context.Context, state *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) (int64, *fw.Status) {
	return f.scorer.scoreNode(podInfoFrom(state, pod), ni), nil
}

// ScoreExtensions implements fw.ScorePlugin.
func (*Fit) ScoreExtensions() fw.ScoreExtensions { return nil }

// EventsToRegister implements fw.EnqueueExtensions: room freed by a pod deleted
// or scaled down, or a node added or grown that could hold the pod.
func (f *Fit) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{
		{Event: fw.ClusterEvent{Resource: fw.AssignedPod, ActionType: fw.Delete | fw.UpdatePodScaleDown}},
		{Event: fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add | fw.UpdateNodeAllocatable | fw.UpdateNodeTaint | fw.UpdateNodeLabel},
			QueueingHintFn: f.isSchedulableAfterNodeChange},
		{Event: fw.ClusterEvent{Resource: fw.UnscheduledPod, ActionType: fw.UpdatePodScaleDown}},
	}, nil
}

func (f *Fit) isSchedulableAfterNodeChange(pod *corev1.Pod, _, newObj interface{}) (fw.QueueingHint, error) {
	n, ok := newObj.(*corev1.Node)
	if !ok {
		return fw.Queue, nil
	}
	empty := fw.NewNodeInfo()
	empty.SetNode(n)
	for _, r := range f.Insufficient(fw.NewPodInfo(pod), empty) {
		if r.Unresolvable {
			return fw.QueueSkip, nil
		}
	}
	return fw.Queue, nil
}
