package storage

import (
	"context"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// maxQueued is how many undelivered events a watcher may hold before it is ended,
// as upstream ends watchers that cannot keep up; the client resumes from its last
// resourceVersion.
const maxQueued = 100000

// WatchOptions select what a watch sees.
type WatchOptions struct {
	// Namespace limits the watch to one namespace ("" for all).
	Namespace string
	// ResourceVersion resumes after that revision; 0 starts with the current state
	// as ADDED events.
	ResourceVersion int64
	// SendInitialEvents sends the current state first even when ResourceVersion is set,
	// ending it with a bookmark marked InitialEventsEnd.
	SendInitialEvents bool
	// Bookmarks asks for periodic BOOKMARK events.
	Bookmarks bool
	Predicate Predicate
}

// Watcher is one open watch. Read events with Next until it reports false.
type Watcher struct {
	r         *Resource
	scope     string
	pred      Predicate
	bookmarks bool

	mu      sync.Mutex
	queue   []*Event
	notify  chan struct{}
	stopped bool
	lastRev int64
}

// Watch opens a watch on the resource.
func (r *Resource) Watch(ctx context.Context, opts WatchOptions) (*Watcher, error) {
	if opts.ResourceVersion > 0 {
		if err := r.s.waitForRevision(ctx, opts.ResourceVersion); err != nil {
			return nil, err
		}
	}
	w := &Watcher{
		r:         r,
		scope:     r.scopePrefix(opts.Namespace),
		pred:      opts.Predicate,
		bookmarks: opts.Bookmarks,
		notify:    make(chan struct{}, 1),
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if opts.ResourceVersion == 0 || opts.SendInitialEvents {
		keys := sortedKeys(r.items, w.scope)
		for _, k := range keys {
			e := r.items[k]
			if w.pred.Matches(e.obj) {
				w.queue = append(w.queue, &Event{Type: watch.Added, Object: e.obj, Rev: e.rev})
			}
		}
		if opts.SendInitialEvents {
			rev := r.snapshotRevLocked()
			w.queue = append(w.queue, &Event{Type: watch.Bookmark, Rev: rev, InitialEventsEnd: true})
			w.lastRev = rev
		}
	} else {
		events, ok := r.history.since(opts.ResourceVersion)
		if !ok {
			return nil, errTooOldResourceVersion(opts.ResourceVersion, r.history.start)
		}
		for _, e := range events {
			w.offerLocked(e)
		}
	}
	r.watchers[w] = struct{}{}
	return w, nil
}

// offer hands an event to the watcher if it concerns it. Called with r.mu held.
func (w *Watcher) offer(e *Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.offerLocked(e)
}

func (w *Watcher) offerLocked(e *Event) {
	if w.stopped {
		return
	}
	if e.Type != watch.Bookmark {
		if !strings.HasPrefix(keyOf(e.Object, w.r), w.scope) {
			return
		}
		e = w.filter(e)
		if e == nil {
			return
		}
	}
	if len(w.queue) >= maxQueued {
		w.stopped = true
		w.queue = nil
		w.wake()
		return
	}
	w.queue = append(w.queue, e)
	if e.Rev > w.lastRev {
		w.lastRev = e.Rev
	}
	w.wake()
}

// filter applies the selectors; an object moving in or out of the selection
// becomes ADDED or DELETED, as upstream's watch cache does.
func (w *Watcher) filter(e *Event) *Event {
	if w.pred.Empty() {
		return e
	}
	cur := w.pred.Matches(e.Object)
	prev := e.Prev != nil && w.pred.Matches(e.Prev)
	switch e.Type {
	case watch.Added:
		if cur {
			return e
		}
	case watch.Modified:
		switch {
		case cur && prev:
			return e
		case cur:
			return &Event{Type: watch.Added, Object: e.Object, Prev: e.Prev, Rev: e.Rev}
		case prev:
			return &Event{Type: watch.Deleted, Object: e.Object, Prev: e.Prev, Rev: e.Rev}
		}
	case watch.Deleted:
		if prev {
			return e
		}
	}
	return nil
}

func (w *Watcher) wake() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// Next waits for events and returns all that are queued. It returns false when the
// watch has ended: ctx done, Stop called, or the watcher fell too far behind.
func (w *Watcher) Next(ctx context.Context) ([]*Event, bool) {
	for {
		w.mu.Lock()
		if w.stopped {
			w.mu.Unlock()
			return nil, false
		}
		if len(w.queue) > 0 {
			q := w.queue
			w.queue = nil
			w.mu.Unlock()
			return q, true
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, false
		case <-w.notify:
		}
	}
}

// Stop ends the watch and releases it.
func (w *Watcher) Stop() {
	w.r.mu.Lock()
	delete(w.r.watchers, w)
	w.r.mu.Unlock()
	w.mu.Lock()
	w.stopped = true
	w.queue = nil
	w.mu.Unlock()
	w.wake()
}

// sendBookmarks queues a bookmark at the current revision for watchers that want one.
func (r *Resource) sendBookmarks() {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.watchers) == 0 {
		return
	}
	rev := r.s.progress.current()
	for w := range r.watchers {
		if !w.bookmarks {
			continue
		}
		w.mu.Lock()
		if rev > w.lastRev && len(w.queue) == 0 {
			w.offerLocked(&Event{Type: watch.Bookmark, Rev: rev})
		}
		w.mu.Unlock()
	}
}

// keyOf rebuilds the key of a cached object for scope checks.
func keyOf(obj runtime.Object, r *Resource) string {
	m, ok := obj.(metav1.Object)
	if !ok {
		return ""
	}
	return r.Key(m.GetNamespace(), m.GetName())
}
