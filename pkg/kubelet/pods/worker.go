package pods

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// resync is how often a worker looks at its pod even when nothing was announced:
// probes, back-offs and containers that exit are also noticed by events, this is
// the safety net.
const resync = 10 * time.Second

// worker drives one pod. Updates coalesce: only the latest pod matters.
type worker struct {
	m       *Manager
	mu      sync.Mutex
	pod     *corev1.Pod
	removed bool
	notify  chan struct{}
	// errors are reasons containers could not start, shown in their status.
	errors map[string]waitingReason
	// admitted: the pod passed the agent's admission (under Manager.admitMu).
	admitted bool
	// firstSeen is when the agent first saw the pod; startObserved, that its
	// start latency was recorded (only the worker's goroutine touches it).
	firstSeen     time.Time
	startObserved bool
}

type waitingReason struct{ reason, message string }

func newWorker(m *Manager, pod *corev1.Pod) *worker {
	return &worker{m: m, pod: pod, notify: make(chan struct{}, 1), errors: map[string]waitingReason{}, firstSeen: time.Now()}
}

func (w *worker) update(pod *corev1.Pod, removed bool) {
	w.mu.Lock()
	w.pod = pod
	if removed {
		w.removed = true
	}
	w.mu.Unlock()
	w.wake()
}

func (w *worker) wake() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *worker) latest() (*corev1.Pod, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod, w.removed
}

// run syncs the pod whenever it changes, when asked, and on a timer, until the pod
// is gone from both the API and the runtime.
func (w *worker) run(ctx context.Context) {
	failures := 0
	for {
		pod, removed := w.latest()
		next, done, err := w.m.syncPod(ctx, w, pod, removed)
		if done {
			return
		}
		if err != nil {
			failures++
			w.m.log.Info("pod sync failed", "pod", pod.Namespace+"/"+pod.Name, "err", err)
			next = errorDelay(failures)
		} else {
			failures = 0
		}
		if next <= 0 || next > resync {
			next = resync
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.notify:
			t.Stop()
		case <-t.C:
		}
	}
}

func errorDelay(failures int) time.Duration {
	d := 200 * time.Millisecond
	for i := 1; i < failures && d < 10*time.Second; i++ {
		d *= 2
	}
	return d
}
