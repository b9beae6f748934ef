package nodelifecycle

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// syncPod marks a pod just placed on a node not Ready when the node is not.
func (c *Controller) syncPod(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	obj, exists, err := c.pods.GetByKey(key)
	if err != nil || !exists {
		return err
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Namespace != ns || pod.Name != name || pod.Spec.NodeName == "" {
		return nil
	}
	h := c.healthOf(pod.Spec.NodeName)
	if h == nil {
		// Not looked at yet: the next health pass handles its pods.
		return nil
	}
	if _, err := c.nodes.Get(pod.Spec.NodeName); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	ready := findCondition(h.status, corev1.NodeReady)
	if ready == nil || ready.Status == corev1.ConditionTrue {
		return nil
	}
	return c.markPodsNotReady(ctx, []*corev1.Pod{pod}, pod.Spec.NodeName)
}

// markPodsNotReady sets the Ready condition of a node's pods to False, with a
// NodeNotReady event on each, as upstream does when a node stops being Ready.
func (c *Controller) markPodsNotReady(ctx context.Context, pods []*corev1.Pod, node string) error {
	var errs []error
	now := metav1.NewTime(c.clock.Now())
	for _, p := range pods {
		if p.Spec.NodeName != node {
			continue
		}
		pod := p.DeepCopy()
		if !setReadyFalse(&pod.Status, now) {
			continue
		}
		if _, err := c.cfg.Client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			errs = append(errs, fmt.Errorf("mark pod %s/%s not ready: %w", pod.Namespace, pod.Name, err))
			continue
		}
		c.cfg.Recorder.Eventf(pod, nil, corev1.EventTypeWarning, "NodeNotReady", "MarkNotReady", "Node is not ready")
	}
	return errors.Join(errs...)
}

// setReadyFalse turns a pod's Ready condition False; it reports whether it
// changed anything (a pod without the condition is left alone).
func setReadyFalse(st *corev1.PodStatus, now metav1.Time) bool {
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != corev1.PodReady {
			continue
		}
		if c.Status == corev1.ConditionFalse {
			return false
		}
		c.Status = corev1.ConditionFalse
		c.LastTransitionTime = now
		return true
	}
	return false
}
