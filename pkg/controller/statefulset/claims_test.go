package statefulset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestClaimOwnersFollowTheRetentionPolicy(t *testing.T) {
	setRef := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", UID: "web-uid", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}
	podRef := metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: "web-0", UID: types.UID("web-0-uid"), Controller: ptr(true)}
	other := metav1.OwnerReference{APIVersion: "example.com/v1", Kind: "Keeper", Name: "k", UID: "k-uid", Controller: ptr(true)}
	cases := []struct {
		name                string
		whenDeleted, scaled appsv1.PersistentVolumeClaimRetentionPolicyType
		ordinal             int // 0 is kept, 1 is scaled away (the set has one replica)
		refs                []metav1.OwnerReference
		current             bool
		want                []string // owner UIDs after setClaimOwners
	}{
		{"Retain/Retain: no owners is current", retain, retain, 0, nil, true, nil},
		{"Retain/Retain: a set reference is removed", retain, retain, 0, []metav1.OwnerReference{setRef}, false, nil},
		{"whenDeleted Delete: the set becomes the controller", remove, retain, 0, nil, false, []string{"web-uid"}},
		{"whenDeleted Delete: a set reference is current", remove, retain, 0, []metav1.OwnerReference{setRef}, true, []string{"web-uid"}},
		{"whenScaled Delete: a kept pod's claim has no owner", retain, remove, 0, nil, true, nil},
		{"whenScaled Delete: a kept pod's reference is removed", retain, remove, 0, []metav1.OwnerReference{podRef}, false, nil},
		{"whenScaled Delete: a scaled-away pod owns its claim", retain, remove, 1, nil, false, []string{"web-1-uid"}},
		{"both Delete: a kept pod's claim belongs to the set", remove, remove, 0, nil, false, []string{"web-uid"}},
		{"both Delete: a scaled-away pod's claim moves from the set to the pod", remove, remove, 1, []metav1.OwnerReference{setRef}, false, []string{"web-1-uid"}},
		{"a claim with another controller keeps it and gets none of ours", remove, remove, 0, []metav1.OwnerReference{other}, true, []string{"k-uid"}},
		{"a claim with another controller loses our references", remove, remove, 0, []metav1.OwnerReference{other, setRef}, false, []string{"k-uid"}},
		{"a claim of an earlier set of the name is left alone", remove, remove, 0,
			[]metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", UID: "old", Controller: ptr(true)}}, true, nil},
		{"a reference without controller is made a controller", remove, retain, 0,
			[]metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", UID: "web-uid"}}, false, []string{"web-uid"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set := withClaimTemplate(newSet(1), "www")
			set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: c.whenDeleted, WhenScaled: c.scaled}
			p := pod(set, c.ordinal, "r", ready)
			claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "www-" + p.Name, Namespace: "ns", OwnerReferences: c.refs}}
			if got := claimOwnersCurrent(claim, set, p); got != c.current {
				t.Errorf("current = %v, want %v", got, c.current)
			}
			if c.current {
				return
			}
			setClaimOwners(claim, set, p)
			var got []string
			for _, r := range claim.OwnerReferences {
				got = append(got, string(r.UID))
				if r.UID == "web-uid" || r.UID == p.UID {
					if r.Controller == nil || !*r.Controller {
						t.Errorf("reference to %s is not a controller", r.Name)
					}
				}
			}
			if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
				t.Errorf("owners %v, want %v", got, c.want)
			}
			if !claimOwnersCurrent(claim, set, p) {
				t.Error("not current after setClaimOwners")
			}
		})
	}
}
