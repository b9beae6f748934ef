package garbagecollector

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ownerState is what a lookup of one owner found.
type ownerState int

const (
	// ownerPresent: the owner exists and keeps its dependents.
	ownerPresent ownerState = iota
	// ownerAbsent: no object by that name and UID (dangling reference).
	ownerAbsent
	// ownerWaiting: the owner is being deleted in the foreground and waits for
	// its dependents to go.
	ownerWaiting
)

// verdict is what to do with a dependent after looking at its owners.
type verdict struct {
	// keep: some owner is present and no reference needs removing.
	keep bool
	// removeRefs are references to drop (absent or waiting owners) while a
	// present owner keeps the object.
	removeRefs []types.UID
	// deletePolicy is how to delete the object, when it has no present owner.
	deletePolicy metav1.DeletionPropagation
	// unblock: before a foreground deletion, turn the object's blocking
	// references off, to break a cycle with a dependent that waits for it.
	unblock bool
}

// judge decides a dependent's fate from its owners' states, as upstream's
// garbage collector does:
//   - a present owner keeps it (references to absent or waiting owners go);
//   - an owner waiting in the foreground, when the object has dependents of its
//     own, makes it go in the foreground too, so those go first;
//   - otherwise it goes, honouring an orphan or foreground finalizer it already
//     carries, else in the background.
func judge(states map[types.UID]ownerState, owners []metav1.OwnerReference, hasDependents, dependentWaits bool, finalizers []string) verdict {
	var solid int
	var gone []types.UID
	waiting := false
	for _, o := range owners {
		switch states[o.UID] {
		case ownerPresent:
			solid++
		case ownerAbsent:
			gone = append(gone, o.UID)
		case ownerWaiting:
			gone = append(gone, o.UID)
			waiting = true
		}
	}
	switch {
	case solid > 0 && len(gone) == 0:
		return verdict{keep: true}
	case solid > 0:
		return verdict{removeRefs: gone}
	case waiting && hasDependents:
		return verdict{deletePolicy: metav1.DeletePropagationForeground, unblock: dependentWaits}
	}
	policy := metav1.DeletePropagationBackground
	for _, f := range finalizers {
		switch f {
		case metav1.FinalizerOrphanDependents:
			return verdict{deletePolicy: metav1.DeletePropagationOrphan}
		case metav1.FinalizerDeleteDependents:
			policy = metav1.DeletePropagationForeground
		}
	}
	return verdict{deletePolicy: policy}
}

// withoutOwners returns refs minus those whose UID is in drop.
func withoutOwners(refs []metav1.OwnerReference, drop []types.UID) []metav1.OwnerReference {
	out := []metav1.OwnerReference{}
	for _, r := range refs {
		keep := true
		for _, d := range drop {
			if r.UID == d {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, r)
		}
	}
	return out
}

// unblockedRefs returns refs with every blockOwnerDeletion turned off.
func unblockedRefs(refs []metav1.OwnerReference) []metav1.OwnerReference {
	out := make([]metav1.OwnerReference, len(refs))
	no := false
	for i, r := range refs {
		out[i] = r
		if boolValue(r.BlockOwnerDeletion) {
			out[i].BlockOwnerDeletion = &no
		}
	}
	return out
}

func withoutFinalizer(list []string, f string) []string {
	out := []string{}
	for _, x := range list {
		if x != f {
			out = append(out, x)
		}
	}
	return out
}
