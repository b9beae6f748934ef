package replicaset

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/pkg/controller/controllerref"
	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// statusUpdateRetries: one more try, with a fresh read, after a conflict.
const statusUpdateRetries = 1

// sync makes the pods of one set match its spec and records its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.sets.GetByKey(key)
	if err != nil {
		return err
	}
	if !exists {
		c.exp.Delete(key)
		return nil
	}
	rs, ok := c.cfg.Source.AsReplicaSet(obj)
	if !ok {
		return nil
	}
	canAct := c.exp.Satisfied(key)
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		// Validation refuses such selectors; nothing a retry could fix.
		c.log.Info("invalid selector", "kind", c.kind, "key", key, "err", err)
		return nil
	}
	candidates, err := podcontrol.ByController(c.pods, rs, c.kind, true)
	if err != nil {
		return err
	}
	pods, err := c.claim(ctx, rs, selector, podcontrol.FilterActive(candidates))
	if err != nil {
		return err
	}
	var manageErr error
	if canAct && rs.DeletionTimestamp == nil {
		manageErr = c.manage(ctx, key, rs, pods)
	}
	now := c.now()
	updated, err := c.updateStatus(ctx, rs.DeepCopy(), calculateStatus(rs, pods, manageErr, now))
	if err != nil {
		return err
	}
	if manageErr != nil {
		return manageErr
	}
	// Ready pods become available minReadySeconds later: look again then.
	if min := updated.Spec.MinReadySeconds; min > 0 && updated.Status.ReadyReplicas != updated.Status.AvailableReplicas {
		next, ok := nextAvailabilityCheck(pods, min, c.now())
		if !ok {
			next = time.Duration(min) * time.Second
		}
		return worker.RequeueAfter(next)
	}
	return nil
}

// claim adopts and releases pods, returning the ones the set owns.
func (c *Controller) claim(ctx context.Context, rs *appsv1.ReplicaSet, selector labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	m := &controllerref.Manager{Controller: rs, Kind: c.cfg.Source.Kind(),
		CanAdopt: controllerref.RecheckDeletion(rs, func(ctx context.Context) (metav1.Object, error) {
			return c.cfg.Source.Get(ctx, rs.Namespace, rs.Name)
		})}
	return controllerref.Claim(ctx, m, pods, func(p *corev1.Pod) bool { return selector.Matches(labels.Set(p.Labels)) },
		func(ctx context.Context, p *corev1.Pod, patch []byte) error {
			_, err := c.cfg.Client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		})
}

// manage creates or deletes pods to reach spec.replicas, at most the burst at a time.
func (c *Controller) manage(ctx context.Context, key string, rs *appsv1.ReplicaSet, pods []*corev1.Pod) error {
	diff := len(pods) - int(replicas(rs))
	switch {
	case diff < 0:
		n := min(-diff, c.maxBurst)
		c.exp.ExpectCreations(key, n)
		ref := controllerref.Ref(rs, c.cfg.Source.Kind())
		created, err := podcontrol.SlowStartBatch(n, podcontrol.SlowStartInitialBatchSize, func() error {
			_, err := c.control.Create(ctx, rs.Namespace, &rs.Spec.Template, rs, rs.Name, &ref)
			return err
		})
		// The creations not attempted or refused will never be observed.
		for i := created; i < n; i++ {
			c.exp.CreationObserved(key)
		}
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			// Nothing will be created there again: the refusal ends the slow
			// start (rather than 1+2+4+... more refusals) and is no failure.
			return nil
		}
		return err
	case diff > 0:
		n := min(diff, c.maxBurst)
		victims := podsToDelete(pods, c.relatedPods(rs), n, c.now())
		keys := make([]string, len(victims))
		for i, p := range victims {
			keys[i] = podcontrol.Key(p)
		}
		c.exp.ExpectDeletions(key, keys)
		errs := make(chan error, len(victims))
		var wg sync.WaitGroup
		for _, p := range victims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.control.Delete(ctx, p, rs); err != nil {
					// This deletion will never be observed.
					c.exp.DeletionObserved(key, podcontrol.Key(p))
					if !apierrors.IsNotFound(err) {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		select {
		case err := <-errs:
			return err
		default:
		}
	}
	return nil
}

// relatedPods are the pods of every set that shares rs's controller (the
// ReplicaSets of one Deployment), for ranking which pods to delete.
func (c *Controller) relatedPods(rs *appsv1.ReplicaSet) []*corev1.Pod {
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil {
		return nil
	}
	siblings, err := c.sets.ByIndex(controllerUIDIndex, string(ref.UID))
	if err != nil {
		return nil
	}
	seen := map[types.UID]bool{}
	var out []*corev1.Pod
	for _, o := range siblings {
		sib, ok := c.cfg.Source.AsReplicaSet(o)
		if !ok {
			continue
		}
		pods, err := podcontrol.ByController(c.pods, sib, c.kind, false)
		if err != nil {
			continue
		}
		for _, p := range pods {
			if !seen[p.UID] {
				seen[p.UID] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// updateStatus writes status unless rs already has it, retrying once with a
// fresh read after a failure.
func (c *Controller) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet, status appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	if statusCurrent(rs, status) {
		return rs, nil
	}
	status.ObservedGeneration = rs.Generation
	for i := 0; ; i++ {
		rs.Status = status
		updated, err := c.cfg.Source.UpdateStatus(ctx, rs)
		if err == nil {
			return updated, nil
		}
		if i >= statusUpdateRetries || apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("update status of %s %s/%s: %w", c.kind, rs.Namespace, rs.Name, err)
		}
		if rs, err = c.cfg.Source.Get(ctx, rs.Namespace, rs.Name); err != nil {
			return nil, fmt.Errorf("read %s %s/%s for its status: %w", c.kind, rs.Namespace, rs.Name, err)
		}
	}
}
