package tainteviction

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// The condition a pod evicted here carries, as upstream's.
const (
	disruptionReason  = "DeletionByTaintManager"
	disruptionMessage = "Taint manager: deleting due to NoExecute taint"
)

// evict deletes a pod whose eviction is due; one cancelled meanwhile is left.
func (c *Controller) evict(ctx context.Context, key string) error {
	c.mu.Lock()
	s, ok := c.pending[key]
	c.mu.Unlock()
	if !ok {
		return nil
	}
	if wait := s.at.Sub(c.clock.Now()); wait > 0 {
		return worker.RequeueAfter(wait)
	}
	c.record(key, "Marking for deletion Pod %s")
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	if err := c.markAndDelete(ctx, ns, name); err != nil {
		return fmt.Errorf("evict pod %s: %w", key, err)
	}
	c.mu.Lock()
	if cur, ok := c.pending[key]; ok && cur == s {
		delete(c.pending, key)
	}
	c.mu.Unlock()
	return nil
}

// markAndDelete gives the pod the DisruptionTarget condition, then deletes it.
func (c *Controller) markAndDelete(ctx context.Context, ns, name string) error {
	pods := c.cfg.Client.CoreV1().Pods(ns)
	pod, err := pods.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cond := disruptionCondition(pod, metav1.NewTime(c.clock.Now())); cond != nil {
		patch, err := json.Marshal(map[string]interface{}{
			"metadata": map[string]interface{}{"uid": pod.UID},
			"status":   map[string]interface{}{"conditions": []corev1.PodCondition{*cond}},
		})
		if err != nil {
			return err
		}
		if _, err := pods.Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		}
	}
	err = pods.Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// disruptionCondition returns the DisruptionTarget condition to set on a pod,
// or nil when it already has it.
func disruptionCondition(pod *corev1.Pod, now metav1.Time) *corev1.PodCondition {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == disruptionReason {
			return nil
		}
	}
	return &corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: disruptionReason,
		Message: disruptionMessage, LastTransitionTime: now, ObservedGeneration: pod.Generation}
}
