package garbagecollector

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestJudge(t *testing.T) {
	a, b := owner(rsKind, "a", true), owner(rsKind, "b", true)
	both := []metav1.OwnerReference{a, b}
	cases := []struct {
		name           string
		states         map[types.UID]ownerState
		owners         []metav1.OwnerReference
		hasDependents  bool
		dependentWaits bool
		finalizers     []string
		want           verdict
	}{
		{"a present owner keeps the object", map[types.UID]ownerState{"a": ownerPresent}, both[:1], false, false, nil, verdict{keep: true}},
		{"a present owner keeps it and a dangling reference goes", map[types.UID]ownerState{"a": ownerPresent, "b": ownerAbsent}, both, false, false, nil, verdict{removeRefs: []types.UID{"b"}}},
		{"a reference to an owner deleting in the foreground goes if another keeps it", map[types.UID]ownerState{"a": ownerPresent, "b": ownerWaiting}, both, true, false, nil, verdict{removeRefs: []types.UID{"b"}}},
		{"with every owner gone it goes in the background", map[types.UID]ownerState{"a": ownerAbsent, "b": ownerAbsent}, both, false, false, nil, verdict{deletePolicy: metav1.DeletePropagationBackground}},
		{"an orphan finalizer it carries is honoured", map[types.UID]ownerState{"a": ownerAbsent}, both[:1], false, false, []string{metav1.FinalizerDeleteDependents, metav1.FinalizerOrphanDependents}, verdict{deletePolicy: metav1.DeletePropagationOrphan}},
		{"a foreground finalizer it carries is honoured", map[types.UID]ownerState{"a": ownerAbsent}, both[:1], false, false, []string{metav1.FinalizerDeleteDependents}, verdict{deletePolicy: metav1.DeletePropagationForeground}},
		{"an owner waiting in the foreground deletes a leaf in the background", map[types.UID]ownerState{"a": ownerWaiting}, both[:1], false, false, nil, verdict{deletePolicy: metav1.DeletePropagationBackground}},
		{"an owner waiting in the foreground deletes a dependent with dependents in the foreground", map[types.UID]ownerState{"a": ownerWaiting}, both[:1], true, false, nil, verdict{deletePolicy: metav1.DeletePropagationForeground}},
		{"a dependent whose own dependent waits on it is unblocked first", map[types.UID]ownerState{"a": ownerWaiting}, both[:1], true, true, nil, verdict{deletePolicy: metav1.DeletePropagationForeground, unblock: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := judge(c.states, c.owners, c.hasDependents, c.dependentWaits, c.finalizers)
			if got.keep != c.want.keep || got.deletePolicy != c.want.deletePolicy || got.unblock != c.want.unblock || len(got.removeRefs) != len(c.want.removeRefs) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got.removeRefs {
				if got.removeRefs[i] != c.want.removeRefs[i] {
					t.Errorf("removes %v, want %v", got.removeRefs, c.want.removeRefs)
				}
			}
		})
	}
}

func TestRefHelpers(t *testing.T) {
	refs := []metav1.OwnerReference{owner(rsKind, "a", true), owner(rsKind, "b", false)}
	if left := withoutOwners(refs, []types.UID{"a"}); len(left) != 1 || left[0].Name != "b" {
		t.Errorf("withoutOwners %v", left)
	}
	if un := unblockedRefs(refs); *un[0].BlockOwnerDeletion || !*refs[0].BlockOwnerDeletion {
		t.Error("unblockedRefs did not turn blocking off, or changed its input")
	}
	if got := withoutFinalizer([]string{"a", metav1.FinalizerOrphanDependents}, metav1.FinalizerOrphanDependents); len(got) != 1 || got[0] != "a" {
		t.Errorf("withoutFinalizer %v", got)
	}
	r := objectRef{APIVersion: "v1", Kind: "Pod", Name: "p", UID: "u", Namespace: "ns"}
	if r.String() != "[v1/Pod, namespace: ns, name: p, uid: u]" {
		t.Errorf("String %q", r.String())
	}
}

func TestAbsentCacheForgetsTheOldest(t *testing.T) {
	c := newAbsentCache(2)
	for _, n := range []string{"a", "b", "c"} {
		c.add(objectRef{Name: n})
	}
	if c.has(objectRef{Name: "a"}) || !c.has(objectRef{Name: "c"}) {
		t.Error("eviction order wrong")
	}
}
