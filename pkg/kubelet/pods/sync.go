package pods

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/lifecycle"
	"github.com/minik8s/minik8s/pkg/kubelet/logs"
	"github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

// syncPod moves one pod a step toward what its spec says and reports its status.
// It returns when to look again, and done once the pod is gone everywhere.
func (m *Manager) syncPod(ctx context.Context, w *worker, pod *corev1.Pod, removed bool) (time.Duration, bool, error) {
	m.log.Debug("sync pod", "pod", pod.Namespace+"/"+pod.Name, "sinceCreation", time.Since(pod.CreationTimestamp.Time))
	rt, err := runtime.Snapshot(ctx, m.cfg.Runtime, pod.UID)
	if err != nil {
		return 0, false, err
	}
	if removed {
		return 0, true, m.cleanup(ctx, pod, rt)
	}
	if pod.DeletionTimestamp != nil {
		return m.terminate(ctx, w, pod, rt)
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		// A finished pod never runs again; make sure nothing of it does.
		return 0, false, m.killPod(ctx, pod, rt, 0, "")
	}
	if v := m.admit(w, pod, rt); !v.Admit {
		return 0, false, m.reject(ctx, pod, v)
	}
	if exceeded, _ := lifecycle.ActiveDeadline(pod, time.Now()); exceeded {
		return 0, false, m.evict(ctx, w, pod, rt, lifecycle.DeadlineExceededReason, lifecycle.DeadlineExceededMessage)
	}
	if err := m.cfg.Volumes.Setup(ctx, pod); err != nil {
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "FailedMount", "%v", err)
		m.writeStatus(ctx, w, pod, rt)
		return 0, false, fmt.Errorf("set up volumes: %w", err)
	}

	_, _, unhealthy := m.cfg.Prober.Results(pod.UID)
	actions := lifecycle.ComputeActions(pod, rt, lifecycle.Inputs{Now: time.Now(), Backoff: m.cfg.Backoff, Unhealthy: unhealthy})
	changed, err := m.execute(ctx, w, pod, rt, actions)
	if changed {
		if rt, err = runtime.Snapshot(ctx, m.cfg.Runtime, pod.UID); err != nil {
			return 0, false, err
		}
	}
	for name := range actions.Waiting {
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)",
			name, pod.Name, pod.Namespace, pod.UID)
	}
	m.cfg.Prober.Update(pod, rt)
	st := m.writeStatus(ctx, w, pod, rt)
	m.observeStart(w, pod, st)
	if st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed {
		// Free the sandbox (and its IP) of a pod that is done.
		_ = m.killPod(ctx, pod, rt, 0, "")
	}
	if _, left := lifecycle.ActiveDeadline(pod, time.Now()); left > 0 && (actions.Requeue == 0 || left < actions.Requeue) {
		actions.Requeue = left
	}
	return actions.Requeue, false, err
}

// observeStart records, once, how long a pod took from the agent first seeing
// it to running, as upstream's kubelet_pod_start_duration_seconds: only for a
// pod that goes from pending to running under this worker, not one found
// running (the agent restarted).
func (m *Manager) observeStart(w *worker, pod *corev1.Pod, st corev1.PodStatus) {
	if w.startObserved || st.Phase != corev1.PodRunning {
		return
	}
	w.startObserved = true
	if pod.Status.Phase == "" || pod.Status.Phase == corev1.PodPending {
		m.cfg.Metrics.PodStarted(w.firstSeen)
	}
}

// admit decides once whether this node takes a new pod, against the pods it
// took before; a pod the runtime already runs (the agent restarted) is in.
func (m *Manager) admit(w *worker, pod *corev1.Pod, rt *lifecycle.Pod) lifecycle.Admission {
	m.admitMu.Lock()
	defer m.admitMu.Unlock()
	if w.admitted {
		return lifecycle.Admission{Admit: true}
	}
	if rt.Sandbox() != nil || pod.Status.Phase != corev1.PodPending {
		w.admitted = true
		return lifecycle.Admission{Admit: true}
	}
	var others []*corev1.Pod
	m.mu.Lock()
	for uid, o := range m.workers {
		if uid == pod.UID || !o.admitted {
			continue
		}
		if p, removed := o.latest(); !removed && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			others = append(others, p)
		}
	}
	m.mu.Unlock()
	v := lifecycle.Admit(pod, others)
	w.admitted = v.Admit
	return v
}

// reject fails a pod the node does not take, as upstream's kubelet does.
func (m *Manager) reject(ctx context.Context, pod *corev1.Pod, v lifecycle.Admission) error {
	m.cfg.Recorder.Event(pod, corev1.EventTypeWarning, v.Reason, v.Message)
	st := corev1.PodStatus{Phase: corev1.PodFailed, Reason: v.Reason, Message: lifecycle.RejectedPrefix + v.Message,
		QOSClass: pod.Status.QOSClass, Conditions: pod.Status.Conditions, StartTime: pod.Status.StartTime}
	if err := m.status.write(ctx, pod, st); err != nil {
		return fmt.Errorf("report pod %s/%s rejected: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// evict stops a pod for good, as upstream's kubelet does when a pod sync
// handler (the active deadline) says so: an event, the containers killed
// within the grace period, and the pod Failed with the reason.
func (m *Manager) evict(ctx context.Context, w *worker, pod *corev1.Pod, rt *lifecycle.Pod, reason, message string) error {
	m.cfg.Recorder.Event(pod, corev1.EventTypeNormal, reason, message)
	if err := m.killPod(ctx, pod, rt, gracePeriod(pod), ""); err != nil {
		return fmt.Errorf("stop pod %s/%s past its deadline: %w", pod.Namespace, pod.Name, err)
	}
	var err error
	if rt, err = runtime.Snapshot(ctx, m.cfg.Runtime, pod.UID); err != nil {
		return err
	}
	in := m.statusInputs(w, pod)
	in.Evicted = &lifecycle.Waiting{Reason: reason, Message: message}
	if err := m.status.write(ctx, pod, lifecycle.PodStatus(pod, rt, in)); err != nil {
		return fmt.Errorf("report pod %s/%s failed: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// statusInputs is what the pod's status is computed from besides the runtime:
// probe results and the reasons containers could not start.
func (m *Manager) statusInputs(w *worker, pod *corev1.Pod) lifecycle.StatusInputs {
	ready, started, _ := m.cfg.Prober.Results(pod.UID)
	errs := map[string]lifecycle.Waiting{}
	w.mu.Lock()
	for k, v := range w.errors {
		errs[k] = lifecycle.Waiting{Reason: v.reason, Message: v.message}
	}
	w.mu.Unlock()
	return lifecycle.StatusInputs{Now: time.Now(), HostIP: m.cfg.NodeIP, Backoff: m.cfg.Backoff, Errors: errs, Ready: ready, Started: started}
}

// writeStatus computes and reports the pod's status.
func (m *Manager) writeStatus(ctx context.Context, w *worker, pod *corev1.Pod, rt *lifecycle.Pod) corev1.PodStatus {
	st := lifecycle.PodStatus(pod, rt, m.statusInputs(w, pod))
	defer func() {
		m.log.Debug("wrote pod status", "pod", pod.Namespace+"/"+pod.Name, "phase", st.Phase, "sinceCreation", time.Since(pod.CreationTimestamp.Time))
	}()
	if err := m.status.write(ctx, pod, st); err != nil {
		m.log.Info("report pod status", "pod", pod.Namespace+"/"+pod.Name, "err", err)
	}
	return st
}

// execute carries out the actions; it reports whether the runtime changed.
func (m *Manager) execute(ctx context.Context, w *worker, pod *corev1.Pod, rt *lifecycle.Pod, a lifecycle.Actions) (bool, error) {
	changed := false
	if a.KillPod {
		changed = true
		if err := m.killPod(ctx, pod, rt, gracePeriod(pod), ""); err != nil {
			return changed, err
		}
	}
	for _, k := range a.Kill {
		changed = true
		c := findContainer(pod, k.Name)
		if k.Reason == "Unhealthy" {
			probe := "liveness"
			if strings.HasPrefix(k.Message, "Startup") {
				probe = "startup"
			}
			m.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "Killing", "Container %s failed %s probe, will be restarted", k.Name, probe)
		}
		m.killContainer(ctx, pod, c, k.ID, k.Name, gracePeriod(pod), k.Reason != "Unhealthy")
	}
	sb := rt.Sandbox()
	sandboxID := ""
	attempt := uint32(0)
	if sb != nil && sb.Ready {
		sandboxID, attempt = sb.ID, sb.Attempt
	}
	if a.CreateSandbox {
		changed = true
		attempt = a.SandboxAttempt
		id, err := m.createSandbox(ctx, pod, attempt)
		if err != nil {
			return changed, err
		}
		sandboxID = id
	}
	if sandboxID == "" {
		return changed, nil
	}
	sbConfig, err := runtime.SandboxConfig(m.cfg.Options, pod, attempt)
	if err != nil {
		return changed, err
	}
	if a.StartInit >= 0 {
		changed = true
		c := &pod.Spec.InitContainers[a.StartInit]
		err := m.startContainer(ctx, w, pod, c, sandboxID, sbConfig, rt, "")
		if eerr := m.startEphemeral(ctx, w, pod, a.StartEphemeral, sandboxID, sbConfig, rt); err == nil {
			err = eerr
		}
		return changed || len(a.StartEphemeral) > 0, err
	}
	var firstErr error
	for _, i := range a.Start {
		changed = true
		if err := m.startContainer(ctx, w, pod, &pod.Spec.Containers[i], sandboxID, sbConfig, rt, ""); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if err := m.startEphemeral(ctx, w, pod, a.StartEphemeral, sandboxID, sbConfig, rt); err != nil && firstErr == nil {
		firstErr = err
	}
	return changed || len(a.StartEphemeral) > 0, firstErr
}

// startEphemeral starts ephemeral containers in the pod's sandbox, each in its
// target container's process namespace when it names one that runs.
func (m *Manager) startEphemeral(ctx context.Context, w *worker, pod *corev1.Pod, which []int, sandboxID string,
	sbConfig *runtimeapi.PodSandboxConfig, rt *lifecycle.Pod) error {
	var firstErr error
	for _, i := range which {
		ec := &pod.Spec.EphemeralContainers[i]
		target := ""
		if ec.TargetContainerName != "" {
			if inst := rt.Latest(ec.TargetContainerName); inst != nil && inst.Phase == lifecycle.ContainerRunning {
				target = inst.ID
			}
		}
		if err := m.startContainer(ctx, w, pod, lifecycle.EphemeralAsContainer(ec), sandboxID, sbConfig, rt, target); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("ephemeral container %s: %w", ec.Name, err)
		}
	}
	return firstErr
}

func (m *Manager) createSandbox(ctx context.Context, pod *corev1.Pod, attempt uint32) (string, error) {
	cfg, err := runtime.SandboxConfig(m.cfg.Options, pod, attempt)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cfg.LogDirectory, 0o755); err != nil {
		return "", fmt.Errorf("create log dir: %w", err)
	}
	handler := ""
	if pod.Spec.RuntimeClassName != nil {
		handler = *pod.Spec.RuntimeClassName
	}
	start := time.Now()
	id, err := m.cfg.Runtime.RunPodSandbox(ctx, cfg, handler)
	m.log.Debug("run pod sandbox", "pod", pod.Namespace+"/"+pod.Name, "took", time.Since(start), "err", err)
	if err != nil {
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
		return "", fmt.Errorf("create sandbox for %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return id, nil
}

// startContainer pulls the image if needed, creates and starts one container
// instance and runs its postStart hook.
func (m *Manager) startContainer(ctx context.Context, w *worker, pod *corev1.Pod, c *corev1.Container, sandboxID string,
	sbConfig *runtimeapi.PodSandboxConfig, rt *lifecycle.Pod, targetID string) error {
	attempt := uint32(0)
	if prev := rt.Latest(c.Name); prev != nil {
		attempt = prev.Attempt + 1
		if prev.Phase == lifecycle.ContainerExited {
			m.cfg.Backoff.Restarted(lifecycle.BackoffKey(pod, c.Name), prev.StartedAt, prev.FinishedAt)
		}
		// Keep only the instance before the new one, for `kubectl logs --previous`.
		m.removeOldInstances(ctx, pod, rt, c.Name, prev.ID)
	}
	image, err := m.cfg.Images.Ensure(ctx, pod, c, sbConfig)
	if err != nil {
		var we *WaitingError
		if errors.As(err, &we) {
			w.setError(c.Name, we.Reason, we.Message)
		}
		return err
	}
	// Environment and mounts see the pod as it is now: with its IP, which the pod
	// object from the API may not carry yet.
	view := m.podView(pod, rt, sandboxID)
	if m.cfg.NetworkPolicy != nil {
		npCtx, cancel := context.WithTimeout(ctx, networkPolicyWait)
		err := m.cfg.NetworkPolicy.PodStarting(npCtx, view)
		cancel()
		if err != nil {
			// Starting now would let the pod talk before its policies apply:
			// the worker tries again.
			return fmt.Errorf("start container %s: %w", c.Name, err)
		}
	}
	env, err := m.cfg.Env.Env(ctx, view, c)
	if err != nil {
		w.setError(c.Name, "CreateContainerConfigError", err.Error())
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return err
	}
	mounts, err := m.cfg.Volumes.Mounts(ctx, view, c, env)
	if err != nil {
		w.setError(c.Name, "CreateContainerConfigError", err.Error())
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return err
	}
	cmd, args := expandCommand(c, env)
	cfg := runtime.ContainerConfig(pod, c, attempt, runtime.ContainerInputs{
		Env: keyValues(env), Mounts: mounts, Command: cmd, Args: args, Image: image, TargetID: targetID,
	})
	start := time.Now()
	id, err := m.cfg.Runtime.CreateContainer(ctx, sandboxID, cfg, sbConfig)
	m.log.Debug("create container", "pod", pod.Namespace+"/"+pod.Name, "container", c.Name, "took", time.Since(start), "err", err)
	start = time.Now()
	defer func() {
		m.log.Debug("start container", "pod", pod.Namespace+"/"+pod.Name, "container", c.Name, "took", time.Since(start))
	}()
	if err != nil {
		w.setError(c.Name, "CreateContainerError", err.Error())
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return fmt.Errorf("create container %s: %w", c.Name, err)
	}
	m.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "Created", "Created container: %s", c.Name)
	if err := m.cfg.Runtime.StartContainer(ctx, id); err != nil {
		w.setError(c.Name, "RunContainerError", err.Error())
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return fmt.Errorf("start container %s: %w", c.Name, err)
	}
	w.clearError(c.Name)
	m.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "Started", "Started container %s", c.Name)
	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		if err := m.cfg.Hooks.PostStart(ctx, pod, c, id); err != nil {
			m.cfg.Recorder.Eventf(pod, corev1.EventTypeWarning, "FailedPostStartHook", "PostStartHook failed: %v", err)
			m.killContainer(ctx, pod, c, id, c.Name, gracePeriod(pod), false)
			return fmt.Errorf("postStart hook of %s: %w", c.Name, err)
		}
	}
	return nil
}

// networkPolicyWait bounds the wait for a pod's network policy rules.
const networkPolicyWait = 30 * time.Second

// podView is the pod with the IPs the runtime gave its sandbox.
func (m *Manager) podView(pod *corev1.Pod, rt *lifecycle.Pod, sandboxID string) *corev1.Pod {
	view := pod.DeepCopy()
	view.Status.HostIP = m.cfg.NodeIP
	view.Status.HostIPs = []corev1.HostIP{{IP: m.cfg.NodeIP}}
	if pod.Spec.HostNetwork {
		view.Status.PodIP = m.cfg.NodeIP
		view.Status.PodIPs = []corev1.PodIP{{IP: m.cfg.NodeIP}}
		return view
	}
	if ip, err := sandboxIP(context.Background(), m.cfg.Runtime, sandboxID); err == nil && ip != "" {
		view.Status.PodIP = ip
		view.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	return view
}

func sandboxIP(ctx context.Context, rt runtime.CRI, id string) (string, error) {
	st, err := rt.PodSandboxStatus(ctx, id, false)
	if err != nil {
		return "", err
	}
	return st.GetStatus().GetNetwork().GetIp(), nil
}

// removeOldInstances removes a container's exited instances but keep, with their
// log files: a container restarting for days must not fill the disk with them.
func (m *Manager) removeOldInstances(ctx context.Context, pod *corev1.Pod, rt *lifecycle.Pod, name, keep string) {
	for _, c := range rt.Containers {
		if c.Name == name && c.ID != keep && c.Phase == lifecycle.ContainerExited {
			if err := m.cfg.Runtime.RemoveContainer(ctx, c.ID); err != nil {
				continue
			}
			path := filepath.Join(m.cfg.Options.PodLogDir(pod), runtime.ContainerLogPath(c.Name, c.Attempt))
			if err := logs.Remove(path); err != nil {
				m.log.Info("remove container log", "pod", pod.Namespace+"/"+pod.Name, "err", err)
			}
		}
	}
}

func (w *worker) setError(name, reason, message string) {
	w.mu.Lock()
	w.errors[name] = waitingReason{reason, message}
	w.mu.Unlock()
}

func (w *worker) clearError(name string) {
	w.mu.Lock()
	delete(w.errors, name)
	w.mu.Unlock()
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// gracePeriod is the pod's termination grace period in seconds.
func gracePeriod(pod *corev1.Pod) int64 {
	if pod.DeletionGracePeriodSeconds != nil {
		return *pod.DeletionGracePeriodSeconds
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return 30
}

// terminate stops a pod being deleted within its grace period, reports the final
// status, and removes the pod from the API once nothing of it runs.
func (m *Manager) terminate(ctx context.Context, w *worker, pod *corev1.Pod, rt *lifecycle.Pod) (time.Duration, bool, error) {
	grace := gracePeriod(pod)
	if len(rt.Running()) > 0 {
		if err := m.killPod(ctx, pod, rt, grace, ""); err != nil {
			return 0, false, err
		}
		var err error
		if rt, err = runtime.Snapshot(ctx, m.cfg.Runtime, pod.UID); err != nil {
			return 0, false, err
		}
	} else if err := m.stopSandboxes(ctx, rt); err != nil {
		return 0, false, err
	}
	if len(rt.Running()) > 0 {
		return time.Second, false, nil
	}
	m.writeStatus(ctx, w, pod, rt)
	zero := int64(0)
	err := m.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return 0, false, fmt.Errorf("remove pod %s/%s from the API: %w", pod.Namespace, pod.Name, err)
	}
	return resync, false, nil
}

// cleanup removes everything of a pod that is gone from the API.
func (m *Manager) cleanup(ctx context.Context, pod *corev1.Pod, rt *lifecycle.Pod) error {
	if err := m.killPod(ctx, pod, rt, 0, ""); err != nil {
		return err
	}
	for _, c := range rt.Containers {
		_ = m.cfg.Runtime.RemoveContainer(ctx, c.ID)
	}
	for _, s := range rt.Sandboxes {
		if err := m.cfg.Runtime.RemovePodSandbox(ctx, s.ID); err != nil {
			return fmt.Errorf("remove sandbox %s: %w", s.ID, err)
		}
	}
	m.cfg.Prober.Forget(pod.UID)
	m.cfg.Backoff.Forget(string(pod.UID) + "/")
	m.cfg.Images.Forget(string(pod.UID))
	if err := m.cfg.Volumes.Teardown(ctx, pod); err != nil {
		return err
	}
	_ = os.RemoveAll(m.cfg.Options.PodLogDir(pod))
	return nil
}
