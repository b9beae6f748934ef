// Package runtimeclass is upstream's RuntimeClass admission plugin: a new pod
// naming a RuntimeClass gets the class's overhead and scheduling constraints,
// and is refused when the class does not exist or its overhead disagrees.
package runtimeclass

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Name is the plugin's name.
const Name = "RuntimeClass"

var (
	podsGR          = schema.GroupResource{Resource: "pods"}
	runtimeClassGVR = schema.GroupVersionResource{Group: "node.k8s.io", Version: "v1", Resource: "runtimeclasses"}
)

// Plugin is the RuntimeClass plugin.
type Plugin struct {
	admission.Handler
	objects admission.Objects
}

var (
	_ admission.MutationInterface   = &Plugin{}
	_ admission.ValidationInterface = &Plugin{}
	_ admission.ResourceSelector    = &Plugin{}
)

// New returns the plugin reading RuntimeClasses from objects.
func New(objects admission.Objects) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create), objects: objects}
}

// HandlesResource: pods, not their subresources.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return t.Resource == podsGR && t.Subresource == ""
}

// Admit copies the class's overhead and scheduling constraints into the pod.
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	pod, rc, err := p.objectsOf(ctx, a)
	if err != nil || rc == nil {
		return err
	}
	if rc.Overhead != nil {
		if len(pod.Spec.Overhead) > 0 && !apiequality.Semantic.DeepEqual(pod.Spec.Overhead, rc.Overhead.PodFixed) {
			return a.Forbidden(errors.New("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"))
		}
		pod.Spec.Overhead = rc.Overhead.PodFixed.DeepCopy()
	}
	if rc.Scheduling == nil {
		return nil
	}
	for k, v := range rc.Scheduling.NodeSelector {
		if have, ok := pod.Spec.NodeSelector[k]; ok && have != v {
			return a.Forbidden(fmt.Errorf("conflict: runtimeClass.scheduling.nodeSelector[%s] = %s; pod.spec.nodeSelector[%s] = %s", k, v, k, have))
		}
		if pod.Spec.NodeSelector == nil {
			pod.Spec.NodeSelector = map[string]string{}
		}
		pod.Spec.NodeSelector[k] = v
	}
	for _, t := range rc.Scheduling.Tolerations {
		dup := false
		for _, have := range pod.Spec.Tolerations {
			if apiequality.Semantic.DeepEqual(have, t) {
				dup = true
				break
			}
		}
		if !dup {
			pod.Spec.Tolerations = append(pod.Spec.Tolerations, t)
		}
	}
	return nil
}

// Validate refuses an overhead the class does not define.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	pod, rc, err := p.objectsOf(ctx, a)
	if err != nil {
		return err
	}
	if rc != nil && rc.Overhead != nil {
		if !apiequality.Semantic.DeepEqual(pod.Spec.Overhead, rc.Overhead.PodFixed) {
			return a.Forbidden(errors.New("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"))
		}
	} else if pod.Spec.Overhead != nil {
		return a.Forbidden(errors.New("pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"))
	}
	return nil
}

// objectsOf returns the pod and its RuntimeClass (nil when it names none).
func (p *Plugin) objectsOf(ctx context.Context, a *admission.Attributes) (*corev1.Pod, *nodev1.RuntimeClass, error) {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil, nil, apierrors.NewBadRequest("Resource was marked with kind Pod but was unable to be converted")
	}
	if pod.Spec.RuntimeClassName == nil {
		return pod, nil, nil
	}
	name := *pod.Spec.RuntimeClassName
	obj, err := p.objects.Get(ctx, runtimeClassGVR, "", name)
	if apierrors.IsNotFound(err) {
		return pod, nil, a.Forbidden(fmt.Errorf("pod rejected: RuntimeClass %q not found", name))
	}
	if err != nil {
		return pod, nil, err
	}
	rc, ok := obj.(*nodev1.RuntimeClass)
	if !ok {
		return pod, nil, fmt.Errorf("RuntimeClass %s is a %T", name, obj)
	}
	return pod, rc, nil
}
