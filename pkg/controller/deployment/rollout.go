package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
)

// rolloutRolling takes one RollingUpdate step: grow the new set within
// maxSurge, else shrink old sets within maxUnavailable, else (when complete)
// clean up old sets; then record the status.
func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	if newRS == nil {
		created, err := c.createNewReplicaSet(ctx, d, old)
		if err != nil {
			return err
		}
		newRS = created
	}
	all := append(append([]*appsv1.ReplicaSet(nil), old...), newRS)
	target := replicasOf(d)
	if size(newRS) < target {
		n, err := newRSReplicas(d, all, newRS)
		if err != nil {
			return err
		}
		target = n
	}
	if size(newRS) != target {
		scaled, updated, err := c.scaleReplicaSet(ctx, newRS, target, d, false)
		if err != nil {
			return err
		}
		if scaled {
			return c.syncRolloutStatus(ctx, d, updated, append(append([]*appsv1.ReplicaSet(nil), old...), updated))
		}
	}
	unhealthy, healthy := planOldScaleDown(d, all, active(old), newRS)
	// As upstream, a failed scale-down is retried on the next sync, not reported.
	scaledUnhealthy, _ := c.apply(ctx, d, unhealthy)
	scaledHealthy, _ := c.apply(ctx, d, healthy)
	if scaledUnhealthy || scaledHealthy {
		return c.syncRolloutStatus(ctx, d, newRS, all)
	}
	if complete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, newRS, all)
}

// rolloutRecreate takes one Recreate step: scale every old set to zero, wait
// until their pods are gone, then create or grow the new set.
func (c *Controller) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	all := append(append([]*appsv1.ReplicaSet(nil), old...), newRS)
	scaledDown := false
	for _, rs := range active(old) {
		scaled, _, err := c.scaleReplicaSet(ctx, rs, 0, d, false)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown || c.oldPodsRunning(newRS, old) {
		return c.syncRolloutStatus(ctx, d, newRS, all)
	}
	if newRS == nil {
		created, err := c.createNewReplicaSet(ctx, d, old)
		if err != nil {
			return err
		}
		newRS = created
		all = append(append([]*appsv1.ReplicaSet(nil), old...), newRS)
	}
	if _, _, err := c.scaleReplicaSet(ctx, newRS, replicasOf(d), d, false); err != nil {
		return err
	}
	if complete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, newRS, all)
}

// oldPodsRunning: an old set still reports pods, or a pod of one has not
// finished (Recreate must not run old and new pods together).
func (c *Controller) oldPodsRunning(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) bool {
	if sum(old, statusReplicas) > 0 {
		return true
	}
	for _, rs := range old {
		if newRS != nil && rs.UID == newRS.UID {
			continue
		}
		pods, err := podcontrol.ByController(c.pods, rs, "ReplicaSet", false)
		if err != nil {
			return true
		}
		for _, p := range pods {
			if p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded {
				return true
			}
		}
	}
	return false
}
