// Package worker runs a controller's work queue the way every controller here
// does: wait for the informers, then N workers take keys and sync them. A failed
// sync is retried with the queue's rate limit, a panicking one too (the panic is
// logged, the process lives on), and a sync that wants to look again later says
// so with RequeueAfter.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Config is one controller's queue runner, for keys of type K: most queue
// "namespace/name" strings, the garbage collector queues graph nodes.
type Config[K comparable] struct {
	// Name names the controller in logs.
	Name string
	// Queue holds the keys to sync; Run shuts it down when it returns.
	Queue workqueue.TypedRateLimitingInterface[K]
	// Synced are the informers that must have listed before the first sync.
	Synced []cache.InformerSynced
	// Workers sync keys in parallel (a key is never synced twice at once).
	Workers int
	// Sync makes the world match the object named by key.
	Sync func(ctx context.Context, key K) error
	// MaxRetries drops a key after this many failures in a row; 0 retries forever.
	MaxRetries int
	Log        *slog.Logger
}

// Validate checks the configuration.
func (c *Config[K]) Validate() error {
	switch {
	case c.Name == "":
		return errors.New("worker: a name is required")
	case c.Queue == nil:
		return fmt.Errorf("%s: a queue is required", c.Name)
	case c.Sync == nil:
		return fmt.Errorf("%s: a sync function is required", c.Name)
	case c.Workers < 1:
		return fmt.Errorf("%s: workers must be at least 1, not %d", c.Name, c.Workers)
	case c.MaxRetries < 0:
		return fmt.Errorf("%s: max retries must not be negative", c.Name)
	}
	return nil
}

// NewQueue returns the rate-limited queue controllers use: per-key exponential
// back-off from 5ms to 1000s, and an overall 10 qps / 100 burst bucket, as upstream.
func NewQueue(name string) workqueue.TypedRateLimitingInterface[string] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: name})
}

// requeue is what RequeueAfter returns.
type requeue struct{ after time.Duration }

func (r *requeue) Error() string { return fmt.Sprintf("requeue after %s", r.after) }

// RequeueAfter is returned by a sync that succeeded but must look at the key
// again after d (a timer: minReadySeconds, a progress deadline, content still
// being deleted). It is not a failure: the key's back-off is reset.
func RequeueAfter(d time.Duration) error { return &requeue{after: d} }

// RequeueDelay reports the delay a sync's result asks for, if it is RequeueAfter.
func RequeueDelay(err error) (time.Duration, bool) {
	var r *requeue
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// quiet is what Quiet returns.
type quiet struct{ err error }

func (q *quiet) Error() string { return q.err.Error() }
func (q *quiet) Unwrap() error { return q.err }

// Quiet marks a failure that is expected to pass (waiting for a cache to catch
// up): the key is retried with back-off like any failure, but logged only at
// debug level.
func Quiet(err error) error { return &quiet{err: err} }

// Run works until ctx ends, then shuts the queue down and waits for the workers.
func Run[K comparable](ctx context.Context, cfg Config[K]) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &runner[K]{cfg: cfg, log: log}
	defer cfg.Queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), cfg.Synced...) {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%s: caches did not sync", cfg.Name)
	}
	log.Debug("starting workers", "controller", cfg.Name, "workers", cfg.Workers)
	var wg sync.WaitGroup
	for i := 0; i < cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r.next(ctx) {
			}
		}()
	}
	<-ctx.Done()
	cfg.Queue.ShutDown()
	wg.Wait()
	return nil
}

type runner[K comparable] struct {
	cfg Config[K]
	log *slog.Logger
}

// next syncs one key; it reports false once the queue is shut down.
func (r *runner[K]) next(ctx context.Context) bool {
	key, quit := r.cfg.Queue.Get()
	if quit {
		return false
	}
	defer r.cfg.Queue.Done(key)
	err := r.syncSafely(ctx, key)
	if d, ok := RequeueDelay(err); ok {
		r.cfg.Queue.Forget(key)
		r.cfg.Queue.AddAfter(key, d)
		return true
	}
	if err == nil {
		r.cfg.Queue.Forget(key)
		return true
	}
	if ctx.Err() != nil {
		return true
	}
	if r.cfg.MaxRetries > 0 && r.cfg.Queue.NumRequeues(key) >= r.cfg.MaxRetries {
		r.log.Info("dropping key after repeated failures", "queue", r.cfg.Name, "key", key, "err", err)
		r.cfg.Queue.Forget(key)
		return true
	}
	var q *quiet
	if errors.As(err, &q) {
		r.log.Debug("sync will be retried", "queue", r.cfg.Name, "key", key, "reason", err)
	} else {
		r.log.Info("sync failed, will retry", "queue", r.cfg.Name, "key", key, "err", err)
	}
	r.cfg.Queue.AddRateLimited(key)
	return true
}

// syncSafely turns a panic in sync into an error, so one bad object cannot take
// the whole server down; the key is retried with back-off like any failure.
func (r *runner[K]) syncSafely(ctx context.Context, key K) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("sync panicked", "queue", r.cfg.Name, "key", key, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("sync of %v panicked: %v", key, p)
		}
	}()
	return r.cfg.Sync(ctx, key)
}
