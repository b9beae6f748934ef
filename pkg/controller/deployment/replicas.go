package deployment

import (
	"fmt"
	"math"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func replicasOf(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func size(rs *appsv1.ReplicaSet) int32 {
	if rs == nil || rs.Spec.Replicas == nil {
		return 0
	}
	return *rs.Spec.Replicas
}

func isRollingUpdate(d *appsv1.Deployment) bool {
	return d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType
}

// fenceposts resolves maxSurge (rounded up) and maxUnavailable (rounded down)
// against desired replicas; both zero would stall a rollout, so unavailable
// becomes one.
func fenceposts(surge, unavailable *intstr.IntOrString, desired int32) (int32, int32, error) {
	zero := intstr.FromInt32(0)
	s, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(surge, zero), int(desired), true)
	if err != nil {
		return 0, 0, err
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(unavailable, zero), int(desired), false)
	if err != nil {
		return 0, 0, err
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u), nil
}

// maxSurge is how many pods a rolling update may run above spec.replicas.
func maxSurge(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) || d.Spec.Strategy.RollingUpdate == nil {
		return 0
	}
	s, _, _ := fenceposts(d.Spec.Strategy.RollingUpdate.MaxSurge, d.Spec.Strategy.RollingUpdate.MaxUnavailable, replicasOf(d))
	return s
}

// maxUnavailable is how many pods a rolling update may have unavailable, at
// most spec.replicas.
func maxUnavailable(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) || d.Spec.Strategy.RollingUpdate == nil || replicasOf(d) == 0 {
		return 0
	}
	_, u, _ := fenceposts(d.Spec.Strategy.RollingUpdate.MaxSurge, d.Spec.Strategy.RollingUpdate.MaxUnavailable, replicasOf(d))
	return min(u, replicasOf(d))
}

func sum(sets []*appsv1.ReplicaSet, f func(*appsv1.ReplicaSet) int32) int32 {
	var n int32
	for _, rs := range sets {
		if rs != nil {
			n += f(rs)
		}
	}
	return n
}

func specReplicas(rs *appsv1.ReplicaSet) int32   { return size(rs) }
func statusReplicas(rs *appsv1.ReplicaSet) int32 { return rs.Status.Replicas }
func readyReplicas(rs *appsv1.ReplicaSet) int32  { return rs.Status.ReadyReplicas }
func availableReplicas(rs *appsv1.ReplicaSet) int32 {
	return rs.Status.AvailableReplicas
}

// active are the sets that have, or ought to have, pods.
func active(sets []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range sets {
		if rs != nil && size(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// byCreation orders sets oldest first, by name on ties.
func byCreation(sets []*appsv1.ReplicaSet) func(i, j int) bool {
	return func(i, j int) bool {
		a, b := sets[i], sets[j]
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
}

// newRSReplicas is the size the new ReplicaSet may grow to now: with
// RollingUpdate as far as maxSurge allows, with Recreate straight to replicas.
func newRSReplicas(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (int32, error) {
	switch d.Spec.Strategy.Type {
	case appsv1.RollingUpdateDeploymentStrategyType:
		var surge *intstr.IntOrString
		if d.Spec.Strategy.RollingUpdate != nil {
			surge = d.Spec.Strategy.RollingUpdate.MaxSurge
		}
		s, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(surge, intstr.FromInt32(0)), int(replicasOf(d)), true)
		if err != nil {
			return 0, err
		}
		current := sum(all, specReplicas)
		maxTotal := replicasOf(d) + int32(s)
		if current >= maxTotal {
			return size(newRS), nil
		}
		up := min(maxTotal-current, replicasOf(d)-size(newRS))
		return size(newRS) + up, nil
	case appsv1.RecreateDeploymentStrategyType:
		return replicasOf(d), nil
	}
	return 0, fmt.Errorf("deployment type %v isn't supported", d.Spec.Strategy.Type)
}

// isSaturated: the new set alone runs the whole deployment, all available.
func isSaturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, ok := annotationInt32(rs, DesiredReplicasAnnotation)
	return ok && size(rs) == replicasOf(d) && desired == replicasOf(d) && rs.Status.AvailableReplicas == replicasOf(d)
}

// activeOrLatest is the one set with pods, or the newest if none has any;
// nil when several have pods (a rollout is under way).
func activeOrLatest(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(old) == 0 {
		return nil
	}
	sorted := append([]*appsv1.ReplicaSet(nil), old...)
	sort.SliceStable(sorted, func(i, j int) bool { return byCreation(sorted)(j, i) })
	withPods := active(append(sorted, newRS))
	switch len(withPods) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return sorted[0]
	case 1:
		return withPods[0]
	}
	return nil
}

// resize is one ReplicaSet's new size. refresh also rewrites its replica
// annotations when the size stays.
type resize struct {
	rs      *appsv1.ReplicaSet
	to      int32
	refresh bool
}

// planScale decides how a scaling of d (spec.replicas changed, or a paused
// deployment) spreads over its sets. With one active set, it takes the new size.
// With a saturated new set, the old ones go to zero. During a rolling update the
// change is shared in proportion to each set's size (the newest sets get more
// when growing, the oldest lose more when shrinking), the rounding leftover
// going to the largest.
func planScale(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) []resize {
	if one := activeOrLatest(newRS, old); one != nil {
		if size(one) == replicasOf(d) {
			return nil
		}
		return []resize{{rs: one, to: replicasOf(d)}}
	}
	if isSaturated(d, newRS) {
		var out []resize
		for _, rs := range active(old) {
			out = append(out, resize{rs: rs, to: 0})
		}
		return out
	}
	if !isRollingUpdate(d) {
		return nil
	}
	all := active(append(append([]*appsv1.ReplicaSet(nil), old...), newRS))
	allowed := int32(0)
	if replicasOf(d) > 0 {
		allowed = replicasOf(d) + maxSurge(d)
	}
	toAdd := allowed - sum(all, specReplicas)
	switch {
	case toAdd > 0: // largest first, newer before older
		sort.SliceStable(all, func(i, j int) bool {
			if size(all[i]) == size(all[j]) {
				return byCreation(all)(j, i)
			}
			return size(all[i]) > size(all[j])
		})
	case toAdd < 0: // largest first, older before newer
		sort.SliceStable(all, func(i, j int) bool {
			if size(all[i]) == size(all[j]) {
				return byCreation(all)(i, j)
			}
			return size(all[i]) > size(all[j])
		})
	}
	added := int32(0)
	sizes := make([]int32, len(all))
	for i, rs := range all {
		sizes[i] = size(rs)
		if toAdd != 0 {
			p := proportion(rs, d, toAdd, added)
			sizes[i] += p
			added += p
		}
	}
	if toAdd != 0 && len(all) > 0 {
		sizes[0] = max(sizes[0]+toAdd-added, 0)
	}
	out := make([]resize, len(all))
	for i, rs := range all {
		out[i] = resize{rs: rs, to: sizes[i], refresh: true}
	}
	return out
}

// proportion is rs's share of a scaling by toAdd of which added is done.
func proportion(rs *appsv1.ReplicaSet, d *appsv1.Deployment, toAdd, added int32) int32 {
	if rs == nil || size(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	f := fraction(rs, d)
	left := toAdd - added
	if toAdd > 0 {
		return min(f, left)
	}
	return max(f, left)
}

// fraction is how much rs grows or shrinks when the deployment goes from the
// size rs's max-replicas annotation recorded to its current size plus surge.
func fraction(rs *appsv1.ReplicaSet, d *appsv1.Deployment) int32 {
	if replicasOf(d) == 0 {
		return -size(rs)
	}
	target := replicasOf(d) + maxSurge(d)
	before, ok := annotationInt32(rs, MaxReplicasAnnotation)
	if !ok || before == 0 {
		before = d.Status.Replicas
		if before == 0 {
			return 0
		}
	}
	scaled := float64(size(rs)*target) / float64(before)
	return int32(math.Round(scaled)) - size(rs)
}

// isScalingEvent: some set was sized for another spec.replicas than d's now.
func isScalingEvent(d *appsv1.Deployment, sets []*appsv1.ReplicaSet) bool {
	for _, rs := range active(sets) {
		if desired, ok := annotationInt32(rs, DesiredReplicasAnnotation); ok && desired != replicasOf(d) {
			return true
		}
	}
	return false
}

// planOldScaleDown decides how a rolling update shrinks the old sets: first the
// unavailable pods of old sets (they serve nobody), then available ones as far
// as maxUnavailable allows, oldest sets first. The two steps are returned apart
// because they are written (and announced) one after the other.
func planOldScaleDown(d *appsv1.Deployment, all, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (unhealthy, healthy []resize) {
	if sum(old, specReplicas) == 0 {
		return nil, nil
	}
	minAvailable := replicasOf(d) - maxUnavailable(d)
	newUnavailable := size(newRS) - newRS.Status.AvailableReplicas
	maxDown := sum(all, specReplicas) - minAvailable - newUnavailable
	if maxDown <= 0 {
		return nil, nil
	}
	old = append([]*appsv1.ReplicaSet(nil), old...)
	sort.SliceStable(old, byCreation(old))
	sizes := map[*appsv1.ReplicaSet]int32{}
	for _, rs := range old {
		sizes[rs] = size(rs)
	}
	var done int32
	for _, rs := range old {
		if done >= maxDown {
			break
		}
		if sizes[rs] == 0 || sizes[rs] == rs.Status.AvailableReplicas {
			continue
		}
		n := min(maxDown-done, sizes[rs]-rs.Status.AvailableReplicas)
		sizes[rs] -= n
		done += n
		unhealthy = append(unhealthy, resize{rs: rs, to: sizes[rs]})
	}
	availableNow := sum(append(append([]*appsv1.ReplicaSet(nil), old...), newRS), availableReplicas)
	if availableNow <= minAvailable {
		return unhealthy, nil
	}
	want := availableNow - minAvailable
	done = 0
	for _, rs := range old {
		if done >= want {
			break
		}
		if sizes[rs] == 0 {
			continue
		}
		n := min(sizes[rs], want-done)
		sizes[rs] -= n
		done += n
		healthy = append(healthy, resize{rs: rs, to: sizes[rs]})
	}
	return unhealthy, healthy
}

// toCleanUp are the old sets past revisionHistoryLimit that may be deleted:
// lowest revisions first, and only sets scaled to zero whose status says so.
func toCleanUp(d *appsv1.Deployment, old []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	if d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit == math.MaxInt32 {
		return nil
	}
	var alive []*appsv1.ReplicaSet
	for _, rs := range old {
		if rs != nil && rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	diff := int32(len(alive)) - *d.Spec.RevisionHistoryLimit
	if diff <= 0 {
		return nil
	}
	sort.SliceStable(alive, func(i, j int) bool {
		ri, ei := revision(alive[i].Annotations)
		rj, ej := revision(alive[j].Annotations)
		if ei != nil || ej != nil || ri == rj {
			return byCreation(alive)(i, j)
		}
		return ri < rj
	})
	var out []*appsv1.ReplicaSet
	for _, rs := range alive[:diff] {
		if rs.Status.Replicas != 0 || size(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		out = append(out, rs)
	}
	return out
}
