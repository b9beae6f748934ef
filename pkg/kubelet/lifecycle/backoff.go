package lifecycle

import (
	"sync"
	"time"
)

// Back-off of crashing containers, as upstream's kubelet: 10s doubling up to 5m,
// forgotten once a container has run cleanly for 10 minutes.
const (
	BackoffInitial = 10 * time.Second
	BackoffMax     = 5 * time.Minute
	backoffReset   = 10 * time.Minute
)

// Backoff tracks restart delays by key (pod UID, container name).
type Backoff struct {
	mu      sync.Mutex
	initial time.Duration
	max     time.Duration
	entries map[string]backoffEntry
}

type backoffEntry struct {
	delay time.Duration
	// since is the finish time of the instance last restarted after.
	since time.Time
}

// NewBackoff returns a back-off with upstream's delays; tests may shorten them.
func NewBackoff(initial, max time.Duration) *Backoff {
	return &Backoff{initial: initial, max: max, entries: map[string]backoffEntry{}}
}

// InBackoff reports whether a container instance that finished at finished must
// still wait before it is restarted, and until when. The first crash restarts at
// once; each later one waits the current delay from its finish.
func (b *Backoff) InBackoff(key string, finished, now time.Time) (bool, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || e.since.Equal(finished) {
		return false, time.Time{}
	}
	until := finished.Add(e.delay)
	return now.Before(until), until
}

// Restarted records a restart after an instance that ran from started to finished;
// the next crash waits longer, unless this instance ran long enough to reset.
func (b *Backoff) Restarted(key string, started, finished time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	switch {
	case ok && e.since.Equal(finished):
		return
	case !ok || finished.Sub(started) > backoffReset:
		e = backoffEntry{delay: b.initial}
	default:
		e.delay *= 2
		if e.delay > b.max {
			e.delay = b.max
		}
	}
	e.since = finished
	b.entries[key] = e
}

// Delay is the current delay of a key (for messages).
func (b *Backoff) Delay(key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.entries[key]; ok {
		return e.delay
	}
	return b.initial
}

// Forget drops a key (the pod went away).
func (b *Backoff) Forget(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.entries {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			delete(b.entries, k)
		}
	}
}
