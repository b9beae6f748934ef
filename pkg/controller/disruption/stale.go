package disruption

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// staleDisruption reports whether a pod carries a DisruptionTarget condition
// that may go stale (it is not being deleted), and how long until it does.
// The kubelet's own condition and terminal pods' are never stale.
func (c *Controller) staleDisruption(p *corev1.Pod) (bool, time.Duration) {
	if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return false, 0
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type != corev1.DisruptionTarget {
			continue
		}
		if cond.Status != corev1.ConditionTrue || cond.Reason == corev1.PodReasonTerminationByKubelet {
			return false, 0
		}
		return true, max(stalePodDisruptionTimeout-c.clock.Since(cond.LastTransitionTime.Time), 0)
	}
	return false, 0
}

// syncStalePod sets a stale DisruptionTarget condition back to False.
func (c *Controller) syncStalePod(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	has, wait := c.staleDisruption(pod)
	if !has {
		return nil
	}
	if wait > 0 {
		return worker.RequeueAfter(wait)
	}
	out := pod.DeepCopy()
	for i := range out.Status.Conditions {
		cond := &out.Status.Conditions[i]
		if cond.Type == corev1.DisruptionTarget {
			// As upstream, the condition is replaced: reason and message go too.
			cond.Status, cond.Reason, cond.Message = corev1.ConditionFalse, "", ""
			cond.LastTransitionTime = metav1.NewTime(c.clock.Now())
			cond.ObservedGeneration = out.Generation
		}
	}
	_, err = c.cfg.Client.CoreV1().Pods(ns).UpdateStatus(ctx, out, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
