package deployment

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/minik8s/minik8s/pkg/controller/controllerref"
	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// sync brings one deployment a step closer to its spec.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.dLister.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	err = c.syncDeployment(ctx, cached.DeepCopy())
	if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
		return nil // the namespace is going, and this deployment with it
	}
	return err
}

func (c *Controller) syncDeployment(ctx context.Context, d *appsv1.Deployment) error {
	if reflect.DeepEqual(d.Spec.Selector, &metav1.LabelSelector{}) {
		c.recorder.Eventf(d, nil, corev1.EventTypeWarning, "SelectingAll", "Sync", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			return c.updateStatus(ctx, d)
		}
		return nil
	}
	sets, err := c.claimReplicaSets(ctx, d)
	if err != nil {
		return err
	}
	newRS, old, err := c.syncRevision(ctx, d, sets)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		return c.syncStatus(ctx, d, newRS, old)
	}
	if pausedCondition(d, c.now()) {
		if err := c.updateStatus(ctx, d); err != nil {
			return err
		}
	}
	if d.Spec.Paused || isScalingEvent(d, append(append([]*appsv1.ReplicaSet(nil), old...), newRS)) {
		return c.syncScale(ctx, d, newRS, old)
	}
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		return c.rolloutRecreate(ctx, d, newRS, old)
	case appsv1.RollingUpdateDeploymentStrategyType:
		return c.rolloutRolling(ctx, d, newRS, old)
	}
	return fmt.Errorf("unexpected deployment strategy type: %s", d.Spec.Strategy.Type)
}

// claimReplicaSets adopts and releases ReplicaSets, returning the deployment's.
func (c *Controller) claimReplicaSets(ctx context.Context, d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has invalid label selector: %w", d.Namespace, d.Name, err)
	}
	all, err := c.rsLister.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	m := &controllerref.Manager{Controller: d, Kind: kind,
		CanAdopt: controllerref.RecheckDeletion(d, func(ctx context.Context) (metav1.Object, error) {
			return c.cfg.Client.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
		})}
	return controllerref.Claim(ctx, m, all, func(rs *appsv1.ReplicaSet) bool { return selector.Matches(labels.Set(rs.Labels)) },
		func(ctx context.Context, rs *appsv1.ReplicaSet, patch []byte) error {
			_, err := c.cfg.Client.AppsV1().ReplicaSets(rs.Namespace).Patch(ctx, rs.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		})
}

// splitSets returns the set whose template is d's (the oldest such, if several)
// and all the others.
func splitSets(d *appsv1.Deployment, sets []*appsv1.ReplicaSet) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	sorted := append([]*appsv1.ReplicaSet(nil), sets...)
	sort.SliceStable(sorted, byCreation(sorted))
	var newRS *appsv1.ReplicaSet
	var old []*appsv1.ReplicaSet
	for _, rs := range sorted {
		if newRS == nil && equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			newRS = rs
			continue
		}
		old = append(old, rs)
	}
	return newRS, old
}

// syncRevision finds the new set and brings its annotations and minReadySeconds
// and the deployment's revision up to date. The new set is nil when none has
// d's template yet.
func (c *Controller) syncRevision(ctx context.Context, d *appsv1.Deployment, sets []*appsv1.ReplicaSet) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	existing, old := splitSets(d, sets)
	if existing == nil {
		return nil, old, nil
	}
	newRevision := strconv.FormatInt(maxRevision(old)+1, 10)
	rs := existing.DeepCopy()
	if setNewReplicaSetAnnotations(d, rs, newRevision, true) || rs.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
		rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
		updated, err := c.cfg.Client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, rs, metav1.UpdateOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("update replica set %s/%s: %w", rs.Namespace, rs.Name, err)
		}
		rs = updated
	}
	changed := setDeploymentRevision(d, rs.Annotations[RevisionAnnotation])
	if hasProgressDeadline(d) && getCondition(d.Status, appsv1.DeploymentProgressing) == nil {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, FoundNewRSReason,
			fmt.Sprintf("Found new replica set %q", rs.Name), c.now()))
		changed = true
	}
	if changed {
		if err := c.updateStatus(ctx, d); err != nil {
			return nil, nil, err
		}
	}
	return rs, old, nil
}

// newReplicaSet is the set d's template gets: named and labelled by the
// template's hash, owned by d, sized as the strategy allows now.
func newReplicaSet(d *appsv1.Deployment, old []*appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	template := d.Spec.Template.DeepCopy()
	hash := templateHash(template, d.Status.CollisionCount)
	template.Labels = withLabel(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	selector := d.Spec.Selector.DeepCopy()
	if selector == nil {
		selector = &metav1.LabelSelector{}
	}
	selector.MatchLabels = withLabel(selector.MatchLabels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	ref := controllerref.Ref(d, kind)
	zero := int32(0)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: replicaSetName(d.Name, hash), Namespace: d.Namespace,
			OwnerReferences: []metav1.OwnerReference{ref}, Labels: template.Labels},
		Spec: appsv1.ReplicaSetSpec{Replicas: &zero, MinReadySeconds: d.Spec.MinReadySeconds, Selector: selector, Template: *template},
	}
	n, err := newRSReplicas(d, append(append([]*appsv1.ReplicaSet(nil), old...), rs), rs)
	if err != nil {
		return nil, err
	}
	rs.Spec.Replicas = &n
	setNewReplicaSetAnnotations(d, rs, strconv.FormatInt(maxRevision(old)+1, 10), false)
	return rs, nil
}

func withLabel(in map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(in)+1)
	for a, b := range in {
		out[a] = b
	}
	out[k] = v
	return out
}

// createNewReplicaSet creates the set for d's current template. A name taken
// by a set that is not d's (a hash collision) bumps status.collisionCount, so
// the next try hashes differently.
func (c *Controller) createNewReplicaSet(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	want, err := newReplicaSet(d, old)
	if err != nil {
		return nil, err
	}
	created, err := c.cfg.Client.AppsV1().ReplicaSets(d.Namespace).Create(ctx, want, metav1.CreateOptions{})
	existed := false
	switch {
	case apierrors.IsAlreadyExists(err):
		rs, getErr := c.rsLister.ReplicaSets(d.Namespace).Get(want.Name)
		if getErr != nil {
			return nil, getErr
		}
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.UID == d.UID && equalIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
			created, existed = rs, true
			break
		}
		if d.Status.CollisionCount == nil {
			d.Status.CollisionCount = new(int32)
		}
		*d.Status.CollisionCount++
		if uerr := c.updateStatus(ctx, d); uerr != nil {
			return nil, uerr
		}
		return nil, err
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, err
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", want.Name, err)
		if hasProgressDeadline(d) {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, FailedRSCreateReason, msg, c.now()))
			_ = c.updateStatus(ctx, d)
		}
		c.recorder.Eventf(d, nil, corev1.EventTypeWarning, FailedRSCreateReason, "Create", "%s", podcontrol.Note("%s", msg))
		return nil, err
	}
	if !existed && size(created) > 0 {
		c.recorder.Eventf(d, created, corev1.EventTypeNormal, "ScalingReplicaSet", "Scale",
			"Scaled up replica set %s from 0 to %d", created.Name, size(created))
	}
	changed := setDeploymentRevision(d, want.Annotations[RevisionAnnotation])
	if !existed && hasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, NewReplicaSetReason,
			fmt.Sprintf("Created new replica set %q", created.Name), c.now()))
		changed = true
	}
	if changed {
		if err := c.updateStatus(ctx, d); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// scaleReplicaSet sets rs's size (and its replica annotations) and records the
// scaling on d. With refresh, annotations are rewritten even if the size stays.
func (c *Controller) scaleReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet, to int32, d *appsv1.Deployment, refresh bool) (bool, *appsv1.ReplicaSet, error) {
	from := size(rs)
	maxReplicas := replicasOf(d) + maxSurge(d)
	if from == to && (!refresh || !replicasAnnotationsNeedUpdate(rs, replicasOf(d), maxReplicas)) {
		return false, rs, nil
	}
	cp := rs.DeepCopy()
	cp.Spec.Replicas = &to
	setReplicasAnnotations(cp, replicasOf(d), maxReplicas)
	updated, err := c.cfg.Client.AppsV1().ReplicaSets(cp.Namespace).Update(ctx, cp, metav1.UpdateOptions{})
	if err != nil {
		return false, rs, fmt.Errorf("scale replica set %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	if from == to {
		return false, updated, nil
	}
	op := "up"
	if to < from {
		op = "down"
	}
	c.recorder.Eventf(d, updated, corev1.EventTypeNormal, "ScalingReplicaSet", "Scale", "Scaled %s replica set %s from %d to %d", op, rs.Name, from, to)
	return true, updated, nil
}

// apply writes planned resizes in order; it reports whether any size changed.
func (c *Controller) apply(ctx context.Context, d *appsv1.Deployment, plan []resize) (bool, error) {
	scaled := false
	for _, r := range plan {
		s, _, err := c.scaleReplicaSet(ctx, r.rs, r.to, d, r.refresh)
		if err != nil {
			return scaled, err
		}
		scaled = scaled || s
	}
	return scaled, nil
}

// syncScale handles a paused deployment or a change of spec.replicas: sizes
// change, the template does not roll.
func (c *Controller) syncScale(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	if _, err := c.apply(ctx, d, planScale(d, newRS, old)); err != nil {
		return err
	}
	if d.Spec.Paused {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncStatus(ctx, d, newRS, old)
}

// cleanup deletes old sets beyond revisionHistoryLimit.
func (c *Controller) cleanup(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet) error {
	for _, rs := range toCleanUp(d, old) {
		err := c.cfg.Client.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete old replica set %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
	return nil
}

// syncStatus writes the counts and Available, leaving Progressing as it is.
func (c *Controller) syncStatus(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	s := calculateStatus(append(append([]*appsv1.ReplicaSet(nil), old...), newRS), newRS, d, c.now())
	if reflect.DeepEqual(d.Status, s) {
		return nil
	}
	d.Status = s
	return c.updateStatus(ctx, d)
}

// syncRolloutStatus writes the status after a rollout step, Progressing
// included; an unchanged status of a rollout in progress is looked at again
// when its deadline passes.
func (c *Controller) syncRolloutStatus(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, all []*appsv1.ReplicaSet) error {
	now := c.now()
	s := rolloutStatus(all, newRS, d, now)
	if reflect.DeepEqual(d.Status, s) {
		if after, ok := stuckRecheck(d, &s, now); ok {
			return worker.RequeueAfter(after)
		}
		return nil
	}
	d.Status = s
	return c.updateStatus(ctx, d)
}

// updateStatus writes d's status (and the annotations the controller keeps on
// it) and takes the new resourceVersion, so a later write in the same sync does
// not conflict with this one.
func (c *Controller) updateStatus(ctx context.Context, d *appsv1.Deployment) error {
	updated, err := c.cfg.Client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	d.ResourceVersion = updated.ResourceVersion
	return nil
}
