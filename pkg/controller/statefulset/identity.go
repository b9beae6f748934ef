package statefulset

import (
	"regexp"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/controller/controllerref"
	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
)

// podName matches "<set>-<ordinal>": the name is a pod's identity.
var podName = regexp.MustCompile(`^(.*)-([0-9]+)$`)

// parentAndOrdinal splits a pod's name into its set's name and its ordinal;
// a name of another shape has no parent and ordinal -1.
func parentAndOrdinal(pod *corev1.Pod) (string, int) {
	m := podName.FindStringSubmatch(pod.Name)
	if m == nil {
		return "", -1
	}
	n, err := strconv.ParseInt(m[2], 10, 32)
	if err != nil {
		return m[1], -1
	}
	return m[1], int(n)
}

func ordinalOf(pod *corev1.Pod) int {
	_, n := parentAndOrdinal(pod)
	return n
}

// isMemberOf: a set claims only pods named after it.
func isMemberOf(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	parent, _ := parentAndOrdinal(pod)
	return parent == set.Name
}

// startOrdinal is spec.ordinals.start, 0 without it.
func startOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

func replicas(set *appsv1.StatefulSet) int {
	if set.Spec.Replicas == nil {
		return 1
	}
	return int(*set.Spec.Replicas)
}

// endOrdinal is the last ordinal the set keeps (start-1 when it has no replicas).
func endOrdinal(set *appsv1.StatefulSet) int { return startOrdinal(set) + replicas(set) - 1 }

// inRange: the pod's ordinal is one the set keeps at its current size.
func inRange(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	n := ordinalOf(pod)
	return n >= startOrdinal(set) && n <= endOrdinal(set)
}

func nameFor(set *appsv1.StatefulSet, ordinal int) string {
	return set.Name + "-" + strconv.Itoa(ordinal)
}

// claimName is "<template>-<set>-<ordinal>", the claim a pod keeps for life.
func claimName(set *appsv1.StatefulSet, template *corev1.PersistentVolumeClaim, ordinal int) string {
	return template.Name + "-" + set.Name + "-" + strconv.Itoa(ordinal)
}

// identityMatches: the pod has the name, namespace and pod-name label of its ordinal.
func identityMatches(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	parent, n := parentAndOrdinal(pod)
	return n >= 0 && parent == set.Name && pod.Name == nameFor(set, n) && pod.Namespace == set.Namespace &&
		pod.Labels[appsv1.StatefulSetPodNameLabel] == pod.Name
}

// storageMatches: every claim template is mounted from the pod's own claim.
func storageMatches(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	n := ordinalOf(pod)
	if n < 0 {
		return false
	}
	volumes := make(map[string]corev1.Volume, len(pod.Spec.Volumes))
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	for i := range set.Spec.VolumeClaimTemplates {
		t := &set.Spec.VolumeClaimTemplates[i]
		v, ok := volumes[t.Name]
		if !ok || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != claimName(set, t, n) {
			return false
		}
	}
	return true
}

// claimsFor are the claims pod needs, by template name: named for its ordinal,
// labelled with the template's labels plus the set's selector labels.
func claimsFor(set *appsv1.StatefulSet, pod *corev1.Pod) map[string]*corev1.PersistentVolumeClaim {
	n := ordinalOf(pod)
	out := make(map[string]*corev1.PersistentVolumeClaim, len(set.Spec.VolumeClaimTemplates))
	for i := range set.Spec.VolumeClaimTemplates {
		t := &set.Spec.VolumeClaimTemplates[i]
		c := t.DeepCopy()
		c.Name = claimName(set, t, n)
		c.Namespace = set.Namespace
		// The template's status (defaulted to Pending) is not the claim's to set.
		c.Status = corev1.PersistentVolumeClaimStatus{}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		if set.Spec.Selector != nil {
			for k, v := range set.Spec.Selector.MatchLabels {
				c.Labels[k] = v
			}
		}
		out[t.Name] = c
	}
	return out
}

// setStorage mounts the pod's claims in place of any volume of the same name,
// keeping its other volumes after them.
func setStorage(set *appsv1.StatefulSet, pod *corev1.Pod) {
	claims := claimsFor(set, pod)
	volumes := make([]corev1.Volume, 0, len(pod.Spec.Volumes)+len(claims))
	for i := range set.Spec.VolumeClaimTemplates {
		name := set.Spec.VolumeClaimTemplates[i].Name
		volumes = append(volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claims[name].Name}}})
	}
	for _, v := range pod.Spec.Volumes {
		if _, ok := claims[v.Name]; !ok {
			volumes = append(volumes, v)
		}
	}
	pod.Spec.Volumes = volumes
}

// setIdentity gives the pod its ordinal's name and identity labels.
func setIdentity(set *appsv1.StatefulSet, pod *corev1.Pod) {
	n := ordinalOf(pod)
	pod.Name = nameFor(set, n)
	pod.Namespace = set.Namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.StatefulSetPodNameLabel] = pod.Name
	pod.Labels[appsv1.PodIndexLabel] = strconv.Itoa(n)
}

// revisionOf is the controller-revision-hash label: the revision a pod was made from.
func revisionOf(pod *corev1.Pod) string { return pod.Labels[appsv1.StatefulSetRevisionLabel] }

// newPod is the pod of ordinal n made from set's template: its name, labels,
// hostname and subdomain (the governing service), claims and controller reference.
func newPod(set *appsv1.StatefulSet, n int, revision string) *corev1.Pod {
	ref := controllerref.Ref(set, kind)
	pod := podcontrol.FromTemplate(&set.Spec.Template, set.Name, &ref)
	pod.Name = nameFor(set, n)
	setIdentity(set, pod)
	// Set only at creation: these fields cannot change afterwards.
	pod.Spec.Hostname = pod.Name
	pod.Spec.Subdomain = set.Spec.ServiceName
	setStorage(set, pod)
	pod.Labels[appsv1.StatefulSetRevisionLabel] = revision
	return pod
}
