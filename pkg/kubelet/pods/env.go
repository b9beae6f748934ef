package pods

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/envvars"
)

var metav1PatchOptions = metav1.PatchOptions{}

func keyValues(env []corev1.EnvVar) []*runtimeapi.KeyValue {
	out := make([]*runtimeapi.KeyValue, 0, len(env))
	for _, e := range env {
		out = append(out, &runtimeapi.KeyValue{Key: e.Name, Value: []byte(e.Value)})
	}
	return out
}

// expandCommand replaces $(VAR) in command and args with the container's
// environment, as upstream does; $$(VAR) escapes to $(VAR) and unknown names stay.
func expandCommand(c *corev1.Container, env []corev1.EnvVar) ([]string, []string) {
	vals := map[string]string{}
	for _, e := range env {
		vals[e.Name] = e.Value
	}
	expand := func(in []string) []string {
		if in == nil {
			return nil
		}
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = envvars.Expand(s, vals)
		}
		return out
	}
	return expand(c.Command), expand(c.Args)
}
