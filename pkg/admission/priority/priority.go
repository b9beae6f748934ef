// Package priority is upstream's Priority admission plugin: a new pod's
// priority comes from its PriorityClass, or from the cluster's default class
// when it names none.
package priority

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/registry/scheduling"
)

// Name is the plugin's name.
const Name = "Priority"

var (
	podsGVR           = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	priorityClassesGR = schema.GroupResource{Group: "scheduling.k8s.io", Resource: "priorityclasses"}
	priorityClassGVR  = priorityClassesGR.WithVersion("v1")
)

// Plugin is the Priority plugin.
type Plugin struct {
	admission.Handler
	objects admission.Objects
}

var (
	_ admission.MutationInterface   = &Plugin{}
	_ admission.ValidationInterface = &Plugin{}
	_ admission.ResourceSelector    = &Plugin{}
)

// New returns the plugin reading PriorityClasses from objects.
func New(objects admission.Objects) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update), objects: objects}
}

// HandlesResource: pods and PriorityClasses, not their subresources.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return t.Subresource == "" && (t.Resource == podsGVR.GroupResource() || t.Resource == priorityClassesGR)
}

// Admit resolves a pod's priority.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	if a.GroupResource() != podsGVR.GroupResource() {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return apierrors.NewBadRequest("resource was marked with kind Pod but was unable to be converted")
	}
	if a.Operation == admission.Update {
		// Set on create; an update that leaves them out keeps them (validation
		// refuses any other change).
		if old, ok := a.OldObject.(*corev1.Pod); ok {
			if pod.Spec.Priority == nil {
				pod.Spec.Priority = old.Spec.Priority
			}
			if pod.Spec.PreemptionPolicy == nil {
				pod.Spec.PreemptionPolicy = old.Spec.PreemptionPolicy
			}
		}
		return nil
	}
	var priority int32
	var policy *corev1.PreemptionPolicy
	if pod.Spec.PriorityClassName == "" {
		pc, err := p.globalDefault(ctx)
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
		got, err := p.objects.Get(ctx, priorityClassGVR, "", name)
		if apierrors.IsNotFound(err) {
			// The system classes hold even before the server has stored them.
			if sys := systemPriorityClass(name); sys != nil {
				got, err = sys, nil
			} else {
				return a.Forbidden(fmt.Errorf("no PriorityClass with name %v was found", name))
			}
		}
		if err != nil {
			return fmt.Errorf("failed to get PriorityClass with name %s: %v", name, err)
		}
		pc, ok := got.(*schedulingv1.PriorityClass)
		if !ok {
			return fmt.Errorf("failed to get PriorityClass with name %s: got a %T", name, got)
		}
		priority, policy = pc.Value, pc.PreemptionPolicy
		if policy == nil {
			// Stored classes are defaulted so; the system ones held in
			// memory are not.
			lower := corev1.PreemptLowerPriority
			policy = &lower
		}
	}
	if pod.Spec.Priority != nil && *pod.Spec.Priority != priority {
		return a.Forbidden(fmt.Errorf("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name",
			*pod.Spec.Priority, priority))
	}
	pod.Spec.Priority = &priority
	if policy != nil {
		if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != *policy {
			return a.Forbidden(fmt.Errorf("the string value of PreemptionPolicy (%s) must not be provided in pod spec; priority admission controller computed %s from the given PriorityClass name",
				*pod.Spec.PreemptionPolicy, *policy))
		}
		pp := *policy
		pod.Spec.PreemptionPolicy = &pp
	}
	return nil
}

// Validate keeps PriorityClasses to one global default.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	if a.GroupResource() != priorityClassesGR {
		return nil
	}
	pc, ok := a.Object.(*schedulingv1.PriorityClass)
	if !ok {
		return apierrors.NewBadRequest("resource was marked with kind PriorityClass but was unable to be converted")
	}
	if !pc.GlobalDefault {
		return nil
	}
	def, err := p.globalDefault(ctx)
	if err != nil {
		return fmt.Errorf("failed to get default priority class: %v", err)
	}
	if def != nil && (a.Operation == admission.Create || def.Name != pc.Name) {
		return a.Forbidden(fmt.Errorf("PriorityClass %v is already marked as default. Only one default can exist", def.Name))
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

// globalDefault is the class with globalDefault set; should a race have made
// several, the one of lowest value, as upstream picks.
func (p *Plugin) globalDefault(ctx context.Context) (*schedulingv1.PriorityClass, error) {
	list, err := p.objects.List(ctx, priorityClassGVR, "")
	if err != nil {
		return nil, err
	}
	var def *schedulingv1.PriorityClass
	for _, obj := range list {
		pc, ok := obj.(*schedulingv1.PriorityClass)
		if ok && pc.GlobalDefault && (def == nil || pc.Value < def.Value) {
			def = pc
		}
	}
	return def, nil
}
