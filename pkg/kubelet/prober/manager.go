package prober

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"

	"github.com/minik8s/minik8s/pkg/kubelet/lifecycle"
	"github.com/minik8s/minik8s/pkg/kubelet/metrics"
)

// Kind is which of a container's probes a worker runs.
type Kind int

// The three probe kinds.
const (
	Liveness Kind = iota
	Readiness
	Startup
)

func (k Kind) String() string {
	switch k {
	case Liveness:
		return "Liveness"
	case Readiness:
		return "Readiness"
	}
	return "Startup"
}

type probeKey struct {
	uid       types.UID
	container string
	kind      Kind
}

// Manager runs one worker per probe of each running container and keeps their
// results; it implements pods.Prober. The pod worker asks for results when it
// syncs, and the prober wakes it when a result changes.
type Manager struct {
	Checker  *Checker
	Recorder record.EventRecorder
	// Wake asks the pod's worker to sync again.
	Wake func(types.UID)
	// Metrics counts probe results (prober_probe_total); nil counts nothing.
	Metrics *metrics.Metrics

	ctx     context.Context
	mu      sync.Mutex
	workers map[probeKey]*worker
}

// NewManager returns a prober whose workers stop when ctx ends.
func NewManager(ctx context.Context, checker *Checker, recorder record.EventRecorder) *Manager {
	return &Manager{Checker: checker, Recorder: recorder, ctx: ctx, workers: map[probeKey]*worker{}}
}

// Update starts workers for running containers' probes and stops those of
// containers that stopped or were replaced by a new instance.
func (m *Manager) Update(pod *corev1.Pod, rt *lifecycle.Pod) {
	podIP := ""
	if sb := rt.Sandbox(); sb != nil && len(sb.IPs) > 0 {
		podIP = sb.IPs[0]
	}
	if pod.Spec.HostNetwork && pod.Status.HostIP != "" {
		podIP = pod.Status.HostIP
	}
	wanted := map[probeKey]bool{}
	visit := func(c *corev1.Container, sidecar bool) {
		inst := rt.Latest(c.Name)
		if inst == nil || inst.Phase != lifecycle.ContainerRunning || pod.DeletionTimestamp != nil {
			return
		}
		probes := map[Kind]*corev1.Probe{Liveness: c.LivenessProbe, Readiness: c.ReadinessProbe, Startup: c.StartupProbe}
		for kind, p := range probes {
			if p == nil {
				continue
			}
			key := probeKey{pod.UID, c.Name, kind}
			wanted[key] = true
			m.ensure(key, pod, c, inst, podIP, p)
		}
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			visit(c, true)
		}
	}
	for i := range pod.Spec.Containers {
		visit(&pod.Spec.Containers[i], false)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, w := range m.workers {
		if key.uid == pod.UID && !wanted[key] {
			w.stop()
			delete(m.workers, key)
		}
	}
}

func (m *Manager) ensure(key probeKey, pod *corev1.Pod, c *corev1.Container, inst *lifecycle.Container, podIP string, p *corev1.Probe) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.workers[key]; w != nil {
		if w.containerID == inst.ID {
			w.setPodIP(podIP)
			return
		}
		w.stop()
	}
	w := newWorker(m, key, pod.DeepCopy(), c.DeepCopy(), inst.ID, inst.StartedAt, podIP, p)
	m.workers[key] = w
	go w.run(m.ctx)
}

// Results implements pods.Prober: readiness and startup per container that has
// such a probe, and the containers whose liveness or startup probe failed.
func (m *Manager) Results(uid types.UID) (ready, started map[string]bool, unhealthy map[string]string) {
	ready, started, unhealthy = map[string]bool{}, map[string]bool{}, map[string]string{}
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, w := range m.workers {
		if key.uid != uid {
			continue
		}
		res, msg := w.result()
		switch key.kind {
		case Readiness:
			ready[key.container] = res == Success
		case Startup:
			started[key.container] = res == Success
			if res == Failure {
				unhealthy[key.container] = msg
			}
		case Liveness:
			if res == Failure {
				unhealthy[key.container] = msg
			}
		}
	}
	// A container whose startup probe has not passed is neither ready nor probed
	// for liveness yet.
	for name, s := range started {
		if !s {
			ready[name] = false
		}
	}
	return ready, started, unhealthy
}

// Forget implements pods.Prober: the pod is gone, and so are its probe series.
func (m *Manager) Forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, w := range m.workers {
		if key.uid == uid {
			w.stop()
			delete(m.workers, key)
		}
	}
	m.Metrics.ForgetProbes(string(uid))
}

// started reports whether the container's startup probe (if any) has passed.
func (m *Manager) started(uid types.UID, container string) bool {
	m.mu.Lock()
	w := m.workers[probeKey{uid, container, Startup}]
	m.mu.Unlock()
	if w == nil {
		return true
	}
	res, _ := w.result()
	return res == Success
}

func (m *Manager) changed(uid types.UID) {
	if m.Wake != nil {
		m.Wake(uid)
	}
}

// probeTimeout is a probe's timeout, one second by default as upstream.
func probeTimeout(p *corev1.Probe) time.Duration {
	if p.TimeoutSeconds <= 0 {
		return time.Second
	}
	return time.Duration(p.TimeoutSeconds) * time.Second
}
