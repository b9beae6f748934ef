package statefulset

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"

	"github.com/minik8s/minik8s/pkg/controller/controllerref"
	"github.com/minik8s/minik8s/pkg/controller/history"
	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// defaultHistoryLimit stands in for an unset revisionHistoryLimit (the API defaults it).
const defaultHistoryLimit = 10

// sync makes one set's pods, claims and revisions match its spec and records its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	set, err := c.sets.StatefulSets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		// Validation refuses such selectors; nothing a retry could fix.
		c.log.Info("invalid selector", "statefulset", key, "err", err)
		return nil
	}
	m := &controllerref.Manager{Controller: set, Kind: kind,
		CanAdopt: controllerref.RecheckDeletion(set, func(ctx context.Context) (metav1.Object, error) {
			return c.cfg.Client.AppsV1().StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{})
		})}
	revisions, err := c.history.Claim(ctx, m, selector)
	if err != nil {
		return fmt.Errorf("claim revisions of %s: %w", key, err)
	}
	candidates, err := podcontrol.ByController(c.pods, set, kind.Kind, true)
	if err != nil {
		return err
	}
	pods, err := controllerref.Claim(ctx, m, candidates,
		func(p *corev1.Pod) bool { return selector.Matches(labels.Set(p.Labels)) && isMemberOf(set, p) },
		func(ctx context.Context, p *corev1.Pod, patch []byte) error {
			_, err := c.cfg.Client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		})
	if err != nil {
		return err
	}
	return c.syncSet(ctx, set.DeepCopy(), pods, revisions)
}

// syncSet does one set's work once its pods and revisions are claimed.
func (c *Controller) syncSet(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod, revisions []*appsv1.ControllerRevision) error {
	history.Sort(revisions)
	current, update, collisionCount, err := c.revisions(ctx, set, revisions)
	if err != nil {
		return err
	}
	currentSet, err := applyRevision(set, current)
	if err != nil {
		return err
	}
	updateSet, err := applyRevision(set, update)
	if err != nil {
		return err
	}
	now := c.now()
	p := decide(input{set: set, currentSet: currentSet, updateSet: updateSet, currentRevision: current.Name, updateRevision: update.Name,
		pods: pods, claims: c.claimLookup(set.Namespace), now: now, maxUnavailable: c.cfg.MaxUnavailable})
	if p.waiting != "" {
		c.log.Debug("statefulset waits", "statefulset", set.Namespace+"/"+set.Name, "for", p.waiting)
	}
	runErr := c.run(ctx, set, p)
	status := computeStatus(set, pods, current.Name, update.Name, collisionCount, p.updateDeletions, now)
	statusErr := c.updateStatus(ctx, set, &status)
	pruneErr := c.prune(ctx, set, pods, revisions, current, update)
	if err := errors.Join(runErr, statusErr, pruneErr); err != nil {
		return err
	}
	// Ready pods become available minReadySeconds later: look again then.
	if set.Spec.MinReadySeconds > 0 && status.AvailableReplicas != int32(replicas(set)) {
		if d, ok := nextAvailable(set, pods, now); ok {
			return worker.RequeueAfter(d)
		}
	}
	return nil
}

// revisions finds (or records) the set's current and update revisions; the
// collision count comes back with any bump a name collision needed.
func (c *Controller) revisions(ctx context.Context, set *appsv1.StatefulSet, revisions []*appsv1.ControllerRevision) (current, update *appsv1.ControllerRevision, collisionCount int32, err error) {
	if set.Status.CollisionCount != nil {
		collisionCount = *set.Status.CollisionCount
	}
	proposed, err := newRevision(set, history.Next(revisions), &collisionCount)
	if err != nil {
		return nil, nil, collisionCount, err
	}
	choice, match := chooseUpdateRevision(revisions, proposed)
	switch choice {
	case useLatest:
		update = match
	case renumber:
		update, err = c.history.Renumber(ctx, match, proposed.Revision)
	case create:
		update, err = c.history.Create(ctx, set, proposed, &collisionCount)
	}
	if err != nil {
		return nil, nil, collisionCount, err
	}
	current = findRevision(revisions, set.Status.CurrentRevision)
	if current == nil {
		// A new set (or one whose current revision is gone) starts its history here.
		current = update
	}
	return current, update, collisionCount, nil
}

// run carries out the plan, phase by phase, stopping after a phase that failed.
func (c *Controller) run(ctx context.Context, set *appsv1.StatefulSet, p plan) error {
	parallel := set.Spec.PodManagementPolicy == appsv1.ParallelPodManagement
	for _, ph := range p.phases {
		if !parallel {
			for _, s := range ph {
				if err := c.do(ctx, set, s); err != nil {
					return err
				}
			}
			continue
		}
		// Steps for the same pod stay in order; different pods go in slow-start batches.
		var units [][]step
		for i, s := range ph {
			if i > 0 && ph[i-1].pod == s.pod {
				units[len(units)-1] = append(units[len(units)-1], s)
				continue
			}
			units = append(units, []step{s})
		}
		var next atomic.Int32
		if _, err := podcontrol.SlowStartBatch(len(units), podcontrol.SlowStartInitialBatchSize, func() error {
			for _, s := range units[next.Add(1)-1] {
				if err := c.do(ctx, set, s); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// do carries out one step.
func (c *Controller) do(ctx context.Context, set *appsv1.StatefulSet, s step) error {
	switch s.kind {
	case createPod:
		return c.createPod(ctx, set, s.pod)
	case deletePod:
		return c.deletePodOf(ctx, set, s.pod)
	case updatePod:
		return c.updatePodOf(ctx, set, s.pod.DeepCopy())
	case createClaims:
		if err := c.createClaims(ctx, set, s.pod); err != nil {
			return err
		}
		if err := c.setClaimOwners(ctx, set, s.pod); err != nil {
			c.podEvent("update", set, s.pod, err)
			return err
		}
		return nil
	case fixClaims:
		return c.setClaimOwners(ctx, set, s.pod)
	}
	return fmt.Errorf("unknown step %v", s.kind)
}

// updateStatus writes status unless the set already says it, retrying conflicts with the cached set.
func (c *Controller) updateStatus(ctx context.Context, set *appsv1.StatefulSet, status *appsv1.StatefulSetStatus) error {
	if !statusChanged(set, status) {
		return nil
	}
	toWrite := set.DeepCopy()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		toWrite.Status = *status
		_, err := c.cfg.Client.AppsV1().StatefulSets(toWrite.Namespace).UpdateStatus(ctx, toWrite, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if fresh, gerr := c.sets.StatefulSets(toWrite.Namespace).Get(toWrite.Name); gerr == nil {
			toWrite = fresh.DeepCopy()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("update status of StatefulSet %s/%s: %w", set.Namespace, set.Name, err)
	}
	return nil
}

// prune deletes old revisions beyond revisionHistoryLimit that neither the
// status nor any pod refers to.
func (c *Controller) prune(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod, revisions []*appsv1.ControllerRevision, current, update *appsv1.ControllerRevision) error {
	live := map[string]bool{current.Name: true, update.Name: true}
	for _, p := range pods {
		live[revisionOf(p)] = true
	}
	limit := int32(defaultHistoryLimit)
	if set.Spec.RevisionHistoryLimit != nil {
		limit = *set.Spec.RevisionHistoryLimit
	}
	for _, r := range history.Prune(revisions, func(r *appsv1.ControllerRevision) bool { return live[r.Name] }, limit, false) {
		if err := c.history.Delete(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) claimLookup(namespace string) claimLookup {
	lister := c.claims.PersistentVolumeClaims(namespace)
	return func(name string) *corev1.PersistentVolumeClaim {
		claim, err := lister.Get(name)
		if err != nil {
			return nil
		}
		return claim
	}
}
