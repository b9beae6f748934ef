package persistentvolume

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/storage/volume"
)

// BestMatch is the volume an unbound claim should take, or nil: among volumes
// offering every access mode the claim asks for, those with the fewest modes
// first (as upstream's access-mode index orders them), a volume pre-bound to
// the claim, else the smallest Available one that fits (class, size, volume
// mode, attributes class, selector). With delayBinding only pre-bound volumes
// count: the scheduler binds the rest for the node it picks.
func BestMatch(claim *corev1.PersistentVolumeClaim, volumes []*corev1.PersistentVolume, delayBinding bool) (*corev1.PersistentVolume, error) {
	byModes := map[int][]*corev1.PersistentVolume{}
	for _, pv := range volumes {
		if volume.CheckAccessModes(claim, pv) {
			byModes[len(pv.Spec.AccessModes)] = append(byModes[len(pv.Spec.AccessModes)], pv)
		}
	}
	counts := make([]int, 0, len(byModes))
	for n := range byModes {
		counts = append(counts, n)
	}
	slices.SortFunc(counts, cmp.Compare)
	for _, n := range counts {
		group := byModes[n]
		// Ties between equal sizes go to the name, not to list order.
		slices.SortFunc(group, func(a, b *corev1.PersistentVolume) int { return cmp.Compare(a.Name, b.Name) })
		pv, err := volume.FindMatchingVolume(claim, group, nil, nil, delayBinding, true)
		if err != nil || pv != nil {
			return pv, err
		}
	}
	return nil, nil
}
