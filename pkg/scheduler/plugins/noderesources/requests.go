package noderesources

import (
	corev1 "k8s.io/api/core/v1"
	schedconfig "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// resourceWeight is a resource a scorer looks at, with its weight.
type resourceWeight struct {
	name   corev1.ResourceName
	weight int64
}

func toResourceWeights(specs []schedconfig.ResourceSpec) []resourceWeight {
	out := make([]resourceWeight, 0, len(specs))
	for _, s := range specs {
		w := s.Weight
		if w == 0 {
			w = 1
		}
		out = append(out, resourceWeight{corev1.ResourceName(s.Name), w})
	}
	return out
}

var defaultResources = []schedconfig.ResourceSpec{{Name: string(corev1.ResourceCPU), Weight: 1}, {Name: string(corev1.ResourceMemory), Weight: 1}}

// podAmount is what a pod asks of one resource; nonZero counts unset CPU and
// memory requests at the scheduler's defaults.
func podAmount(pi *fw.PodInfo, name corev1.ResourceName, nonZero bool) int64 {
	if nonZero {
		switch name {
		case corev1.ResourceCPU:
			return pi.NonZeroCPU
		case corev1.ResourceMemory:
			return pi.NonZeroMem
		}
	}
	return pi.Requests.Get(name)
}

// nodeAmounts is a node's allocatable and requested amount of one resource.
func nodeAmounts(ni *fw.NodeInfo, name corev1.ResourceName, nonZero bool) (alloc, requested int64) {
	alloc = ni.Allocatable.Get(name)
	if nonZero && (name == corev1.ResourceCPU || name == corev1.ResourceMemory) {
		return alloc, ni.NonZeroRequested.Get(name)
	}
	return alloc, ni.Requested.Get(name)
}

// scoredAmounts is what a scorer weighs for one resource: the node's allocatable
// and its requested amount with the pod added. ok is false when the resource is
// left out: the node has none, or it is an extended resource (or hugepages) the
// pod does not ask for, so nodes are not ranked by devices the pod will not use.
func scoredAmounts(pi *fw.PodInfo, ni *fw.NodeInfo, name corev1.ResourceName, nonZero bool) (alloc, requested int64, ok bool) {
	want := podAmount(pi, name, nonZero)
	if want == 0 && fw.IsScalarResourceName(name) {
		return 0, 0, false
	}
	alloc, used := nodeAmounts(ni, name, nonZero)
	if alloc == 0 {
		return 0, 0, false
	}
	return alloc, used + want, true
}
