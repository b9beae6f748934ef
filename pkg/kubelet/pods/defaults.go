package pods

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/lifecycle"
)

// LiteralEnv resolves only literal values; it stands in until a richer Env is given.
type LiteralEnv struct{}

// Env implements Env.
func (LiteralEnv) Env(_ context.Context, _ *corev1.Pod, c *corev1.Container) ([]corev1.EnvVar, error) {
	var out []corev1.EnvVar
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			return nil, fmt.Errorf("env %s: valueFrom is not supported", e.Name)
		}
		out = append(out, corev1.EnvVar{Name: e.Name, Value: e.Value})
	}
	return out, nil
}

// NoVolumes supports pods without volumes.
type NoVolumes struct{}

// Setup implements Volumes.
func (NoVolumes) Setup(_ context.Context, pod *corev1.Pod) error { return nil }

// Mounts implements Volumes.
func (NoVolumes) Mounts(_ context.Context, _ *corev1.Pod, c *corev1.Container, _ []corev1.EnvVar) ([]*runtimeapi.Mount, error) {
	if len(c.VolumeMounts) > 0 {
		return nil, fmt.Errorf("volumes are not supported")
	}
	return nil, nil
}

// Teardown implements Volumes.
func (NoVolumes) Teardown(context.Context, *corev1.Pod) error { return nil }

// NoProbes treats every container as passing its probes.
type NoProbes struct{}

// Update implements Prober.
func (NoProbes) Update(*corev1.Pod, *lifecycle.Pod) {}

// Results implements Prober.
func (NoProbes) Results(types.UID) (map[string]bool, map[string]bool, map[string]string) {
	return nil, nil, nil
}

// Forget implements Prober.
func (NoProbes) Forget(types.UID) {}

// NoHooks runs no lifecycle handlers.
type NoHooks struct{}

// PostStart implements Hooks.
func (NoHooks) PostStart(context.Context, *corev1.Pod, *corev1.Container, string) error { return nil }

// PreStop implements Hooks.
func (NoHooks) PreStop(context.Context, *corev1.Pod, *corev1.Container, string, time.Duration) {}
