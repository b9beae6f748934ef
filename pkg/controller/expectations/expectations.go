// Package expectations remembers, per controller key, the creations and
// deletions a controller has asked for but not yet seen in its informer. A
// controller whose expectations are unmet does not act again (its cache is
// behind its own writes), so a burst of creates is never doubled. Deletions
// are tracked by pod key, so the two events one deletion produces (the
// deletionTimestamp update and the removal) count once. Expectations expire
// after a TTL, so a lost watch event cannot stall a controller for good.
package expectations

import (
	"sync"
	"time"
)

// DefaultTTL is upstream's: five minutes.
const DefaultTTL = 5 * time.Minute

type record struct {
	adds int
	// deletes are the keys of objects whose deletion is awaited.
	deletes map[string]struct{}
	at      time.Time
}

// Expectations is safe for concurrent use.
type Expectations struct {
	mu  sync.Mutex
	m   map[string]*record
	ttl time.Duration
	now func() time.Time
}

// New returns empty expectations that expire after ttl, timed by now.
func New(ttl time.Duration, now func() time.Time) *Expectations {
	return &Expectations{m: map[string]*record{}, ttl: ttl, now: now}
}

// Satisfied reports whether the controller of key may act: it expects nothing
// more, never recorded expectations, or waited past the TTL.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.m[key]
	if !ok {
		return true
	}
	return (r.adds <= 0 && len(r.deletes) == 0) || e.now().Sub(r.at) > e.ttl
}

// ExpectCreations records that n creations were just asked for, replacing
// whatever was expected before.
func (e *Expectations) ExpectCreations(key string, n int) { e.Expect(key, n, nil) }

// ExpectDeletions records that the objects named by keys are being deleted,
// replacing whatever was expected before.
func (e *Expectations) ExpectDeletions(key string, objectKeys []string) { e.Expect(key, 0, objectKeys) }

// Expect records creations and deletions asked for together (a DaemonSet
// creates on some nodes and deletes on others in one sync), replacing
// whatever was expected before.
func (e *Expectations) Expect(key string, adds int, objectKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &record{adds: adds, deletes: make(map[string]struct{}, len(objectKeys)), at: e.now()}
	for _, k := range objectKeys {
		r.deletes[k] = struct{}{}
	}
	e.m[key] = r
}

// CreationObserved counts one expected creation as seen (or as never coming,
// when the create failed).
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r, ok := e.m[key]; ok {
		r.adds--
	}
}

// DeletionObserved counts the deletion of objectKey as seen; seeing it again
// changes nothing.
func (e *Expectations) DeletionObserved(key, objectKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r, ok := e.m[key]; ok {
		delete(r.deletes, objectKey)
	}
}

// Delete forgets key, when its controller object is gone.
func (e *Expectations) Delete(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// Pending reports the creations and deletions still awaited for key.
func (e *Expectations) Pending(key string) (adds, deletes int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r, ok := e.m[key]; ok {
		return r.adds, len(r.deletes)
	}
	return 0, 0
}
