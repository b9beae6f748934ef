package garbagecollector

import (
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

var (
	rsKind  = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}
	podKind = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	nsKind  = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
)

func owner(kind schema.GroupVersionKind, name string, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: kind.GroupVersion().String(), Kind: kind.Kind, Name: name, UID: types.UID(name), BlockOwnerDeletion: &block}
}

func object(ns, name string, owners ...metav1.OwnerReference) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(name), OwnerReferences: owners, ResourceVersion: "1"}
}

func deleting(m *metav1.ObjectMeta, finalizers ...string) *metav1.ObjectMeta {
	c := *m
	now := metav1.NewTime(time.Now())
	c.DeletionTimestamp = &now
	c.Finalizers = finalizers
	c.ResourceVersion = "2"
	return &c
}

func names(nodes []*node) string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.identity.Name)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestGraphLinksDependentsToOwnersAndChecksUnseenOwners(t *testing.T) {
	g := newGraph()
	w := g.apply(&event{typ: addEvent, gvk: podKind, obj: object("ns", "pod", owner(rsKind, "rs", true))})
	if names(w.attemptToDelete) != "rs" {
		t.Fatalf("an unseen owner is not checked: %s", names(w.attemptToDelete))
	}
	rs, _ := g.node("rs")
	if !rs.virtual || rs.identity.Namespace != "ns" || len(rs.dependents) != 1 {
		t.Fatalf("virtual owner %+v", rs)
	}
	w = g.apply(&event{typ: addEvent, gvk: rsKind, obj: object("ns", "rs")})
	rs, _ = g.node("rs")
	if rs.virtual || len(w.attemptToDelete) != 0 {
		t.Errorf("the owner seen: virtual %v, work %s", rs.virtual, names(w.attemptToDelete))
	}
}

func TestGraphDeletingAnOwnerQueuesItsDependents(t *testing.T) {
	g := newGraph()
	g.apply(&event{typ: addEvent, gvk: rsKind, obj: object("ns", "rs")})
	g.apply(&event{typ: addEvent, gvk: podKind, obj: object("ns", "a", owner(rsKind, "rs", true))})
	g.apply(&event{typ: addEvent, gvk: podKind, obj: object("ns", "b", owner(rsKind, "rs", true))})
	w := g.apply(&event{typ: deleteEvent, gvk: rsKind, obj: object("ns", "rs")})
	if names(w.attemptToDelete) != "a,b" || len(w.absent) != 1 || w.absent[0].Name != "rs" {
		t.Errorf("work: delete %s, absent %v", names(w.attemptToDelete), w.absent)
	}
	if _, ok := g.node("rs"); ok {
		t.Error("the deleted owner is still in the graph")
	}
}

func TestGraphStartsForegroundAndOrphanDeletion(t *testing.T) {
	g := newGraph()
	rs := object("ns", "rs")
	g.apply(&event{typ: addEvent, gvk: rsKind, obj: rs})
	g.apply(&event{typ: addEvent, gvk: podKind, obj: object("ns", "a", owner(rsKind, "rs", true))})
	w := g.apply(&event{typ: updateEvent, gvk: rsKind, obj: deleting(rs, metav1.FinalizerDeleteDependents), old: rs})
	if names(w.attemptToDelete) != "a,rs" {
		t.Errorf("foreground: %s", names(w.attemptToDelete))
	}
	n, _ := g.node("rs")
	if !n.deletingDependents || !n.beingDeleted {
		t.Error("the owner is not marked as deleting its dependents")
	}
	g2 := newGraph()
	g2.apply(&event{typ: addEvent, gvk: rsKind, obj: rs})
	w = g2.apply(&event{typ: updateEvent, gvk: rsKind, obj: deleting(rs, metav1.FinalizerOrphanDependents), old: rs})
	if names(w.attemptToOrphan) != "rs" || len(w.attemptToDelete) != 0 {
		t.Errorf("orphan: %s / %s", names(w.attemptToOrphan), names(w.attemptToDelete))
	}
	// Seen again in the same state (a relist), nothing starts twice.
	again := deleting(rs, metav1.FinalizerOrphanDependents)
	w = g2.apply(&event{typ: updateEvent, gvk: rsKind, obj: again, old: again})
	if len(w.attemptToOrphan) != 0 {
		t.Error("orphaning started twice")
	}
}

func TestGraphADependentThatStopsBlockingWakesItsWaitingOwner(t *testing.T) {
	g := newGraph()
	rs := object("ns", "rs")
	g.apply(&event{typ: addEvent, gvk: rsKind, obj: rs})
	pod := object("ns", "a", owner(rsKind, "rs", true))
	g.apply(&event{typ: addEvent, gvk: podKind, obj: pod})
	g.apply(&event{typ: updateEvent, gvk: rsKind, obj: deleting(rs, metav1.FinalizerDeleteDependents), old: rs})
	released := object("ns", "a")
	w := g.apply(&event{typ: updateEvent, gvk: podKind, obj: released, old: pod})
	if names(w.attemptToDelete) != "rs" {
		t.Errorf("work %s", names(w.attemptToDelete))
	}
	n, _ := g.node("rs")
	if len(n.dependents) != 0 {
		t.Error("the released dependent is still linked")
	}
	// Its deletion (or, here, an unrelated one) wakes a waiting owner too.
	g.apply(&event{typ: updateEvent, gvk: podKind, obj: pod, old: released})
	w = g.apply(&event{typ: deleteEvent, gvk: podKind, obj: pod})
	if names(w.attemptToDelete) != "rs" {
		t.Errorf("after the dependent's deletion: %s", names(w.attemptToDelete))
	}
}

func TestGraphAnOwnerSeenInAnotherNamespaceIsReported(t *testing.T) {
	g := newGraph()
	g.apply(&event{typ: addEvent, gvk: rsKind, obj: object("ns1", "rs")})
	w := g.apply(&event{typ: addEvent, gvk: podKind, obj: object("ns2", "a", owner(rsKind, "rs", false))})
	if len(w.invalid) != 1 || w.invalid[0].dependent.identity.Name != "a" || names(w.attemptToDelete) != "a" {
		t.Errorf("work %+v", w)
	}
	// A cluster-scoped owner of a namespaced dependent is fine.
	g.apply(&event{typ: addEvent, gvk: nsKind, obj: object("", "space")})
	w = g.apply(&event{typ: addEvent, gvk: podKind, obj: object("ns2", "b", owner(nsKind, "space", false))})
	if len(w.invalid) != 0 || len(w.attemptToDelete) != 0 {
		t.Errorf("cluster-scoped owner: %+v", w)
	}
}

func TestGraphAVirtualOwnerFoundAbsentIsRemoved(t *testing.T) {
	g := newGraph()
	g.apply(&event{typ: addEvent, gvk: podKind, obj: object("ns", "a", owner(rsKind, "gone", true))})
	w := g.apply(&event{typ: deleteEvent, virtual: true, gvk: rsKind, obj: &metav1.ObjectMeta{Namespace: "ns", Name: "gone", UID: "gone"}})
	if names(w.attemptToDelete) != "a" {
		t.Errorf("work %s", names(w.attemptToDelete))
	}
	if _, ok := g.node("gone"); ok {
		t.Error("the virtual owner stayed")
	}
}

func TestReferencesDiff(t *testing.T) {
	a, b, c := owner(rsKind, "a", true), owner(rsKind, "b", false), owner(rsKind, "c", true)
	bUnblocked := b
	cUnblocked := owner(rsKind, "c", false)
	added, removed, changed := referencesDiff([]metav1.OwnerReference{a, b, c}, []metav1.OwnerReference{bUnblocked, cUnblocked, owner(rsKind, "d", true)})
	if len(added) != 1 || added[0].Name != "d" || len(removed) != 1 || removed[0].Name != "a" || len(changed) != 1 || changed[0][1].Name != "c" {
		t.Errorf("added %v removed %v changed %v", added, removed, changed)
	}
	if got := unblocked(removed, changed); len(got) != 2 {
		t.Errorf("unblocked %v, want a (removed, blocking) and c (turned off)", got)
	}
}
