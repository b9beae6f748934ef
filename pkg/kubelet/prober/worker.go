package prober

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/metrics"
)

// worker probes one container instance periodically and keeps the thresholded
// result. A new container instance gets a new worker, so results never leak
// from one instance to the next.
type worker struct {
	m           *Manager
	key         probeKey
	pod         *corev1.Pod
	container   *corev1.Container
	containerID string
	startedAt   time.Time
	probe       *corev1.Probe

	mu       sync.Mutex
	podIP    string
	res      Result
	msg      string
	last     Result
	count    int32
	onHold   bool
	stopped  chan struct{}
	stopOnce sync.Once
}

func newWorker(m *Manager, key probeKey, pod *corev1.Pod, c *corev1.Container, id string, startedAt time.Time, podIP string, p *corev1.Probe) *worker {
	w := &worker{m: m, key: key, pod: pod, container: c, containerID: id, startedAt: startedAt, probe: p,
		podIP: podIP, last: Unknown, stopped: make(chan struct{})}
	// Upstream's initial results: a container counts as alive until a liveness
	// probe fails, as not ready until a readiness probe passes, and as not
	// started until its startup probe passes.
	switch key.kind {
	case Liveness:
		w.res = Success
	case Readiness:
		w.res = Failure
	default:
		w.res = Unknown
	}
	return w
}

func (w *worker) result() (Result, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.res, w.msg
}

func (w *worker) setPodIP(ip string) {
	w.mu.Lock()
	w.podIP = ip
	w.mu.Unlock()
}

func (w *worker) stop() { w.stopOnce.Do(func() { close(w.stopped) }) }

func (w *worker) run(ctx context.Context) {
	period := time.Duration(w.probe.PeriodSeconds) * time.Second
	if period <= 0 {
		period = 10 * time.Second
	}
	t := time.NewTicker(period)
	defer t.Stop()
	// Before the initial delay has passed, look again soon rather than a whole
	// period later, so the first probe runs when the delay ends.
	for {
		wait := w.probeOnce(ctx)
		var delay <-chan time.Time
		if wait > 0 && wait < period {
			delay = time.After(wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-w.stopped:
			return
		case <-delay:
		case <-t.C:
		}
	}
}

// probeOnce runs the probe if it is due and records the result. It returns how
// long until the initial delay ends, if it has not yet.
func (w *worker) probeOnce(ctx context.Context) time.Duration {
	w.mu.Lock()
	hold, podIP, res := w.onHold, w.podIP, w.res
	w.mu.Unlock()
	if hold {
		return 0
	}
	if w.key.kind == Startup && res == Success {
		return 0 // a startup probe stops once it has passed
	}
	if w.key.kind != Startup && !w.m.started(w.key.uid, w.key.container) {
		return 0
	}
	if d := time.Duration(w.probe.InitialDelaySeconds)*time.Second - time.Since(w.startedAt); d > 0 {
		return d
	}
	if podIP == "" && (w.probe.HTTPGet != nil || w.probe.TCPSocket != nil || w.probe.GRPC != nil) {
		return 0
	}
	h := Handler{Exec: w.probe.Exec, HTTPGet: w.probe.HTTPGet, TCPSocket: w.probe.TCPSocket, GRPC: w.probe.GRPC}
	began := time.Now()
	out, msg := w.m.Checker.Run(ctx, h, w.pod, w.container, w.containerID, podIP, probeTimeout(w.probe))
	took := time.Since(began)
	select {
	case <-w.stopped:
		return 0 // the container went away while probing; the result means nothing
	default:
	}
	kind := w.key.kind.String()
	switch out {
	case Unknown:
		// An error of the prober itself: upstream records it and drops the
		// result, uncounted.
		w.m.Recorder.Eventf(w.pod, corev1.EventTypeWarning, "Unhealthy", "%s probe errored: %s", kind, msg)
		return 0
	case Failure:
		w.m.Recorder.Eventf(w.pod, corev1.EventTypeWarning, "Unhealthy", "%s probe failed: %s", kind, msg)
		w.m.Metrics.ProbeRan(w.metricLabels(), metrics.ProbeFailed, took)
	case Success:
		w.m.Metrics.ProbeRan(w.metricLabels(), metrics.ProbeSuccessful, took)
	}
	w.record(out, msg)
	return 0
}

// metricLabels names this worker's probe in the probe metrics.
func (w *worker) metricLabels() metrics.Probe {
	return metrics.Probe{Type: w.key.kind.String(), Container: w.key.container, Pod: w.pod.Name,
		Namespace: w.pod.Namespace, PodUID: string(w.pod.UID)}
}

// record applies the success and failure thresholds.
func (w *worker) record(out Result, msg string) {
	w.mu.Lock()
	if out == w.last {
		w.count++
	} else {
		w.last, w.count = out, 1
	}
	failureThreshold, successThreshold := w.probe.FailureThreshold, w.probe.SuccessThreshold
	if failureThreshold <= 0 {
		failureThreshold = 3
	}
	if successThreshold <= 0 {
		successThreshold = 1
	}
	if (out == Failure && w.count < failureThreshold) || (out == Success && w.count < successThreshold) {
		w.mu.Unlock()
		return
	}
	changed := w.res != out
	w.res, w.msg = out, msg
	if out == Failure && (w.key.kind == Liveness || w.key.kind == Startup) {
		// The container will be restarted; probing it again would only repeat
		// the verdict. Its next instance gets a fresh worker.
		w.onHold = true
		w.msg = w.key.kind.String() + " probe failed: " + msg
	}
	w.mu.Unlock()
	if changed {
		w.m.changed(w.key.uid)
	}
}
