package nodelifecycle

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

// betaLabels are the deprecated node labels kept equal to their GA
// counterparts, as upstream still does.
var betaLabels = map[string]string{
	corev1.LabelOSStable:   "beta.kubernetes.io/os",
	corev1.LabelArchStable: "beta.kubernetes.io/arch",
}

// syncNode keeps a node's NoSchedule taints in line with its conditions and
// spec.unschedulable, and its beta OS and architecture labels with the GA ones.
func (c *Controller) syncNode(ctx context.Context, name string) error {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if add, remove := noScheduleChanges(node); len(add)+len(remove) > 0 {
		if err := c.updateTaints(ctx, name, node, add, remove); err != nil {
			return fmt.Errorf("update NoSchedule taints of node %s: %w", name, err)
		}
	}
	if labels := betaLabelChanges(node.Labels); len(labels) > 0 {
		patch, err := json.Marshal(map[string]interface{}{"metadata": map[string]interface{}{"labels": labels}})
		if err != nil {
			return err
		}
		if _, err := c.cfg.Client.CoreV1().Nodes().Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("update labels of node %s: %w", name, err)
		}
	}
	return nil
}

// betaLabelChanges returns the beta labels to set so they match the GA ones.
func betaLabelChanges(labels map[string]string) map[string]string {
	out := map[string]string{}
	for ga, beta := range betaLabels {
		v, ok := labels[ga]
		if !ok {
			continue
		}
		if cur, ok := labels[beta]; !ok || cur != v {
			out[beta] = v
		}
	}
	return out
}

// updateTaints adds and removes taints on a node, re-reading it on conflicts.
// cached, when given, saves the write if it already needs nothing.
func (c *Controller) updateTaints(ctx context.Context, name string, cached *corev1.Node, add, remove []corev1.Taint) error {
	if cached != nil {
		if _, changed := applyTaints(cached.Spec.Taints, add, remove, c.clock.Now()); !changed {
			return nil
		}
	}
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		node, err := c.cfg.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		taints, changed := applyTaints(node.Spec.Taints, add, remove, c.clock.Now())
		if !changed {
			return nil
		}
		node.Spec.Taints = taints
		_, err = c.cfg.Client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
}
