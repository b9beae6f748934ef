// Package servicepods answers the questions the Endpoints and EndpointSlice
// controllers share about the pods behind a Service, with upstream's rules:
// which pods count, which port a Service port reaches on a pod, and which
// Services a pod change concerns.
package servicepods

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/kubectl/pkg/util/podutils"
)

// Included reports whether a pod belongs in a Service's endpoints at all: it
// has an IP and has not finished. Terminating pods count only when
// includeTerminating (EndpointSlices report them with the terminating
// condition; v1 Endpoints drop them unless the Service publishes not-ready
// addresses).
func Included(pod *corev1.Pod, includeTerminating bool) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	if pod.Status.PodIP == "" && len(pod.Status.PodIPs) == 0 {
		return false
	}
	return includeTerminating || pod.DeletionTimestamp == nil
}

// Ready reports the pod's Ready condition.
func Ready(pod *corev1.Pod) bool { return podutils.IsPodReady(pod) }

// SetsHostname reports whether the pod's endpoint carries its hostname: the
// pod names the Service as its subdomain (how StatefulSet pods get DNS names).
func SetsHostname(pod *corev1.Pod, svc *corev1.Service) bool {
	return pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && pod.Namespace == svc.Namespace
}

// FindPort resolves a Service port's targetPort on a pod: a number is taken as
// it is; a name is looked up among the containers' ports of the same protocol
// (sidecars, init containers that keep running, included). ok is false when no
// container has that port, and the pod is then left out of that port.
func FindPort(pod *corev1.Pod, sp *corev1.ServicePort) (int32, bool) {
	tp := sp.TargetPort
	if tp.Type == intstr.Int {
		return tp.IntVal, true
	}
	name := tp.StrVal
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name && p.Protocol == sp.Protocol {
				return p.ContainerPort, true
			}
		}
	}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			continue
		}
		for _, p := range c.Ports {
			if p.Name == name && p.Protocol == sp.Protocol {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

// Services returns the keys (namespace/name) of the Services whose selector
// matches the pod. A Service without a selector selects nothing.
func Services(services corelisters.ServiceLister, pod *corev1.Pod) []string {
	list, err := services.Services(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var keys []string
	for _, svc := range list {
		if svc.Spec.Selector == nil {
			continue
		}
		if labels.ValidatedSetSelector(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
			keys = append(keys, svc.Namespace+"/"+svc.Name)
		}
	}
	return keys
}

// ChangedServices returns the Services a pod update concerns: none when nothing
// an endpoint shows changed, the Services of the new pod (and of the old one if
// its labels changed) otherwise. A resync (same resourceVersion) concerns none.
func ChangedServices(services corelisters.ServiceLister, old, cur *corev1.Pod) []string {
	if old.ResourceVersion == cur.ResourceVersion {
		return nil
	}
	podChanged, labelsChanged := endpointChange(old, cur)
	if !podChanged && !labelsChanged {
		return nil
	}
	now := Services(services, cur)
	if !labelsChanged {
		return now
	}
	before := Services(services, old)
	if podChanged {
		return union(now, before)
	}
	// Only the labels changed: the Services the pod joined or left.
	return symmetricDifference(now, before)
}

// endpointChange reports whether a pod changed in a way its endpoints show
// (deletion started, readiness, IPs), and whether its labels or DNS identity
// changed (which may change the Services it belongs to).
func endpointChange(old, cur *corev1.Pod) (podChanged, labelsChanged bool) {
	labelsChanged = !maps.Equal(old.Labels, cur.Labels) ||
		old.Spec.Hostname != cur.Spec.Hostname || old.Spec.Subdomain != cur.Spec.Subdomain
	if (old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil) ||
		(old.DeletionTimestamp != nil && !old.DeletionTimestamp.Equal(cur.DeletionTimestamp)) {
		return true, labelsChanged
	}
	if Ready(old) != Ready(cur) {
		return true, labelsChanged
	}
	if len(old.Status.PodIPs) != len(cur.Status.PodIPs) || old.Status.PodIP != cur.Status.PodIP {
		return true, labelsChanged
	}
	for i := range old.Status.PodIPs {
		if old.Status.PodIPs[i].IP != cur.Status.PodIPs[i].IP {
			return true, labelsChanged
		}
	}
	// A pod's phase turning terminal removes it too.
	if old.Status.Phase != cur.Status.Phase &&
		(cur.Status.Phase == corev1.PodSucceeded || cur.Status.Phase == corev1.PodFailed) {
		return true, labelsChanged
	}
	// Name, namespace and UID never change; the node name is set before the pod has an IP.
	return false, labelsChanged
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range append(append([]string{}, a...), b...) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func symmetricDifference(a, b []string) []string {
	inA, inB := map[string]bool{}, map[string]bool{}
	for _, k := range a {
		inA[k] = true
	}
	for _, k := range b {
		inB[k] = true
	}
	var out []string
	for _, k := range a {
		if !inB[k] {
			out = append(out, k)
		}
	}
	for _, k := range b {
		if !inA[k] {
			out = append(out, k)
		}
	}
	return out
}
