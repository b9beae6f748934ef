package core

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Bindings is core/v1 bindings, the old way to bind a pod to a node by POSTing a
// Binding to the namespace (the scheduler uses pods/binding). Nothing is stored:
// the pod named by the binding gets its node.
func Bindings(pods *registry.Resource) *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "bindings", Kind: "Binding", SingularName: "binding", Namespaced: true,
		New:      func() runtime.Object { return &corev1.Binding{} },
		NewList:  func() runtime.Object { return &corev1.List{} },
		Verbs:    []string{"create"},
		Strategy: &registry.Generic{NoStatusSplit: true, NoGeneration: true},
		Create: func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
			b := obj.(*corev1.Binding)
			// Upstream answers an invalid binding with a plain error (500), not a 422.
			if errs := validateBinding(b); len(errs) > 0 {
				return nil, errs.ToAggregate()
			}
			if err := bindPod(ctx, pods, b); err != nil {
				return nil, err
			}
			return b, nil
		},
	}
}

func validateBinding(b *corev1.Binding) field.ErrorList {
	var errs field.ErrorList
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		errs = append(errs, field.NotSupported(field.NewPath("target", "kind"), b.Target.Kind, []string{"Node", "<empty>"}))
	}
	if b.Target.Name == "" {
		errs = append(errs, field.Required(field.NewPath("target", "name"), ""))
	}
	return errs
}

// bindPod sets the pod's node once and marks it scheduled.
func bindPod(ctx context.Context, pods *registry.Resource, b *corev1.Binding) error {
	if pods == nil || pods.Store == nil {
		return apierrors.NewServiceUnavailable("pods are not being served")
	}
	gr := schema.GroupResource{Resource: "pods/binding"}
	_, _, err := pods.Store.GuaranteedUpdate(ctx, pods.Store.Key(b.Namespace, b.Name), b.Name, false,
		func(existing runtime.Object) (runtime.Object, int64, error) {
			pod := existing.(*corev1.Pod)
			switch {
			case pod.DeletionTimestamp != nil:
				return nil, 0, apierrors.NewConflict(gr, b.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", b.Name))
			case b.UID != "" && b.UID != pod.UID:
				return nil, 0, apierrors.NewConflict(gr, b.Name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", b.UID, pod.UID))
			case pod.Spec.NodeName != "":
				return nil, 0, apierrors.NewConflict(gr, b.Name, fmt.Errorf("pod %v is already assigned to node %q", b.Name, pod.Spec.NodeName))
			}
			pod.Spec.NodeName = b.Target.Name
			for k, v := range b.Annotations {
				if pod.Annotations == nil {
					pod.Annotations = map[string]string{}
				}
				pod.Annotations[k] = v
			}
			scheduled := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(time.Now())}
			found := false
			for i, c := range pod.Status.Conditions {
				if c.Type == corev1.PodScheduled {
					found = true
					if c.Status != corev1.ConditionTrue {
						pod.Status.Conditions[i] = scheduled
					}
				}
			}
			if !found {
				pod.Status.Conditions = append(pod.Status.Conditions, scheduled)
			}
			return pod, 0, nil
		})
	return err
}
