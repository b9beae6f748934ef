// Package quota says what an object costs against a ResourceQuota: its usage
// (object counts and compute resources, as upstream's evaluators count them),
// which quota names it can be charged for, and whether a quota's scopes
// select it. The ResourceQuota admission plugin and the ResourceQuota
// controller both count with it, so they always agree.
package quota

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"
	resourcehelper "k8s.io/component-helpers/resource"
)

var (
	podsGR     = schema.GroupResource{Resource: "pods"}
	servicesGR = schema.GroupResource{Resource: "services"}
	claimsGR   = schema.GroupResource{Resource: "persistentvolumeclaims"}
)

// CountName is the object-count quota name of a resource: count/pods,
// count/deployments.apps.
func CountName(gr schema.GroupResource) corev1.ResourceName {
	if gr.Group == "" {
		return corev1.ResourceName("count/" + gr.Resource)
	}
	return corev1.ResourceName("count/" + gr.Resource + "." + gr.Group)
}

// legacyCounts are the object counts with names of their own.
var legacyCounts = map[schema.GroupResource]corev1.ResourceName{
	{Resource: "configmaps"}:             corev1.ResourceConfigMaps,
	{Resource: "secrets"}:                corev1.ResourceSecrets,
	{Resource: "replicationcontrollers"}: corev1.ResourceReplicationControllers,
	{Resource: "resourcequotas"}:         corev1.ResourceQuotas,
	{Resource: "services"}:               corev1.ResourceServices,
	{Resource: "persistentvolumeclaims"}: corev1.ResourcePersistentVolumeClaims,
}

// Usage is what obj, of resource gr, counts against quota at now.
func Usage(gr schema.GroupResource, obj runtime.Object, now time.Time) (corev1.ResourceList, error) {
	one := *resource.NewQuantity(1, resource.DecimalSI)
	out := corev1.ResourceList{CountName(gr): one}
	if n, ok := legacyCounts[gr]; ok {
		out[n] = one.DeepCopy()
	}
	switch gr {
	case podsGR:
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return nil, fmt.Errorf("expect *v1.Pod, got %T", obj)
		}
		if Counted(pod, now) {
			out = quotav1.Add(out, podCompute(resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{}),
				resourcehelper.PodLimits(pod, resourcehelper.PodResourcesOptions{})))
		}
	case servicesGR:
		svc, ok := obj.(*corev1.Service)
		if !ok {
			return nil, fmt.Errorf("expect *v1.Service, got %T", obj)
		}
		ports := int64(0)
		switch svc.Spec.Type {
		case corev1.ServiceTypeNodePort:
			ports = int64(len(svc.Spec.Ports))
		case corev1.ServiceTypeLoadBalancer:
			if svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts {
				ports = int64(len(svc.Spec.Ports))
			}
		}
		if svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			out[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(ports, resource.DecimalSI)
		}
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			out[corev1.ResourceServicesLoadBalancers] = one.DeepCopy()
		}
	case claimsGR:
		pvc, ok := obj.(*corev1.PersistentVolumeClaim)
		if !ok {
			return nil, fmt.Errorf("expect *v1.PersistentVolumeClaim, got %T", obj)
		}
		class := ""
		if pvc.Spec.StorageClassName != nil {
			class = *pvc.Spec.StorageClassName
		}
		if class != "" {
			out[corev1.ResourceName(class+".storageclass.storage.k8s.io/persistentvolumeclaims")] = one.DeepCopy()
		}
		// A claim being resized counts at the larger of its request and
		// what it holds.
		storage, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		if alloc, found := pvc.Status.AllocatedResources[corev1.ResourceStorage]; found && (!ok || alloc.Cmp(storage) > 0) {
			storage, ok = alloc, true
		}
		if ok {
			out[corev1.ResourceRequestsStorage] = storage.DeepCopy()
			if class != "" {
				out[corev1.ResourceName(class+".storageclass.storage.k8s.io/requests.storage")] = storage.DeepCopy()
			}
		}
	}
	return out, nil
}

// Counted says whether a pod's compute resources count: not once it has
// finished, nor once its deletion's grace period has run out.
func Counted(pod *corev1.Pod, now time.Time) bool {
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return false
	}
	if pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil &&
		now.After(pod.DeletionTimestamp.Add(time.Duration(*pod.DeletionGracePeriodSeconds)*time.Second)) {
		return false
	}
	return true
}

// podCompute maps a pod's requests and limits to quota names: cpu and
// requests.cpu, limits.cpu, the same for memory and ephemeral storage,
// hugepages, and requests.<name> for extended resources.
func podCompute(requests, limits corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{corev1.ResourcePods: *resource.NewQuantity(1, resource.DecimalSI)}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		if q, ok := requests[r]; ok {
			out[r] = q.DeepCopy()
			out[corev1.DefaultResourceRequestsPrefix+r] = q.DeepCopy()
		}
		if q, ok := limits[r]; ok {
			out[corev1.ResourceName("limits."+string(r))] = q.DeepCopy()
		}
	}
	for r, q := range requests {
		if strings.HasPrefix(string(r), corev1.ResourceHugePagesPrefix) {
			out[r] = q.DeepCopy()
			out[corev1.DefaultResourceRequestsPrefix+r] = q.DeepCopy()
		}
		if extended(r) {
			out[corev1.DefaultResourceRequestsPrefix+r] = q.DeepCopy()
		}
	}
	return out
}

// extended: a resource not in the kubernetes.io namespace, with a domain.
func extended(r corev1.ResourceName) bool {
	s := string(r)
	if !strings.Contains(s, "/") || strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	domain := s[:strings.Index(s, "/")]
	return domain != "kubernetes.io" && !strings.HasSuffix(domain, ".kubernetes.io")
}

// Matching returns the names among hard that objects of gr are charged for.
func Matching(gr schema.GroupResource, hard []corev1.ResourceName) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, n := range hard {
		if matches(gr, n) {
			out = append(out, n)
		}
	}
	return out
}

func matches(gr schema.GroupResource, n corev1.ResourceName) bool {
	if n == CountName(gr) || legacyCounts[gr] == n {
		return true
	}
	s := string(n)
	switch gr {
	case podsGR:
		switch n {
		case corev1.ResourcePods, corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
			corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsEphemeralStorage,
			corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage:
			return true
		}
		if strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) || strings.HasPrefix(s, corev1.ResourceRequestsHugePagesPrefix) {
			return true
		}
		return strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) && extended(corev1.ResourceName(strings.TrimPrefix(s, corev1.DefaultResourceRequestsPrefix)))
	case servicesGR:
		return n == corev1.ResourceServicesNodePorts || n == corev1.ResourceServicesLoadBalancers
	case claimsGR:
		return n == corev1.ResourceRequestsStorage || strings.HasSuffix(s, ".storageclass.storage.k8s.io/requests.storage") ||
			strings.HasSuffix(s, ".storageclass.storage.k8s.io/persistentvolumeclaims")
	}
	return false
}

// requiredOfContainers are the quota names a pod's every container must ask
// for when a quota limits them (upstream's backward-compatible rule).
var requiredOfContainers = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory}

// Constraints refuses a pod whose containers do not all name the compute
// resources that limited (the quota's names for pods) requires.
func Constraints(gr schema.GroupResource, limited []corev1.ResourceName, obj runtime.Object) error {
	pod, ok := obj.(*corev1.Pod)
	if gr != podsGR || !ok {
		return nil
	}
	required := quotav1.Intersection(limited, requiredOfContainers)
	if len(required) == 0 || resourcehelper.IsPodLevelResourcesSet(pod) {
		return nil
	}
	missing := map[corev1.ResourceName][]string{}
	check := func(c *corev1.Container) {
		have := podCompute(c.Resources.Requests, c.Resources.Limits)
		for _, r := range required {
			if _, ok := have[r]; !ok {
				missing[r] = append(missing[r], c.Name)
			}
		}
	}
	for i := range pod.Spec.Containers {
		check(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.InitContainers {
		check(&pod.Spec.InitContainers[i])
	}
	if len(missing) == 0 {
		return nil
	}
	names := quotav1.ToSet(quotav1.ResourceNames(toList(missing))).List()
	parts := make([]string, 0, len(names))
	for _, n := range names {
		containers := missing[corev1.ResourceName(n)]
		parts = append(parts, fmt.Sprintf("%s for: %s", n, strings.Join(sortedUnique(containers), ",")))
	}
	return fmt.Errorf("must specify %s", strings.Join(parts, "; "))
}

func toList(m map[corev1.ResourceName][]string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k := range m {
		out[k] = resource.Quantity{}
	}
	return out
}

func sortedUnique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	// container names sort as upstream's sets do
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
