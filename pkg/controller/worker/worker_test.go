package worker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// fastQueue retries failures after a millisecond so tests run quickly.
func fastQueue() workqueue.TypedRateLimitingInterface[string] {
	return workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Millisecond, 10*time.Millisecond))
}

// run starts the runner and returns a function that stops it and waits.
func run(t *testing.T, cfg Config[string]) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	}
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAFailedSyncIsRetriedUntilItSucceeds(t *testing.T) {
	q := fastQueue()
	var calls atomic.Int32
	stop := run(t, Config[string]{Name: "test", Queue: q, Workers: 1, Sync: func(context.Context, string) error {
		if calls.Add(1) < 3 {
			return errors.New("transient")
		}
		return nil
	}})
	defer stop()
	q.Add("a")
	waitFor(t, "three syncs", func() bool { return calls.Load() == 3 })
	waitFor(t, "the back-off to be forgotten", func() bool { return q.NumRequeues("a") == 0 })
}

func TestAPanickingSyncIsRecoveredAndRetried(t *testing.T) {
	q := fastQueue()
	var calls atomic.Int32
	stop := run(t, Config[string]{Name: "test", Queue: q, Workers: 1, Sync: func(context.Context, string) error {
		if calls.Add(1) == 1 {
			panic("bad object")
		}
		return nil
	}})
	defer stop()
	q.Add("a")
	waitFor(t, "a second sync after the panic", func() bool { return calls.Load() == 2 })
}

func TestRequeueAfterSyncsTheKeyAgainLaterWithoutBackOff(t *testing.T) {
	q := fastQueue()
	var mu sync.Mutex
	var times []time.Time
	stop := run(t, Config[string]{Name: "test", Queue: q, Workers: 1, Sync: func(context.Context, string) error {
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		if len(times) == 1 {
			return RequeueAfter(50 * time.Millisecond)
		}
		return nil
	}})
	defer stop()
	q.Add("a")
	waitFor(t, "the timed sync", func() bool { mu.Lock(); defer mu.Unlock(); return len(times) == 2 })
	if d := times[1].Sub(times[0]); d < 45*time.Millisecond {
		t.Errorf("second sync came after %s, want about 50ms", d)
	}
	if n := q.NumRequeues("a"); n != 0 {
		t.Errorf("a timer counted as %d failures", n)
	}
}

func TestAKeyIsDroppedAfterMaxRetries(t *testing.T) {
	q := fastQueue()
	var calls atomic.Int32
	stop := run(t, Config[string]{Name: "test", Queue: q, Workers: 1, MaxRetries: 2, Sync: func(context.Context, string) error {
		calls.Add(1)
		return errors.New("permanent")
	}})
	defer stop()
	q.Add("a")
	waitFor(t, "three attempts", func() bool { return calls.Load() == 3 })
	time.Sleep(30 * time.Millisecond)
	if n := calls.Load(); n != 3 {
		t.Errorf("synced %d times, want 3 (first try and two retries)", n)
	}
}

func TestWorkersSyncDifferentKeysInParallel(t *testing.T) {
	q := fastQueue()
	var running, peak atomic.Int32
	release := make(chan struct{})
	stop := run(t, Config[string]{Name: "test", Queue: q, Workers: 3, Sync: func(context.Context, string) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		return nil
	}})
	for _, k := range []string{"a", "b", "c"} {
		q.Add(k)
	}
	waitFor(t, "three syncs at once", func() bool { return peak.Load() == 3 })
	close(release)
	stop()
}

func TestRunWaitsForCachesAndStopsWhenTheContextEnds(t *testing.T) {
	q := fastQueue()
	var synced atomic.Bool
	var calls atomic.Int32
	stop := run(t, Config[string]{Name: "test", Queue: q, Workers: 1, Synced: []cache.InformerSynced{synced.Load},
		Sync: func(context.Context, string) error { calls.Add(1); return nil }})
	q.Add("a")
	time.Sleep(20 * time.Millisecond)
	if calls.Load() != 0 {
		t.Fatal("synced before the caches had")
	}
	synced.Store(true)
	waitFor(t, "the sync once caches are ready", func() bool { return calls.Load() == 1 })
	stop()
	if !q.ShuttingDown() {
		t.Error("the queue is still open after Run returned")
	}
}

func TestConfigValidateRefusesMissingPieces(t *testing.T) {
	q := fastQueue()
	sync := func(context.Context, string) error { return nil }
	for name, cfg := range map[string]Config[string]{
		"no name":          {Queue: q, Sync: sync, Workers: 1},
		"no queue":         {Name: "x", Sync: sync, Workers: 1},
		"no sync":          {Name: "x", Queue: q, Workers: 1},
		"no workers":       {Name: "x", Queue: q, Sync: sync},
		"negative retries": {Name: "x", Queue: q, Sync: sync, Workers: 1, MaxRetries: -1},
	} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestObjectUnwrapsTombstones(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}}
	if got, ok := Object[*corev1.Pod](cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: pod}); !ok || got != pod {
		t.Errorf("tombstone: got %v, %v", got, ok)
	}
	if _, ok := Object[*corev1.Pod](&corev1.Node{}); ok {
		t.Error("a node was taken for a pod")
	}
	if k, ok := Key(cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: pod}); !ok || k != "ns/p" {
		t.Errorf("Key of tombstone = %q, %v", k, ok)
	}
}

func TestAQuietFailureIsRetriedLikeAnyOther(t *testing.T) {
	q := fastQueue()
	var calls atomic.Int32
	stop := run(t, Config[string]{Name: "test", Queue: q, Workers: 1, Sync: func(context.Context, string) error {
		if calls.Add(1) < 3 {
			return Quiet(errors.New("cache behind"))
		}
		return nil
	}})
	defer stop()
	q.Add("a")
	waitFor(t, "three syncs", func() bool { return calls.Load() == 3 })
}
