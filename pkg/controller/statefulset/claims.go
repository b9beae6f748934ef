package statefulset

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The retention policy (persistentVolumeClaimRetentionPolicy) is carried out
// through owner references on the claims, which the garbage collector follows:
//
//	whenDeleted Retain, whenScaled Retain: no reference from the set or the pod
//	whenDeleted Delete, whenScaled Retain: the set is the claim's controller
//	whenDeleted Retain, whenScaled Delete: the pod is, once scaled away
//	whenDeleted Delete, whenScaled Delete: the set while in range, the pod once scaled away
//
// A claim with another controller, or with a reference to an earlier set or
// pod of the same name, is left as it is (upstream's rules).

const (
	retain = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	remove = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
)

var podKind = corev1.SchemeGroupVersion.WithKind("Pod")

func retentionPolicy(set *appsv1.StatefulSet) appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy {
	if p := set.Spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		return *p
	}
	return appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: retain, WhenScaled: retain}
}

// refersTo: the reference names obj (by kind and name, whatever its UID).
func refersTo(ref *metav1.OwnerReference, obj metav1.Object, gvk schema.GroupVersionKind) bool {
	return ref.APIVersion == gvk.GroupVersion().String() && ref.Kind == gvk.Kind && ref.Name == obj.GetName()
}

func hasOwnerRef(claim *corev1.PersistentVolumeClaim, owner metav1.Object) bool {
	for _, ref := range claim.OwnerReferences {
		if ref.UID == owner.GetUID() {
			return true
		}
	}
	return false
}

// hasStaleOwnerRef: the claim names obj but with another UID (an earlier object of that name).
func hasStaleOwnerRef(claim *corev1.PersistentVolumeClaim, obj metav1.Object, gvk schema.GroupVersionKind) bool {
	for i := range claim.OwnerReferences {
		if refersTo(&claim.OwnerReferences[i], obj, gvk) {
			return claim.OwnerReferences[i].UID != obj.GetUID()
		}
	}
	return false
}

// hasUnexpectedController: under a Delete policy, something other than the set
// or the pod controls the claim (or they do under an old UID).
func hasUnexpectedController(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	p := retentionPolicy(set)
	if p.WhenScaled == retain && p.WhenDeleted == retain {
		return false
	}
	for i := range claim.OwnerReferences {
		ref := &claim.OwnerReferences[i]
		switch {
		case refersTo(ref, set, kind):
			if ref.UID != set.UID {
				return true
			}
		case refersTo(ref, pod, podKind):
			if ref.UID != pod.UID {
				return true
			}
		case ref.Controller != nil && *ref.Controller:
			return true
		}
	}
	return false
}

// hasNonControllerOwner: the set or the pod owns the claim without controlling it.
func hasNonControllerOwner(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	for _, ref := range claim.OwnerReferences {
		if (ref.UID == set.UID || ref.UID == pod.UID) && (ref.Controller == nil || !*ref.Controller) {
			return true
		}
	}
	return false
}

// claimOwnersCurrent reports whether the claim's references already carry out
// the retention policy for pod.
func claimOwnersCurrent(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	if hasStaleOwnerRef(claim, set, kind) || hasStaleOwnerRef(claim, pod, podKind) {
		// An earlier set or pod of this name manages it: hands off.
		return true
	}
	if hasUnexpectedController(claim, set, pod) {
		// Our own references must go; nothing is added next to another controller.
		return !hasOwnerRef(claim, set) && !hasOwnerRef(claim, pod)
	}
	if hasNonControllerOwner(claim, set, pod) {
		return false
	}
	p := retentionPolicy(set)
	scaledDown := !inRange(set, pod)
	setRef, podRef := hasOwnerRef(claim, set), hasOwnerRef(claim, pod)
	switch {
	case p.WhenScaled == retain && p.WhenDeleted == remove:
		return setRef && !podRef
	case p.WhenScaled == remove && p.WhenDeleted == retain:
		return !setRef && scaledDown == podRef
	case p.WhenScaled == remove && p.WhenDeleted == remove:
		return scaledDown != setRef && scaledDown == podRef
	default: // Retain/Retain, and any unknown policy
		return !setRef && !podRef
	}
}

// setClaimOwners rewrites the claim's references to the set and the pod so
// they carry out the retention policy.
func setClaimOwners(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) {
	unexpected := hasUnexpectedController(claim, set, pod)
	refs := []metav1.OwnerReference{}
	for _, ref := range claim.OwnerReferences {
		if !refersTo(&ref, set, kind) && !refersTo(&ref, pod, podKind) {
			refs = append(refs, ref)
		}
	}
	if !unexpected {
		p := retentionPolicy(set)
		scaledDown := !inRange(set, pod)
		switch {
		case p.WhenScaled == retain && p.WhenDeleted == remove:
			refs = addControllerRef(refs, set, kind)
		case p.WhenScaled == remove && p.WhenDeleted == retain:
			if scaledDown {
				refs = addControllerRef(refs, pod, podKind)
			}
		case p.WhenScaled == remove && p.WhenDeleted == remove:
			if scaledDown {
				refs = addControllerRef(refs, pod, podKind)
			} else {
				refs = addControllerRef(refs, set, kind)
			}
		}
	}
	claim.OwnerReferences = refs
}

func addControllerRef(refs []metav1.OwnerReference, owner metav1.Object, gvk schema.GroupVersionKind) []metav1.OwnerReference {
	for _, ref := range refs {
		if ref.UID == owner.GetUID() {
			return refs
		}
	}
	return append(refs, *metav1.NewControllerRef(owner, gvk))
}

// claimIsStale: under whenScaled Delete, a claim of the pod to be created still
// belongs to an earlier pod of that name; the garbage collector is about to
// delete it, and the new pod must wait rather than mount it.
func claimIsStale(set *appsv1.StatefulSet, pod *corev1.Pod, claims claimLookup) bool {
	if retentionPolicy(set).WhenScaled == retain {
		return false
	}
	for _, c := range claimsFor(set, pod) {
		if existing := claims(c.Name); existing != nil && hasStaleOwnerRef(existing, pod, podKind) {
			return true
		}
	}
	return false
}

// claimLookup reads a claim of the set's namespace from the cache; nil if there is none.
type claimLookup func(name string) *corev1.PersistentVolumeClaim

// claimsMatchPolicy reports whether every existing claim of pod already has the
// references the policy wants (missing claims are picked up later).
func claimsMatchPolicy(set *appsv1.StatefulSet, pod *corev1.Pod, claims claimLookup) bool {
	n := ordinalOf(pod)
	for i := range set.Spec.VolumeClaimTemplates {
		c := claims(claimName(set, &set.Spec.VolumeClaimTemplates[i], n))
		if c != nil && !claimOwnersCurrent(c, set, pod) {
			return false
		}
	}
	return true
}
