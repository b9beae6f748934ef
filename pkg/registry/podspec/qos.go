package podspec

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// QOSClass returns a pod's quality of service class from the cpu and memory its
// containers request and limit: BestEffort with none, Guaranteed when every
// container limits both and requests equal limits, Burstable otherwise.
func QOSClass(spec *corev1.PodSpec) corev1.PodQOSClass {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	add := func(sum corev1.ResourceList, list corev1.ResourceList) map[corev1.ResourceName]bool {
		found := map[corev1.ResourceName]bool{}
		for name, q := range list {
			if name != corev1.ResourceCPU && name != corev1.ResourceMemory {
				continue
			}
			if q.Cmp(resource.Quantity{}) <= 0 {
				continue
			}
			found[name] = true
			if cur, ok := sum[name]; ok {
				cur.Add(q)
				sum[name] = cur
			} else {
				sum[name] = q.DeepCopy()
			}
		}
		return found
	}
	if spec.Resources != nil && (len(spec.Resources.Requests) > 0 || len(spec.Resources.Limits) > 0) {
		add(requests, spec.Resources.Requests)
		if found := add(limits, spec.Resources.Limits); !found[corev1.ResourceCPU] || !found[corev1.ResourceMemory] {
			guaranteed = false
		}
	} else {
		for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
			for _, c := range list {
				add(requests, c.Resources.Requests)
				if found := add(limits, c.Resources.Limits); !found[corev1.ResourceCPU] || !found[corev1.ResourceMemory] {
					guaranteed = false
				}
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}
