package interpodaffinity

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
	schedconfig "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"
)

// Bounds of hardPodAffinityWeight, as upstream validates it.
const (
	minHardPodAffinityWeight = 0
	maxHardPodAffinityWeight = 100
)

// DefaultArgs are upstream's defaults: an existing pod's required affinity to the
// incoming pod counts with weight 1 in scoring, and existing pods' preferred
// terms are always considered.
func DefaultArgs() *schedconfig.InterPodAffinityArgs {
	return &schedconfig.InterPodAffinityArgs{HardPodAffinityWeight: ptr.To[int32](1)}
}

// ValidateArgs checks InterPodAffinityArgs as upstream does; path is where the
// args sit in the configuration (nil when checked on their own).
func ValidateArgs(path *field.Path, a *schedconfig.InterPodAffinityArgs) error {
	w := ptr.Deref(a.HardPodAffinityWeight, 1)
	if w < minHardPodAffinityWeight || w > maxHardPodAffinityWeight {
		return field.Invalid(path.Child("hardPodAffinityWeight"), w,
			fmt.Sprintf("not in valid range [%d, %d]", minHardPodAffinityWeight, maxHardPodAffinityWeight))
	}
	return nil
}
