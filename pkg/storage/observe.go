package storage

import (
	"context"

	"k8s.io/apimachinery/pkg/watch"
)

// observer hears of a resource's changes synchronously (see Observe).
type observer struct{ fn func(*Event) }

// Observe calls fn with an ADDED event for each object the cache holds, then
// with every change as the cache applies it, before any watcher hears of it,
// until stop is called. Indexes fed this way (the authorizers') are never
// behind the cache reads and watches are served from. fn runs with the
// resource locked: it must be quick and must not call into the store.
func (r *Resource) Observe(fn func(*Event)) (stop func()) {
	o := &observer{fn: fn}
	r.mu.Lock()
	for _, k := range sortedKeys(r.items, r.prefix) {
		e := r.items[k]
		fn(&Event{Type: watch.Added, Object: e.obj, Rev: e.rev})
	}
	r.observers = append(r.observers, o)
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, have := range r.observers {
			if have == o {
				r.observers = append(r.observers[:i:i], r.observers[i+1:]...)
				return
			}
		}
	}
}

// CatchUp waits until the caches reflect every write this server has made,
// and reports whether they were behind. A component that found the caches
// stale for a decision (a refusal) calls it before deciding again.
func (s *Store) CatchUp(ctx context.Context) bool {
	want := s.written.Load()
	if s.progress.current() >= want {
		return false
	}
	_ = s.waitForRevision(ctx, want)
	return true
}
