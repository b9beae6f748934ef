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
