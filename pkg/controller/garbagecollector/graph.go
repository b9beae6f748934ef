package garbagecollector

import (
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// objectRef names one object of the cluster.
type objectRef struct {
	APIVersion string
	Kind       string
	Name       string
	UID        types.UID
	Namespace  string
}

// String reads as upstream's, in the OwnerRefInvalidNamespace message.
func (r objectRef) String() string {
	return fmt.Sprintf("[%s/%s, namespace: %s, name: %s, uid: %s]", r.APIVersion, r.Kind, r.Namespace, r.Name, r.UID)
}

func refFromOwner(o metav1.OwnerReference, namespace string) objectRef {
	return objectRef{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: o.UID, Namespace: namespace}
}

// node is one object in the dependency graph, or (virtual) one that some
// object names as its owner but no informer has shown yet.
type node struct {
	identity   objectRef
	owners     []metav1.OwnerReference
	dependents map[*node]struct{}
	virtual    bool
	// beingDeleted: it has a deletionTimestamp. deletingDependents: it also has
	// the foregroundDeletion finalizer, so it waits for its blocking dependents.
	beingDeleted       bool
	deletingDependents bool
}

// String names the node in logs; its identity never changes.
func (n *node) String() string { return n.identity.String() }

// blocks reports whether dependent n's reference to owner blocks the owner's
// foreground deletion.
func (n *node) blocks(owner types.UID) bool {
	for _, o := range n.owners {
		if o.UID == owner && o.BlockOwnerDeletion != nil && *o.BlockOwnerDeletion {
			return true
		}
	}
	return false
}

// eventType is what an informer saw.
type eventType int

const (
	addEvent eventType = iota
	updateEvent
	deleteEvent
)

// event is one change for the graph. A virtual delete comes from a worker
// that found an owner absent.
type event struct {
	typ     eventType
	gvk     schema.GroupVersionKind
	obj     metav1.Object
	old     metav1.Object
	virtual bool
}

// work is what a graph change asks the workers to look at.
type work struct {
	attemptToDelete []*node
	attemptToOrphan []*node
	// absent are owners now known to be gone.
	absent []objectRef
	// invalid reports dependents naming a namespaced owner of another namespace.
	invalid []invalidRef
}

type invalidRef struct {
	dependent *node
	owner     metav1.OwnerReference
}

// graph is the dependency graph: one goroutine applies informer events; the
// workers read it under the lock.
type graph struct {
	mu    sync.RWMutex
	nodes map[types.UID]*node
}

func newGraph() *graph { return &graph{nodes: map[types.UID]*node{}} }

func (g *graph) node(uid types.UID) (*node, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[uid]
	return n, ok
}

// snapshot copies what a worker needs of n while holding the read lock.
type snapshot struct {
	identity           objectRef
	owners             []metav1.OwnerReference
	dependents         []*node
	virtual            bool
	beingDeleted       bool
	deletingDependents bool
	// blocking are the dependents whose reference blocks n's deletion.
	blocking []*node
	// blockingIdle are the blocking dependents not yet deleting their own
	// dependents: they are the ones to push.
	blockingIdle []*node
	// dependentWaits: some dependent is itself being deleted in the foreground.
	dependentWaits bool
}

func (g *graph) snapshot(n *node) snapshot {
	g.mu.RLock()
	defer g.mu.RUnlock()
	s := snapshot{identity: n.identity, owners: n.owners, virtual: n.virtual, beingDeleted: n.beingDeleted, deletingDependents: n.deletingDependents}
	for d := range n.dependents {
		s.dependents = append(s.dependents, d)
		if d.blocks(n.identity.UID) {
			s.blocking = append(s.blocking, d)
			if !d.deletingDependents {
				s.blockingIdle = append(s.blockingIdle, d)
			}
		}
		if d.deletingDependents {
			s.dependentWaits = true
		}
	}
	return s
}

func identityOf(ev *event) objectRef {
	return objectRef{APIVersion: ev.gvk.GroupVersion().String(), Kind: ev.gvk.Kind, Name: ev.obj.GetName(),
		UID: ev.obj.GetUID(), Namespace: ev.obj.GetNamespace()}
}

func beingDeleted(o metav1.Object) bool { return o != nil && o.GetDeletionTimestamp() != nil }

func hasFinalizer(o metav1.Object, f string) bool {
	if o == nil {
		return false
	}
	for _, x := range o.GetFinalizers() {
		if x == f {
			return true
		}
	}
	return false
}

// startsDeletionWith: the object is now being deleted with finalizer f, and was
// not before (or was not seen before).
func startsDeletionWith(old, cur metav1.Object, f string) bool {
	if !beingDeleted(cur) || !hasFinalizer(cur, f) {
		return false
	}
	return old == nil || !beingDeleted(old) || !hasFinalizer(old, f)
}

// apply changes the graph for one event and returns what the workers must look at.
func (g *graph) apply(ev *event) work {
	g.mu.Lock()
	defer g.mu.Unlock()
	var w work
	uid := ev.obj.GetUID()
	existing, found := g.nodes[uid]
	if found && !ev.virtual && existing.virtual {
		// The owner named by references is now seen: it is real, with its real identity.
		id := identityOf(ev)
		if existing.identity != id {
			for d := range existing.dependents {
				if id.Namespace != "" && d.identity.Namespace != id.Namespace {
					w.invalid = append(w.invalid, invalidRef{dependent: d, owner: ownerOf(d, uid)})
				}
				w.attemptToDelete = append(w.attemptToDelete, d)
			}
			// Identities never change (workers read them without the lock): a
			// new node takes the old one's place. A virtual node has no owners,
			// so nothing else points to it.
			existing = &node{identity: id, dependents: existing.dependents}
			g.nodes[uid] = existing
		}
		existing.virtual = false
	}
	switch {
	case ev.typ != deleteEvent && !found:
		n := &node{identity: identityOf(ev), dependents: map[*node]struct{}{}, owners: ev.obj.GetOwnerReferences(),
			beingDeleted: beingDeleted(ev.obj), deletingDependents: beingDeleted(ev.obj) && hasFinalizer(ev.obj, metav1.FinalizerDeleteDependents)}
		g.nodes[uid] = n
		g.addToOwners(n, n.owners, &w)
		g.transitions(ev.old, ev.obj, n, &w)
	case ev.typ != deleteEvent && found:
		added, removed, changed := referencesDiff(existing.owners, ev.obj.GetOwnerReferences())
		if len(added)+len(removed)+len(changed) > 0 {
			// An owner waiting for this dependent may go now.
			for _, r := range unblocked(removed, changed) {
				if o, ok := g.nodes[r]; ok {
					w.attemptToDelete = append(w.attemptToDelete, o)
				}
			}
			existing.owners = ev.obj.GetOwnerReferences()
			g.addToOwners(existing, added, &w)
			g.removeFromOwners(existing, removed)
		}
		if beingDeleted(ev.obj) {
			existing.beingDeleted = true
		}
		g.transitions(ev.old, ev.obj, existing, &w)
	case ev.typ == deleteEvent && found:
		if ev.virtual && !existing.virtual && existing.identity != identityOf(ev) {
			// A worker looked the owner up under a wrong identity (a dependent
			// named it in the wrong namespace or kind): only those dependents lose it.
			id := identityOf(ev)
			w.absent = append(w.absent, id)
			for d := range existing.dependents {
				if d.identity.Namespace == id.Namespace || id.Namespace == "" {
					w.attemptToDelete = append(w.attemptToDelete, d)
				}
			}
			return w
		}
		delete(g.nodes, uid)
		g.removeFromOwners(existing, existing.owners)
		if len(existing.dependents) > 0 {
			w.absent = append(w.absent, identityOf(ev))
		}
		for d := range existing.dependents {
			w.attemptToDelete = append(w.attemptToDelete, d)
		}
		for _, o := range existing.owners {
			if on, ok := g.nodes[o.UID]; ok && on.deletingDependents {
				w.attemptToDelete = append(w.attemptToDelete, on)
			}
		}
	}
	return w
}

func ownerOf(n *node, uid types.UID) metav1.OwnerReference {
	for _, o := range n.owners {
		if o.UID == uid {
			return o
		}
	}
	return metav1.OwnerReference{UID: uid}
}

// addToOwners links n to its owners, creating virtual nodes for owners not seen
// yet (a worker checks they exist). A reference to an owner seen in another
// namespace is reported, and n is checked.
func (g *graph) addToOwners(n *node, owners []metav1.OwnerReference, w *work) {
	suspicious := false
	for _, o := range owners {
		on, ok := g.nodes[o.UID]
		if !ok {
			on = &node{identity: refFromOwner(o, n.identity.Namespace), dependents: map[*node]struct{}{}, virtual: true}
			g.nodes[o.UID] = on
			w.attemptToDelete = append(w.attemptToDelete, on)
		}
		on.dependents[n] = struct{}{}
		if !ok || on.virtual {
			continue
		}
		if on.identity.Namespace != "" && on.identity.Namespace != n.identity.Namespace {
			w.invalid = append(w.invalid, invalidRef{dependent: n, owner: o})
			suspicious = true
		} else if on.identity.Kind != o.Kind || on.identity.Name != o.Name {
			suspicious = true
		}
	}
	if suspicious {
		w.attemptToDelete = append(w.attemptToDelete, n)
	}
}

func (g *graph) removeFromOwners(n *node, owners []metav1.OwnerReference) {
	for _, o := range owners {
		if on, ok := g.nodes[o.UID]; ok {
			delete(on.dependents, n)
			// A virtual owner nobody names any more is forgotten.
			if on.virtual && len(on.dependents) == 0 {
				delete(g.nodes, o.UID)
			}
		}
	}
}

// transitions starts orphaning or foreground deletion when the object's
// deletion with the matching finalizer begins.
func (g *graph) transitions(old, cur metav1.Object, n *node, w *work) {
	if startsDeletionWith(old, cur, metav1.FinalizerOrphanDependents) {
		w.attemptToOrphan = append(w.attemptToOrphan, n)
		return
	}
	if startsDeletionWith(old, cur, metav1.FinalizerDeleteDependents) {
		n.deletingDependents = true
		for d := range n.dependents {
			w.attemptToDelete = append(w.attemptToDelete, d)
		}
		w.attemptToDelete = append(w.attemptToDelete, n)
	}
}

// referencesDiff compares two owner lists by UID.
func referencesDiff(old, cur []metav1.OwnerReference) (added, removed []metav1.OwnerReference, changed [][2]metav1.OwnerReference) {
	before := map[types.UID]metav1.OwnerReference{}
	for _, o := range old {
		before[o.UID] = o
	}
	for _, o := range cur {
		b, ok := before[o.UID]
		switch {
		case !ok:
			added = append(added, o)
		case !ownerRefEqual(b, o):
			changed = append(changed, [2]metav1.OwnerReference{b, o})
		}
		delete(before, o.UID)
	}
	for _, o := range old {
		if _, ok := before[o.UID]; ok {
			removed = append(removed, o)
		}
	}
	return added, removed, changed
}

func ownerRefEqual(a, b metav1.OwnerReference) bool {
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
		boolValue(a.Controller) == boolValue(b.Controller) && boolValue(a.BlockOwnerDeletion) == boolValue(b.BlockOwnerDeletion)
}

func boolValue(p *bool) bool { return p != nil && *p }

// unblocked are the owners a dependent stopped blocking: references removed, or
// blockOwnerDeletion turned off.
func unblocked(removed []metav1.OwnerReference, changed [][2]metav1.OwnerReference) []types.UID {
	var out []types.UID
	for _, r := range removed {
		if boolValue(r.BlockOwnerDeletion) {
			out = append(out, r.UID)
		}
	}
	for _, c := range changed {
		if boolValue(c[0].BlockOwnerDeletion) && !boolValue(c[1].BlockOwnerDeletion) {
			out = append(out, c[1].UID)
		}
	}
	return out
}
