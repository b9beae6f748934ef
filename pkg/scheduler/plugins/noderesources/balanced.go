package noderesources

import (
	"context"
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	schedconfig "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// BalancedAllocationName is the plugin's name.
const BalancedAllocationName = names.NodeResourcesBalancedAllocation

const balancedStateKey fw.StateKey = "PreScore" + BalancedAllocationName

// BalancedAllocation prefers nodes whose resources would be used in equal shares.
type BalancedAllocation struct {
	resources []resourceWeight
}

var (
	_ fw.PreScorePlugin    = &BalancedAllocation{}
	_ fw.ScorePlugin       = &BalancedAllocation{}
	_ fw.EnqueueExtensions = &BalancedAllocation{}
)

// NewBalancedAllocation makes the plugin from NodeResourcesBalancedAllocationArgs.
func NewBalancedAllocation(_ context.Context, args runtime.Object, _ fw.Handle) (fw.Plugin, error) {
	a, ok := args.(*schedconfig.NodeResourcesBalancedAllocationArgs)
	if args != nil && !ok {
		return nil, fmt.Errorf("want args to be of type NodeResourcesBalancedAllocationArgs, got %T", args)
	}
	res := defaultResources
	if a != nil && len(a.Resources) > 0 {
		if err := validateResources(a.Resources, "resources"); err != nil {
			return nil, err
		}
		res = a.Resources
	}
	return &BalancedAllocation{resources: toResourceWeights(res)}, nil
}

// Name implements fw.Plugin.
func (*BalancedAllocation) Name() string { return BalancedAllocationName }

type balancedState struct{ pi *fw.PodInfo }

func (s *balancedState) Clone() fw.StateData { return s }

// PreScore implements fw.PreScorePlugin: a pod that requests none of the resources
// is not scored (otherwise best-effort pods would all crowd onto one node).
func (b *BalancedAllocation) PreScore(_ context.Context, state *fw.CycleState, pod *corev1.Pod, _ []*fw.NodeInfo) *fw.Status {
	pi := state.PodInfoFor(pod)
	best := true
	for _, r := range b.resources {
		if podAmount(pi, r.name, false) != 0 {
			best = false
			break
		}
	}
	if best {
		return fw.NewStatus(fw.Skip)
	}
	state.Write(balancedStateKey, &balancedState{pi: pi})
	return nil
}

// Score implements fw.ScorePlugin: 100 × (1 − standard deviation of the used
// fractions).
func (b *BalancedAllocation) Score(_ context.Context, state *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) (int64, *fw.Status) {
	var pi *fw.PodInfo
	if d, ok := state.Read(balancedStateKey); ok {
		pi = d.(*balancedState).pi
	} else {
		pi = fw.NewPodInfo(pod)
	}
	var fractions [8]float64
	fr := fractions[:0]
	for _, r := range b.resources {
		alloc, used, ok := scoredAmounts(pi, ni, r.name, false)
		if !ok {
			continue
		}
		f := float64(used) / float64(alloc)
		if f > 1 {
			f = 1
		}
		fr = append(fr, f)
	}
	return balancedScore(fr), nil
}

func balancedScore(fr []float64) int64 {
	var std float64
	switch len(fr) {
	case 0, 1:
		std = 0
	case 2:
		std = math.Abs((fr[0] - fr[1]) / 2)
	default:
		var sum float64
		for _, f := range fr {
			sum += f
		}
		mean := sum / float64(len(fr))
		var v float64
		for _, f := range fr {
			v += (f - mean) * (f - mean)
		}
		std = math.Sqrt(v / float64(len(fr)))
	}
	return int64((1 - std) * float64(fw.MaxNodeScore))
}

// ScoreExtensions implements fw.ScorePlugin.
func (*BalancedAllocation) ScoreExtensions() fw.ScoreExtensions { return nil }

// EventsToRegister implements fw.EnqueueExtensions (a score plugin rejects
// nothing, but a profile may use it with filters of its own).
func (*BalancedAllocation) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return nil, nil
}
