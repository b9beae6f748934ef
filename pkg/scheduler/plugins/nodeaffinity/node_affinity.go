// Package nodeaffinity is the NodeAffinity plugin: a pod's nodeSelector and
// required node affinity filter nodes, its preferred node affinity scores them;
// the profile may add affinity of its own (NodeAffinityArgs.addedAffinity).
package nodeaffinity

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	schedconfig "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/helper"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.NodeAffinity

// Upstream's reasons.
const (
	ErrReasonPod      = "node(s) didn't match Pod's node affinity/selector"
	errReasonEnforced = "node(s) didn't match scheduler-enforced node affinity"
	errReasonConflict = "pod affinity terms conflict"
)

const (
	preFilterKey fw.StateKey = "PreFilter" + Name
	preScoreKey  fw.StateKey = "PreScore" + Name
)

// NodeAffinity filters and scores nodes by labels.
type NodeAffinity struct {
	addedNodeSelector   *nodeaffinity.NodeSelector
	addedPrefSchedTerms *nodeaffinity.PreferredSchedulingTerms
}

var (
	_ fw.PreFilterPlugin   = &NodeAffinity{}
	_ fw.FilterPlugin      = &NodeAffinity{}
	_ fw.PreScorePlugin    = &NodeAffinity{}
	_ fw.ScorePlugin       = &NodeAffinity{}
	_ fw.EnqueueExtensions = &NodeAffinity{}
)

// New makes the plugin from NodeAffinityArgs (nil: no added affinity).
func New(_ context.Context, args runtime.Object, _ fw.Handle) (fw.Plugin, error) {
	pl := &NodeAffinity{}
	a, ok := args.(*schedconfig.NodeAffinityArgs)
	if args != nil && !ok {
		return nil, fmt.Errorf("want args to be of type NodeAffinityArgs, got %T", args)
	}
	if a == nil || a.AddedAffinity == nil {
		return pl, nil
	}
	var err error
	if ns := a.AddedAffinity.RequiredDuringSchedulingIgnoredDuringExecution; ns != nil {
		if pl.addedNodeSelector, err = nodeaffinity.NewNodeSelector(ns); err != nil {
			return nil, fmt.Errorf("addedAffinity: %w", err)
		}
	}
	if terms := a.AddedAffinity.PreferredDuringSchedulingIgnoredDuringExecution; len(terms) > 0 {
		if pl.addedPrefSchedTerms, err = nodeaffinity.NewPreferredSchedulingTerms(terms); err != nil {
			return nil, fmt.Errorf("addedAffinity: %w", err)
		}
	}
	return pl, nil
}

// Name implements fw.Plugin.
func (*NodeAffinity) Name() string { return Name }

type preFilterState struct {
	required nodeaffinity.RequiredNodeAffinity
}

func (s *preFilterState) Clone() fw.StateData { return s }

// PreFilter implements fw.PreFilterPlugin: it parses the pod's selectors once, and
// when every required term names nodes by metadata.name, narrows to those nodes.
func (pl *NodeAffinity) PreFilter(_ context.Context, state *fw.CycleState, pod *corev1.Pod, _ []*fw.NodeInfo) (*fw.PreFilterResult, *fw.Status) {
	aff := pod.Spec.Affinity
	noRequired := aff == nil || aff.NodeAffinity == nil || aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil
	if noRequired && pl.addedNodeSelector == nil && len(pod.Spec.NodeSelector) == 0 {
		return nil, fw.NewStatus(fw.Skip)
	}
	state.Write(preFilterKey, &preFilterState{required: nodeaffinity.GetRequiredNodeAffinity(pod)})
	if noRequired {
		return nil, nil
	}
	terms := aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	var union map[string]struct{}
	for _, t := range terms {
		names := namesOfTerm(t)
		if names == nil {
			return nil, nil
		}
		if union == nil {
			union = map[string]struct{}{}
		}
		for n := range names {
			union[n] = struct{}{}
		}
	}
	if union == nil {
		return nil, nil
	}
	if len(union) == 0 {
		return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, errReasonConflict)
	}
	return &fw.PreFilterResult{NodeNames: union}, nil
}

// namesOfTerm gives the node names a term's metadata.name field requirements allow,
// or nil if it has none.
func namesOfTerm(t corev1.NodeSelectorTerm) map[string]struct{} {
	var names map[string]struct{}
	for _, r := range t.MatchFields {
		if r.Key != "metadata.name" || r.Operator != corev1.NodeSelectorOpIn {
			continue
		}
		vals := map[string]struct{}{}
		for _, v := range r.Values {
			if names == nil {
				vals[v] = struct{}{}
			} else if _, ok := names[v]; ok {
				vals[v] = struct{}{}
			}
		}
		names = vals
	}
	return names
}

// PreFilterExtensions implements fw.PreFilterPlugin.
func (*NodeAffinity) PreFilterExtensions() fw.PreFilterExtensions { return nil }

// Filter implements fw.FilterPlugin.
func (pl *NodeAffinity) Filter(_ context.Context, state *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	node := ni.Node()
	if pl.addedNodeSelector != nil && !pl.addedNodeSelector.Match(node) {
		return fw.NewStatus(fw.UnschedulableAndUnresolvable, errReasonEnforced)
	}
	var required nodeaffinity.RequiredNodeAffinity
	if d, ok := state.Read(preFilterKey); ok {
		required = d.(*preFilterState).required
	} else {
		required = nodeaffinity.GetRequiredNodeAffinity(pod)
	}
	if ok, _ := required.Match(node); !ok {
		return fw.NewStatus(fw.UnschedulableAndUnresolvable, ErrReasonPod)
	}
	return nil
}

type preScoreState struct {
	preferred *nodeaffinity.PreferredSchedulingTerms
}

func (s *preScoreState) Clone() fw.StateData { return s }

// PreScore implements fw.PreScorePlugin; without preferred terms Score is skipped.
func (pl *NodeAffinity) PreScore(_ context.Context, state *fw.CycleState, pod *corev1.Pod, _ []*fw.NodeInfo) *fw.Status {
	aff := pod.Spec.Affinity
	var terms []corev1.PreferredSchedulingTerm
	if aff != nil && aff.NodeAffinity != nil {
		terms = aff.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	}
	if len(terms) == 0 && pl.addedPrefSchedTerms == nil {
		return fw.NewStatus(fw.Skip)
	}
	pref, err := nodeaffinity.NewPreferredSchedulingTerms(terms)
	if err != nil {
		return fw.AsStatus(fmt.Errorf("parsing pod's preferred node affinity: %w", err))
	}
	state.Write(preScoreKey, &preScoreState{preferred: pref})
	return nil
}

// Score implements fw.ScorePlugin: the sum of the weights of matching preferred terms.
func (pl *NodeAffinity) Score(_ context.Context, state *fw.CycleState, _ *corev1.Pod, ni *fw.NodeInfo) (int64, *fw.Status) {
	node := ni.Node()
	var score int64
	if pl.addedPrefSchedTerms != nil {
		score += pl.addedPrefSchedTerms.Score(node)
	}
	if d, ok := state.Read(preScoreKey); ok {
		score += d.(*preScoreState).preferred.Score(node)
	}
	return score, nil
}

// ScoreExtensions implements fw.ScorePlugin.
func (pl *NodeAffinity) ScoreExtensions() fw.ScoreExtensions { return pl }

// NormalizeScore implements fw.ScoreExtensions.
func (*NodeAffinity) NormalizeScore(_ context.Context, _ *fw.CycleState, _ *corev1.Pod, scores fw.NodeScoreList) *fw.Status {
	helper.DefaultNormalizeScore(fw.MaxNodeScore, false, scores)
	return nil
}

// EventsToRegister implements fw.EnqueueExtensions: a node added or relabelled
// so that it now matches.
func (pl *NodeAffinity) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{
		{Event: fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add | fw.UpdateNodeLabel}, QueueingHintFn: pl.isSchedulableAfterNodeChange},
		{Event: fw.ClusterEvent{Resource: fw.UnscheduledPod, ActionType: fw.Update}},
	}, nil
}

func (pl *NodeAffinity) isSchedulableAfterNodeChange(pod *corev1.Pod, _, newObj interface{}) (fw.QueueingHint, error) {
	n, ok := newObj.(*corev1.Node)
	if !ok {
		return fw.Queue, nil
	}
	if pl.addedNodeSelector != nil && !pl.addedNodeSelector.Match(n) {
		return fw.QueueSkip, nil
	}
	if ok, _ := nodeaffinity.GetRequiredNodeAffinity(pod).Match(n); !ok {
		return fw.QueueSkip, nil
	}
	return fw.Queue, nil
}
