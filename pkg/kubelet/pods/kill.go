package pods

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/lifecycle"
)

// killPod stops every running container of a pod (in parallel, each within the
// grace period, preStop hooks first) and then its sandboxes.
func (m *Manager) killPod(ctx context.Context, pod *corev1.Pod, rt *lifecycle.Pod, grace int64, _ string) error {
	var wg sync.WaitGroup
	for _, c := range rt.Running() {
		wg.Add(1)
		go func(c lifecycle.Container) {
			defer wg.Done()
			m.killContainer(ctx, pod, findContainer(pod, c.Name), c.ID, c.Name, grace, true)
		}(c)
	}
	wg.Wait()
	return m.stopSandboxes(ctx, rt)
}

func (m *Manager) stopSandboxes(ctx context.Context, rt *lifecycle.Pod) error {
	for _, s := range rt.Sandboxes {
		if !s.Ready {
			continue
		}
		if err := m.cfg.Runtime.StopPodSandbox(ctx, s.ID); err != nil {
			return fmt.Errorf("stop sandbox %s: %w", s.ID, err)
		}
	}
	return nil
}

// killContainer runs the preStop hook, then stops the container: SIGTERM, and SIGKILL
// once what is left of the grace period has passed.
func (m *Manager) killContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id, name string, grace int64, event bool) {
	if event {
		m.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "Killing", "Stopping container %s", name)
	}
	deadline := time.Now().Add(time.Duration(grace) * time.Second)
	if c != nil && c.Lifecycle != nil && c.Lifecycle.PreStop != nil && grace > 0 {
		m.cfg.Hooks.PreStop(ctx, pod, c, id, time.Duration(grace)*time.Second)
	}
	remaining := time.Until(deadline)
	if remaining < 2*time.Second && grace > 0 {
		// Upstream gives a container at least two seconds after its preStop hook.
		remaining = 2 * time.Second
	}
	if grace == 0 {
		remaining = 0
	}
	if err := m.cfg.Runtime.StopContainer(ctx, id, remaining); err != nil {
		m.log.Info("stop container", "pod", pod.Namespace+"/"+pod.Name, "container", name, "err", err)
	}
}
