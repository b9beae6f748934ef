// Package pods runs the pods bound to this node: one worker per pod drives the
// runtime toward the pod's spec (decided by package lifecycle) and reports status.
package pods

import (
	"context"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/lifecycle"
	"github.com/minik8s/minik8s/pkg/kubelet/metrics"
	"github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

// Volumes prepares a pod's volumes and tells each container what to mount.
type Volumes interface {
	Setup(ctx context.Context, pod *corev1.Pod) error
	// Mounts is given the pod with its IP filled in and the container's
	// resolved environment (for subPathExpr).
	Mounts(ctx context.Context, pod *corev1.Pod, c *corev1.Container, env []corev1.EnvVar) ([]*runtimeapi.Mount, error)
	Teardown(ctx context.Context, pod *corev1.Pod) error
}

// Env resolves a container's environment (values, fieldRef, resourceFieldRef,
// configMap and secret references, envFrom, service links).
type Env interface {
	Env(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]corev1.EnvVar, error)
}

// Prober runs liveness, readiness and startup probes of running containers.
type Prober interface {
	// Update tells the prober which containers run now (instances by name).
	Update(pod *corev1.Pod, rt *lifecycle.Pod)
	// Results returns readiness and startup per container and the containers whose
	// liveness or startup probe failed, with the failure message.
	Results(uid types.UID) (ready, started map[string]bool, unhealthy map[string]string)
	// Forget drops a pod's probes.
	Forget(uid types.UID)
}

// Hooks runs postStart and preStop handlers.
type Hooks interface {
	PostStart(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id string) error
	PreStop(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id string, grace time.Duration)
}

// NetworkPolicy installs the network policy rules that apply to a pod.
type NetworkPolicy interface {
	// PodStarting is given the pod with its sandbox's addresses and returns
	// once its rules are in place, so its first packet is judged by them.
	PodStarting(ctx context.Context, pod *corev1.Pod) error
}

// Config wires the manager.
type Config struct {
	NodeName string
	NodeIP   string
	Client   kubernetes.Interface
	Runtime  runtime.CRI
	Options  *runtime.Options
	Recorder record.EventRecorder
	Volumes  Volumes
	Env      Env
	Prober   Prober
	Hooks    Hooks
	Images   *Images
	// NetworkPolicy, if set, is waited for before a container starts.
	NetworkPolicy NetworkPolicy
	Logger        *slog.Logger
	// Backoff holds container restart delays.
	Backoff *lifecycle.Backoff
	// Metrics observes pod start latency; nil observes nothing.
	Metrics *metrics.Metrics
}

// Manager owns one worker per pod bound to this node.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	status  *statusWriter
	ctx     context.Context
	mu      sync.Mutex
	workers map[types.UID]*worker
	// admitMu makes admission one pod at a time, as upstream's kubelet admits
	// new pods in order, each against those admitted before it.
	admitMu sync.Mutex
	wg      sync.WaitGroup
}

// NewManager returns a manager; Run starts it.
func NewManager(cfg Config) *Manager {
	if cfg.Backoff == nil {
		cfg.Backoff = lifecycle.NewBackoff(lifecycle.BackoffInitial, lifecycle.BackoffMax)
	}
	return &Manager{cfg: cfg, log: cfg.Logger, workers: map[types.UID]*worker{},
		status: &statusWriter{client: cfg.Client, log: cfg.Logger}}
}

// Run keeps the workers until ctx ends; it does not wait for pods to stop, which keep
// running across agent restarts.
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.ctx = ctx
	m.mu.Unlock()
	<-ctx.Done()
	m.wg.Wait()
}

// Update hands the latest version of a pod to its worker, starting one if needed.
func (m *Manager) Update(pod *corev1.Pod) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx == nil || m.ctx.Err() != nil {
		return
	}
	w := m.workers[pod.UID]
	if w == nil {
		w = newWorker(m, pod)
		m.workers[pod.UID] = w
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			w.run(m.ctx)
			m.mu.Lock()
			if m.workers[pod.UID] == w {
				delete(m.workers, pod.UID)
			}
			m.mu.Unlock()
		}()
	}
	w.update(pod, false)
}

// Removed tells a pod's worker the pod is gone from the API.
func (m *Manager) Removed(pod *corev1.Pod) {
	m.mu.Lock()
	w := m.workers[pod.UID]
	m.mu.Unlock()
	if w != nil {
		w.update(pod, true)
		return
	}
	// No worker (the agent restarted): clean up what the runtime still has.
	m.Update(pod)
	m.mu.Lock()
	w = m.workers[pod.UID]
	m.mu.Unlock()
	if w != nil {
		w.update(pod, true)
	}
}

// Wake asks a pod's worker to look again (the runtime changed under it).
func (m *Manager) Wake(uid types.UID) {
	m.mu.Lock()
	w := m.workers[uid]
	m.mu.Unlock()
	if w != nil {
		w.wake()
	}
}

// Known reports whether a pod has a worker.
func (m *Manager) Known(uid types.UID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.workers[uid] != nil
}
