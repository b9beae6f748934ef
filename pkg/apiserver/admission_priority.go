package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/scheduling"
	"github.com/minik8s/minik8s/pkg/storage"
)

// admitPriority resolves a new pod's priority as upstream's Priority admission
// plugin does: from its PriorityClass, or the global default class when it
// names none (priority 0 when there is none either). A priority or preemption
// policy the pod gives must match what the class says.
func (a *admission) admitPriority(ctx context.Context, res *registry.Resource, pod *corev1.Pod) error {
	pcRes := a.reg.Get(schema.GroupVersionResource{Group: "scheduling.k8s.io", Version: "v1", Resource: "priorityclasses"})
	if pcRes == nil || pcRes.Store == nil {
		return nil
	}
	forbid := func(format string, args ...interface{}) error {
		return apierrors.NewForbidden(res.GroupResource(), pod.Name, fmt.Errorf(format, args...))
	}
	var priority int32
	var policy *corev1.PreemptionPolicy
	if pod.Spec.PriorityClassName == "" {
		pc, err := globalDefaultPriorityClass(ctx, pcRes)
		if err != nil {
			return fmt.Errorf("failed to get default priority class: %v", err)
		}
		if pc != nil {
			pod.Spec.PriorityClassName = pc.Name
			priority, policy = pc.Value, pc.PreemptionPolicy
		} else {
			lower := corev1.PreemptLowerPriority
			policy = &lower
		}
	} else {
		name := pod.Spec.PriorityClassName
		got, err := pcRes.Store.Get(ctx, pcRes.Store.Key("", name), name, storage.ReadOptions{ResourceVersion: "0"})
		if apierrors.IsNotFound(err) {
			// The cache may lag a class created a moment ago; ask for the latest.
			got, err = pcRes.Store.Get(ctx, pcRes.Store.Key("", name), name, storage.ReadOptions{})
		}
		if apierrors.IsNotFound(err) {
			// The system classes hold even before the server has stored them.
			if sys := systemPriorityClass(name); sys != nil {
				got, err = sys, nil
			} else {
				return forbid("no PriorityClass with name %v was found", name)
			}
		}
		if err != nil {
			return fmt.Errorf("failed to get PriorityClass with name %s: %v", name, err)
		}
		pc, ok := got.(*schedulingv1.PriorityClass)
		if !ok {
			return nil
		}
		priority, policy = pc.Value, pc.PreemptionPolicy
	}
	if pod.Spec.Priority != nil && *pod.Spec.Priority != priority {
		return forbid("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name",
			*pod.Spec.Priority, priority)
	}
	pod.Spec.Priority = &priority
	if policy != nil {
		if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != *policy {
			return forbid("the string value of PreemptionPolicy (%s) must not be provided in pod spec; priority admission controller computed %s from the given PriorityClass name",
				*pod.Spec.PreemptionPolicy, *policy)
		}
		p := *policy
		pod.Spec.PreemptionPolicy = &p
	}
	return nil
}

func systemPriorityClass(name string) *schedulingv1.PriorityClass {
	for _, pc := range scheduling.SystemPriorityClasses() {
		if pc.Name == name {
			return pc
		}
	}
	return nil
}

// globalDefaultPriorityClass is the class with globalDefault set; should a race
// have made several, the one of lowest value, as upstream picks.
func globalDefaultPriorityClass(ctx context.Context, pcRes *registry.Resource) (*schedulingv1.PriorityClass, error) {
	list, err := pcRes.Store.List(ctx, storage.ListOptions{ReadOptions: storage.ReadOptions{ResourceVersion: "0"}})
	if err != nil {
		return nil, err
	}
	var def *schedulingv1.PriorityClass
	for _, obj := range list.Items {
		pc, ok := obj.(*schedulingv1.PriorityClass)
		if ok && pc.GlobalDefault && (def == nil || pc.Value < def.Value) {
			def = pc
		}
	}
	return def, nil
}
