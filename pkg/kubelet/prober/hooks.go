package prober

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

// Hooks runs containers' postStart and preStop handlers; it implements pods.Hooks.
type Hooks struct {
	Checker *Checker
	Runtime runtime.CRI
	// HostIP is where hooks of host-network pods connect.
	HostIP   string
	Recorder record.EventRecorder
}

// PostStart runs the postStart handler right after the container started. The
// container is killed when it fails (the caller does that and records the event).
func (h *Hooks) PostStart(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id string) error {
	if c.Lifecycle == nil || c.Lifecycle.PostStart == nil {
		return nil
	}
	// Upstream gives a postStart hook no deadline of its own; bound it anyway so
	// a hung hook cannot hold the pod's worker forever.
	return h.run(ctx, pod, c, id, c.Lifecycle.PostStart, 2*time.Minute)
}

// PreStop runs the preStop handler within the grace period; a failure is only
// recorded, the container is stopped either way.
func (h *Hooks) PreStop(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id string, grace time.Duration) {
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
		return
	}
	if err := h.run(ctx, pod, c, id, c.Lifecycle.PreStop, grace); err != nil && h.Recorder != nil {
		h.Recorder.Eventf(pod, corev1.EventTypeWarning, "FailedPreStopHook", "PreStopHook failed: %v", err)
	}
}

func (h *Hooks) run(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id string, lh *corev1.LifecycleHandler, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	handler := Handler{Exec: lh.Exec, HTTPGet: lh.HTTPGet, TCPSocket: lh.TCPSocket, Sleep: lh.Sleep}
	ip := ""
	if lh.HTTPGet != nil || lh.TCPSocket != nil {
		ip = h.podIP(ctx, pod, id)
	}
	res, msg := h.Checker.Run(ctx, handler, pod, c, id, ip, limit)
	if res == Success {
		return nil
	}
	switch {
	case lh.Exec != nil:
		return fmt.Errorf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: command '%s' exited with non-zero code, message: %q",
			lh.Exec.Command, c.Name, pod.Name+"_"+pod.Namespace+"("+string(pod.UID)+")", strings.Join(lh.Exec.Command, " "), msg)
	case lh.HTTPGet != nil:
		return fmt.Errorf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %s",
			lh.HTTPGet.Path, c.Name, pod.Name+"_"+pod.Namespace+"("+string(pod.UID)+")", msg)
	}
	return fmt.Errorf("lifecycle hook for Container %q in Pod %q failed: %s", c.Name, pod.Name, msg)
}

// podIP finds the IP of the sandbox the container runs in.
func (h *Hooks) podIP(ctx context.Context, pod *corev1.Pod, id string) string {
	if pod.Spec.HostNetwork {
		return h.HostIP
	}
	cs, err := h.Runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{Id: id})
	if err != nil || len(cs) == 0 {
		return pod.Status.PodIP
	}
	sb, err := h.Runtime.PodSandboxStatus(ctx, cs[0].PodSandboxId, false)
	if err != nil || sb.GetStatus().GetNetwork().GetIp() == "" {
		return pod.Status.PodIP
	}
	return sb.GetStatus().GetNetwork().GetIp()
}
