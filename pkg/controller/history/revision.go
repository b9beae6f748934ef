// Package history keeps the ControllerRevisions of StatefulSets and DaemonSets
// as upstream's controllers do: a revision holds a patch that restores its
// owner's pod template, is named "<owner>-<hash>", belongs to its owner through
// a controller reference (matching orphans are adopted, owned revisions that
// stop matching are released), carries a Revision number that grows with every
// change (a rollback renumbers the old revision rather than copying it), and
// old revisions beyond revisionHistoryLimit are deleted, oldest first, unless
// pods still run them. kubectl rollout history and undo read these revisions.
package history

import (
	"bytes"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// HashLabel labels a StatefulSet revision with the hash of its data.
const HashLabel = "controller.kubernetes.io/hash"

// New is a revision of owner holding raw, labelled like the owner's pod
// template plus HashLabel and named after the hash of raw (and collisionCount).
func New(owner metav1.Object, kind schema.GroupVersionKind, templateLabels map[string]string, raw []byte, revision int64, collisionCount *int32) *appsv1.ControllerRevision {
	labels := make(map[string]string, len(templateLabels)+1)
	for k, v := range templateLabels {
		labels[k] = v
	}
	hash := HashData(raw, collisionCount)
	labels[HashLabel] = hash
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:            Name(owner.GetName(), hash),
			Namespace:       owner.GetNamespace(),
			Labels:          labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(owner, kind)},
		},
		Data:     runtime.RawExtension{Raw: raw},
		Revision: revision,
	}
}

// Sort orders revisions by Revision, then creation time, then name.
func Sort(revs []*appsv1.ControllerRevision) {
	sort.SliceStable(revs, func(i, j int) bool {
		a, b := revs[i], revs[j]
		if a.Revision != b.Revision {
			return a.Revision < b.Revision
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// Equal reports whether two revisions hold the same data (both nil counts as equal).
func Equal(a, b *appsv1.ControllerRevision) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.Data.Raw, b.Data.Raw)
}

// FindEqual returns the revisions holding needle's data, in their order.
func FindEqual(revs []*appsv1.ControllerRevision, needle *appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	var out []*appsv1.ControllerRevision
	for _, r := range revs {
		if Equal(r, needle) {
			out = append(out, r)
		}
	}
	return out
}

// Max is the highest Revision among revs, 0 for none.
func Max(revs []*appsv1.ControllerRevision) int64 {
	var m int64
	for _, r := range revs {
		if r.Revision > m {
			m = r.Revision
		}
	}
	return m
}

// Next is the Revision a new revision gets: one more than the highest.
func Next(revs []*appsv1.ControllerRevision) int64 { return Max(revs) + 1 }

// Prune picks the old revisions to delete so that at most limit remain, oldest
// (lowest Revision) first, never one that live says is still in use (named by
// the owner's status or by a pod's label). A negative limit keeps everything.
//
// The two controllers count differently, and both are upstream's: a
// StatefulSet keeps limit revisions besides the live ones (countLive false); a
// DaemonSet counts its live old revisions against the limit too (countLive
// true), so it may delete fewer than needed when pods pin old ones.
func Prune(old []*appsv1.ControllerRevision, live func(*appsv1.ControllerRevision) bool, limit int32, countLive bool) []*appsv1.ControllerRevision {
	if limit < 0 {
		return nil
	}
	sorted := append([]*appsv1.ControllerRevision(nil), old...)
	Sort(sorted)
	var candidates []*appsv1.ControllerRevision
	for _, r := range sorted {
		if !live(r) {
			candidates = append(candidates, r)
		}
	}
	excess := len(candidates) - int(limit)
	if countLive {
		excess = len(sorted) - int(limit)
	}
	if excess <= 0 {
		return nil
	}
	return candidates[:min(excess, len(candidates))]
}
