package core

import (
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// updatablePodFields is the list upstream prints when a pod update changes more.
var updatablePodFields = []string{
	"`spec.containers[*].image`",
	"`spec.initContainers[*].image`",
	"`spec.activeDeadlineSeconds`",
	"`spec.tolerations` (only additions to existing tolerations)",
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
}

// validatePodUpdate allows a running pod's images, active deadline, new
// tolerations and removed scheduling gates to change, and nothing else in its spec.
func validatePodUpdate(obj, old runtime.Object) field.ErrorList {
	pod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	errs := podspec.ValidatePod(pod)
	errs = append(errs, validatePodAnnotationUpdates(pod, oldPod)...)
	spec := field.NewPath("spec")
	for _, list := range []struct {
		name     string
		new, old []corev1.Container
	}{{"containers", pod.Spec.Containers, oldPod.Spec.Containers}, {"initContainers", pod.Spec.InitContainers, oldPod.Spec.InitContainers}} {
		if len(list.new) != len(list.old) {
			return append(errs, field.Forbidden(spec.Child(list.name), "pod updates may not add or remove containers"))
		}
	}
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil {
		if *d < 0 || *d > math.MaxInt32 {
			return append(errs, field.Invalid(spec.Child("activeDeadlineSeconds"), *d, validation.InclusiveRangeError(0, math.MaxInt32)))
		}
		if od := oldPod.Spec.ActiveDeadlineSeconds; od != nil && *od < *d {
			return append(errs, field.Invalid(spec.Child("activeDeadlineSeconds"), *d, "must be less than or equal to previous value"))
		}
	} else if oldPod.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Invalid(spec.Child("activeDeadlineSeconds"), pod.Spec.ActiveDeadlineSeconds, "must not update from a positive integer to nil value"))
	}
	errs = append(errs, validateOnlyAddedTolerations(pod.Spec.Tolerations, oldPod.Spec.Tolerations, spec.Child("tolerations"))...)
	errs = append(errs, validateOnlyRemovedGates(pod.Spec.SchedulingGates, oldPod.Spec.SchedulingGates, spec.Child("schedulingGates"))...)
	if equality.Semantic.DeepEqual(pod.Spec, oldPod.Spec) {
		return errs
	}
	// Put back what may change; anything still different is a forbidden change.
	munged := pod.Spec.DeepCopy()
	for i := range munged.Containers {
		munged.Containers[i].Image = oldPod.Spec.Containers[i].Image
	}
	for i := range munged.InitContainers {
		munged.InitContainers[i].Image = oldPod.Spec.InitContainers[i].Image
	}
	munged.ActiveDeadlineSeconds = oldPod.Spec.ActiveDeadlineSeconds
	munged.SchedulingGates = oldPod.Spec.SchedulingGates
	munged.Tolerations = oldPod.Spec.Tolerations
	if g := oldPod.Spec.TerminationGracePeriodSeconds; g != nil && *g < 0 && munged.TerminationGracePeriodSeconds != nil && *munged.TerminationGracePeriodSeconds == 1 {
		munged.TerminationGracePeriodSeconds = g
	}
	if len(oldPod.Spec.SchedulingGates) > 0 {
		// A gated pod may still get a narrower node selector or affinity.
		munged.NodeSelector = oldPod.Spec.NodeSelector
		if munged.Affinity != nil && oldPod.Spec.Affinity != nil {
			munged.Affinity.NodeAffinity = oldPod.Spec.Affinity.NodeAffinity
		}
	}
	if !equality.Semantic.DeepEqual(*munged, oldPod.Spec) {
		errs = append(errs, field.Forbidden(spec, fmt.Sprintf("pod updates may not change fields other than %s\n%v",
			strings.Join(updatablePodFields, ","), podspec.SpecDiff(oldPod.Spec, *munged))))
	}
	return errs
}

func validateOnlyAddedTolerations(tolerations, old []corev1.Toleration, fld *field.Path) field.ErrorList {
	for _, o := range old {
		found := false
		for _, n := range tolerations {
			c := o
			c.TolerationSeconds = n.TolerationSeconds
			if reflect.DeepEqual(c, n) {
				found = true
				break
			}
		}
		if !found {
			return field.ErrorList{field.Forbidden(fld, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return podspec.ValidateTolerations(tolerations, fld)
}

func validateOnlyRemovedGates(gates, old []corev1.PodSchedulingGate, fld *field.Path) field.ErrorList {
	had := map[string]bool{}
	for _, g := range old {
		had[g.Name] = true
	}
	var errs field.ErrorList
	for i, g := range gates {
		if !had[g.Name] {
			errs = append(errs, field.Forbidden(fld.Index(i).Child("name"), fmt.Sprintf("only deletion is allowed, but found new scheduling gate '%s'", g.Name)))
		}
	}
	return errs
}

// validatePodAnnotationUpdates: the mirror pod and AppArmor annotations are fixed.
func validatePodAnnotationUpdates(pod, old *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	fld := field.NewPath("metadata", "annotations")
	fixed := func(k string) bool {
		return k == corev1.MirrorPodAnnotationKey || strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix)
	}
	for k, v := range old.Annotations {
		if nv, ok := pod.Annotations[k]; (!ok || nv != v) && fixed(k) {
			if k == corev1.MirrorPodAnnotationKey {
				errs = append(errs, field.Forbidden(fld.Key(k), "may not remove or update mirror pod annotation"))
			} else {
				errs = append(errs, field.Forbidden(fld.Key(k), "may not remove or update AppArmor annotations"))
			}
		}
	}
	for k := range pod.Annotations {
		if _, ok := old.Annotations[k]; !ok && fixed(k) {
			if k == corev1.MirrorPodAnnotationKey {
				errs = append(errs, field.Forbidden(fld.Key(k), "may not add mirror pod annotation"))
			} else {
				errs = append(errs, field.Forbidden(fld.Key(k), "may not add AppArmor annotations"))
			}
		}
	}
	return errs
}

// systemPodConditions may be any string; others must be qualified names.
var systemPodConditions = map[corev1.PodConditionType]bool{corev1.PodScheduled: true, corev1.PodReady: true, corev1.PodInitialized: true}

func validatePodStatusUpdate(obj, old runtime.Object) field.ErrorList {
	pod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	status := field.NewPath("status")
	var errs field.ErrorList
	for i, c := range pod.Status.Conditions {
		if c.ObservedGeneration < 0 {
			errs = append(errs, field.Invalid(status.Child("conditions").Index(i).Child("observedGeneration"), c.ObservedGeneration, "must be a non-negative integer"))
		}
		if !systemPodConditions[c.Type] {
			errs = append(errs, podspec.QualifiedName(string(c.Type), status.Child("conditions").Index(i).Child("Type"))...)
		}
	}
	if n := pod.Status.NominatedNodeName; n != oldPod.Status.NominatedNodeName && n != "" {
		for _, msg := range apivalidation.NameIsDNSSubdomain(n, false) {
			errs = append(errs, field.Invalid(status.Child("nominatedNodeName"), n, msg))
		}
	}
	if pod.Status.ObservedGeneration < 0 {
		errs = append(errs, field.Invalid(status.Child("observedGeneration"), pod.Status.ObservedGeneration, "must be a non-negative integer"))
	}
	errs = append(errs, apivalidation.ValidateImmutableField(pod.Status.QOSClass, oldPod.Status.QOSClass, status.Child("qosClass"))...)
	podIPs := make([]string, len(pod.Status.PodIPs))
	for i, ip := range pod.Status.PodIPs {
		podIPs[i] = ip.IP
	}
	errs = append(errs, validateIPList(podIPs, ipsOf(oldPod.Status.PodIPs), status.Child("podIPs"), podspec.GoNamed(pod.Status.PodIPs))...)
	if len(pod.Status.HostIPs) > 0 {
		hostIPs := make([]string, len(pod.Status.HostIPs))
		for i, ip := range pod.Status.HostIPs {
			hostIPs[i] = ip.IP
		}
		if pod.Status.HostIP != hostIPs[0] {
			errs = append(errs, field.Invalid(status.Child("hostIPs").Index(0).Child("ip"), hostIPs[0], "must be equal to `hostIP`"))
		}
		var old []string
		for _, ip := range oldPod.Status.HostIPs {
			old = append(old, ip.IP)
		}
		errs = append(errs, validateIPList(hostIPs, old, status.Child("hostIPs"), podspec.GoNamed(pod.Status.HostIPs))...)
	}
	return errs
}

func ipsOf(list []corev1.PodIP) []string {
	var out []string
	for _, ip := range list {
		out = append(out, ip.IP)
	}
	return out
}

// validateIPList checks each address and that there is at most one per family.
func validateIPList(ips, old []string, fld *field.Path, value interface{}) field.ErrorList {
	var errs field.ErrorList
	for i, ip := range ips {
		errs = append(errs, validation.IsValidIPForLegacyField(fld.Index(i), ip, false, old)...)
	}
	if len(errs) > 0 || len(ips) < 2 {
		return errs
	}
	if !dualStack(ips) {
		errs = append(errs, field.Invalid(fld, value, "may specify no more than one IP for each IP family"))
	}
	return errs
}

// dualStack: exactly one IPv4 and one IPv6 address.
func dualStack(ips []string) bool {
	if len(ips) != 2 {
		return false
	}
	a, err1 := netip.ParseAddr(ips[0])
	b, err2 := netip.ParseAddr(ips[1])
	return err1 == nil && err2 == nil && a.Unmap().Is4() != b.Unmap().Is4()
}
