package core

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// Pods have two updatable subresources besides status: ephemeralcontainers, which
// only adds debugging containers (kubectl debug), and resize, which only changes
// containers' cpu and memory.
var _ registry.SubresourceStrategy = podStrategy{}

// PrepareForSubresourceUpdate keeps everything from the stored pod but what the
// subresource governs.
func (podStrategy) PrepareForSubresourceUpdate(_ context.Context, sub string, obj, old runtime.Object) {
	pod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	spec := oldPod.Spec.DeepCopy()
	switch sub {
	case "ephemeralcontainers":
		spec.EphemeralContainers = pod.Spec.EphemeralContainers
	case "resize":
		spec.Containers = resizedContainers(pod.Spec.Containers, spec.Containers)
		spec.InitContainers = resizedContainers(pod.Spec.InitContainers, spec.InitContainers)
	}
	pod.Spec = *spec
	pod.Status = oldPod.Status
	keepMetadata(pod, oldPod)
	pod.Generation = oldPod.Generation
	if !equality.Semantic.DeepEqual(pod.Spec, oldPod.Spec) {
		pod.Generation++
	}
}

// keepMetadata leaves the metadata a subresource may not change as stored.
func keepMetadata(pod, old *corev1.Pod) {
	pod.DeletionTimestamp = old.DeletionTimestamp
	pod.Labels = old.Labels
	pod.Annotations = old.Annotations
	pod.Finalizers = old.Finalizers
	pod.OwnerReferences = old.OwnerReferences
}

// resizedContainers takes resources and resize policies from the request; a
// different set of containers is left for validation to refuse.
func resizedContainers(requested, stored []corev1.Container) []corev1.Container {
	if len(requested) != len(stored) {
		return requested
	}
	out := make([]corev1.Container, len(stored))
	copy(out, stored)
	for i := range requested {
		if requested[i].Name != stored[i].Name {
			return requested
		}
		out[i].Resources = requested[i].Resources
		out[i].ResizePolicy = requested[i].ResizePolicy
	}
	return out
}

// ValidateSubresourceUpdate checks the pod as a whole, then what the subresource allows.
func (podStrategy) ValidateSubresourceUpdate(_ context.Context, sub string, obj, old runtime.Object) field.ErrorList {
	pod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	switch sub {
	case "ephemeralcontainers":
		return validateEphemeralContainersUpdate(pod, oldPod)
	case "resize":
		return validateResize(pod, oldPod)
	}
	return nil
}

func validateEphemeralContainersUpdate(pod, old *corev1.Pod) field.ErrorList {
	errs := podspec.ValidatePod(pod)
	errs = append(errs, validatePodAnnotationUpdates(pod, old)...)
	if _, mirror := old.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "static pods do not support ephemeral containers")}
	}
	fld := field.NewPath("spec", "ephemeralContainers")
	byName := map[string]*corev1.EphemeralContainer{}
	for i := range pod.Spec.EphemeralContainers {
		byName[pod.Spec.EphemeralContainers[i].Name] = &pod.Spec.EphemeralContainers[i]
	}
	for _, o := range old.Spec.EphemeralContainers {
		n, ok := byName[o.Name]
		switch {
		case !ok:
			errs = append(errs, field.Forbidden(fld, fmt.Sprintf("existing ephemeral containers %q may not be removed\n", o.Name)))
		case !equality.Semantic.DeepEqual(o, *n):
			errs = append(errs, field.Forbidden(fld, fmt.Sprintf("existing ephemeral containers %q may not be changed\n%v", o.Name, podspec.SpecDiff(o, *n))))
		}
	}
	return errs
}

func validateResize(pod, old *corev1.Pod) field.ErrorList {
	errs := podspec.ValidatePod(pod)
	podLevel := func(p *corev1.Pod) bool {
		return p.Spec.Resources != nil && len(p.Spec.Resources.Requests)+len(p.Spec.Resources.Limits) > 0
	}
	whole := field.NewPath("")
	switch _, mirror := old.Annotations[corev1.MirrorPodAnnotationKey]; {
	case podLevel(old) || podLevel(pod):
		return field.ErrorList{field.Forbidden(whole, "pods with pod-level resources cannot be resized")}
	case mirror:
		return field.ErrorList{field.Forbidden(whole, "static pods cannot be resized")}
	case old.Spec.OS != nil && old.Spec.OS.Name == corev1.Windows:
		return field.ErrorList{field.Forbidden(whole, "windows pods cannot be resized")}
	}
	spec := field.NewPath("spec")
	oldQOS := old.Status.QOSClass
	if oldQOS == "" {
		oldQOS = podspec.QOSClass(&old.Spec)
	}
	if oldQOS != podspec.QOSClass(&pod.Spec) {
		errs = append(errs, field.Invalid(spec, pod.Status.QOSClass, "Pod QOS Class may not change as a result of resizing"))
	}
	for _, s := range old.Status.ContainerStatuses {
		if s.State.Running != nil {
			if s.Resources == nil {
				errs = append(errs, field.Forbidden(spec, "Pod running on node without support for resize"))
			}
			break
		}
	}
	order := resizeOrderErrors(pod, old, spec)
	if len(order) > 0 {
		return append(errs, order...)
	}
	for i := range old.Spec.InitContainers {
		if isSidecar(&old.Spec.InitContainers[i]) {
			errs = append(errs, resourcesNotRemoved(&pod.Spec.InitContainers[i].Resources, &old.Spec.InitContainers[i].Resources,
				spec.Child("initContainers").Index(i).Child("resources"))...)
		}
	}
	for i := range old.Spec.Containers {
		errs = append(errs, resourcesNotRemoved(&pod.Spec.Containers[i].Resources, &old.Spec.Containers[i].Resources,
			spec.Child("containers").Index(i).Child("resources"))...)
	}
	munged := pod.Spec.DeepCopy()
	for i := range munged.Containers {
		keepOtherResources(&munged.Containers[i], &old.Spec.Containers[i])
		if !equality.Semantic.DeepEqual(munged.Containers[i], old.Spec.Containers[i]) {
			errs = append(errs, field.Forbidden(spec, "only cpu and memory resources are mutable"))
		}
	}
	for i := range munged.InitContainers {
		c := &munged.InitContainers[i]
		if isSidecar(c) {
			keepOtherResources(c, &old.Spec.InitContainers[i])
			if !equality.Semantic.DeepEqual(*c, old.Spec.InitContainers[i]) {
				errs = append(errs, field.Forbidden(spec, "only cpu and memory resources for sidecar containers are mutable"))
			}
		} else if !equality.Semantic.DeepEqual(*c, old.Spec.InitContainers[i]) {
			errs = append(errs, field.Forbidden(spec, "resources for non-sidecar init containers are immutable"))
		}
	}
	if len(errs) == 0 && !equality.Semantic.DeepEqual(*munged, old.Spec) {
		errs = append(errs, field.Forbidden(spec, "only cpu and memory resources are mutable"))
	}
	return errs
}

func resizeOrderErrors(pod, old *corev1.Pod, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, list := range []struct {
		name     string
		new, old []corev1.Container
	}{{"containers", pod.Spec.Containers, old.Spec.Containers}, {"initContainers", pod.Spec.InitContainers, old.Spec.InitContainers}} {
		if len(list.new) != len(list.old) {
			errs = append(errs, field.Forbidden(spec.Child(list.name), list.name+" may not be added or removed on resize"))
			continue
		}
		for i := range list.old {
			if list.new[i].Name != list.old[i].Name {
				errs = append(errs, field.Forbidden(spec.Child(list.name).Index(i).Child("name"), list.name+" may not be renamed or reordered on resize"))
			}
		}
	}
	return errs
}

func resourcesNotRemoved(r, old *corev1.ResourceRequirements, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	removed := func(list, oldList corev1.ResourceList) bool {
		for name := range oldList {
			if _, ok := list[name]; !ok {
				return true
			}
		}
		return false
	}
	if removed(r.Requests, old.Requests) {
		errs = append(errs, field.Forbidden(fld.Child("requests"), "resource requests cannot be removed"))
	}
	if removed(r.Limits, old.Limits) {
		errs = append(errs, field.Forbidden(fld.Child("limits"), "resource limits cannot be removed"))
	}
	return errs
}

// keepOtherResources puts back the stored cpu and memory, so that what is left
// to compare is everything a resize may not change.
func keepOtherResources(c, old *corev1.Container) {
	fix := func(list, oldList corev1.ResourceList) corev1.ResourceList {
		if oldList == nil {
			return nil
		}
		out := corev1.ResourceList{}
		for k, v := range list {
			if k != corev1.ResourceCPU && k != corev1.ResourceMemory {
				out[k] = v
			}
		}
		for _, k := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if v, ok := oldList[k]; ok {
				out[k] = v
			}
		}
		return out
	}
	c.Resources = corev1.ResourceRequirements{Limits: fix(c.Resources.Limits, old.Resources.Limits),
		Requests: fix(c.Resources.Requests, old.Resources.Requests), Claims: c.Resources.Claims}
}
