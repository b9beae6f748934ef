package endpointslice

import (
	"sync"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Tracker remembers the generation of every slice a controller wrote, per
// Service, so it can tell its own writes coming back through the informer
// (nothing to do) from someone else's (sync again), and a cache that has not
// caught up with its writes yet (wait, or it would write twice).
type Tracker struct {
	mu        sync.Mutex
	byService map[string]map[types.UID]int64
}

// deletionExpected marks a slice the controller deleted.
const deletionExpected = -1

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{byService: map[string]map[types.UID]int64{}} }

func serviceKeyOf(s *discoveryv1.EndpointSlice) string {
	return s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName]
}

// Has reports whether the slice is tracked.
func (t *Tracker) Has(s *discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.byService[serviceKeyOf(s)][s.UID]
	return ok
}

// ShouldSync reports whether a slice event is news: an untracked slice, or a
// generation newer than the controller's own write.
func (t *Tracker) ShouldSync(s *discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.byService[serviceKeyOf(s)][s.UID]
	return !ok || s.Generation > g
}

// Stale reports whether the cached slices of a Service are behind the
// controller's writes: an older generation than written, a deleted slice
// still there, or a written slice missing.
func (t *Tracker) Stale(serviceKey string, cached []*discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	gens, ok := t.byService[serviceKey]
	if !ok {
		return false
	}
	seen := map[types.UID]bool{}
	for _, s := range cached {
		seen[s.UID] = true
		if g, ok := gens[s.UID]; ok && (g == deletionExpected || g > s.Generation) {
			return true
		}
	}
	for uid, g := range gens {
		if g != deletionExpected && !seen[uid] {
			return true
		}
	}
	return false
}

// Update records a slice as written (created or updated).
func (t *Tracker) Update(s *discoveryv1.EndpointSlice) {
	t.set(s, s.Generation)
}

// ExpectDeletion records a slice as deleted by the controller.
func (t *Tracker) ExpectDeletion(s *discoveryv1.EndpointSlice) {
	t.set(s, deletionExpected)
}

func (t *Tracker) set(s *discoveryv1.EndpointSlice, g int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := serviceKeyOf(s)
	gens, ok := t.byService[k]
	if !ok {
		gens = map[types.UID]int64{}
		t.byService[k] = gens
	}
	gens[s.UID] = g
}

// HandleDeletion forgets a deleted slice; it reports whether the deletion was
// the controller's own (true) or someone else's (false: sync again).
func (t *Tracker) HandleDeletion(s *discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	gens, ok := t.byService[serviceKeyOf(s)]
	if !ok {
		return true
	}
	g, ok := gens[s.UID]
	delete(gens, s.UID)
	return !ok || g == deletionExpected
}

// Forget drops a Service.
func (t *Tracker) Forget(serviceKey string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byService, serviceKey)
}
