// Package tainttoleration is the TaintToleration plugin: a node's NoSchedule and
// NoExecute taints keep out pods that do not tolerate them, and PreferNoSchedule
// taints lower a node's score for each one not tolerated.
package tainttoleration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/helper"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.TaintToleration

const preScoreKey fw.StateKey = "PreScore" + Name

// TaintToleration filters and scores nodes by their taints.
type TaintToleration struct{}

var (
	_ fw.FilterPlugin      = &TaintToleration{}
	_ fw.PreScorePlugin    = &TaintToleration{}
	_ fw.ScorePlugin       = &TaintToleration{}
	_ fw.EnqueueExtensions = &TaintToleration{}
)

// New makes the plugin.
func New(context.Context, runtime.Object, fw.Handle) (fw.Plugin, error) {
	return &TaintToleration{}, nil
}

// Name implements fw.Plugin.
func (*TaintToleration) Name() string { return Name }

func doNotScheduleTaints(t *corev1.Taint) bool {
	return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
}

// Filter implements fw.FilterPlugin.
func (*TaintToleration) Filter(_ context.Context, _ *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	taints := ni.Taints()
	if len(taints) == 0 {
		return nil
	}
	taint, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), taints, pod.Spec.Tolerations, doNotScheduleTaints, false)
	if !untolerated {
		return nil
	}
	return fw.NewStatus(fw.UnschedulableAndUnresolvable, fmt.Sprintf("node(s) had untolerated taint {%s: %s}", taint.Key, taint.Value))
}

type preScoreState struct{ tolerations []corev1.Toleration }

func (s *preScoreState) Clone() fw.StateData { return s }

// PreScore implements fw.PreScorePlugin: only the pod's PreferNoSchedule (or
// effect-less) tolerations matter for scoring.
func (*TaintToleration) PreScore(_ context.Context, state *fw.CycleState, pod *corev1.Pod, _ []*fw.NodeInfo) *fw.Status {
	var tols []corev1.Toleration
	for _, t := range pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == corev1.TaintEffectPreferNoSchedule {
			tols = append(tols, t)
		}
	}
	state.Write(preScoreKey, &preScoreState{tolerations: tols})
	return nil
}

// Score implements fw.ScorePlugin: the number of PreferNoSchedule taints not
// tolerated (normalized in reverse: fewer is better).
func (*TaintToleration) Score(_ context.Context, state *fw.CycleState, _ *corev1.Pod, ni *fw.NodeInfo) (int64, *fw.Status) {
	d, ok := state.Read(preScoreKey)
	if !ok {
		return 0, fw.AsStatus(fmt.Errorf("reading %q from cycleState: not found", preScoreKey))
	}
	tols := d.(*preScoreState).tolerations
	var n int64
	taints := ni.Taints()
	for i := range taints {
		t := &taints[i]
		if t.Effect != corev1.TaintEffectPreferNoSchedule {
			continue
		}
		if !corev1helpers.TolerationsTolerateTaint(klog.Background(), tols, t, false) {
			n++
		}
	}
	return n, nil
}

// ScoreExtensions implements fw.ScorePlugin.
func (p *TaintToleration) ScoreExtensions() fw.ScoreExtensions { return p }

// NormalizeScore implements fw.ScoreExtensions.
func (*TaintToleration) NormalizeScore(_ context.Context, _ *fw.CycleState, _ *corev1.Pod, scores fw.NodeScoreList) *fw.Status {
	helper.DefaultNormalizeScore(fw.MaxNodeScore, true, scores)
	return nil
}

// EventsToRegister implements fw.EnqueueExtensions: a node added or its taints
// changed so that the pod tolerates them all, or the pod's tolerations changed.
func (*TaintToleration) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{
		{Event: fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add | fw.UpdateNodeTaint}, QueueingHintFn: isSchedulableAfterNodeChange},
		{Event: fw.ClusterEvent{Resource: fw.UnscheduledPod, ActionType: fw.UpdatePodToleration}},
	}, nil
}

func isSchedulableAfterNodeChange(pod *corev1.Pod, _, newObj interface{}) (fw.QueueingHint, error) {
	n, ok := newObj.(*corev1.Node)
	if !ok {
		return fw.Queue, nil
	}
	if _, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), n.Spec.Taints, pod.Spec.Tolerations, doNotScheduleTaints, false); untolerated {
		return fw.QueueSkip, nil
	}
	return fw.Queue, nil
}
