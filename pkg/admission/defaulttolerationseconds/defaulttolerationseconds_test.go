package defaulttolerationseconds

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

func TestDefaultTolerations(t *testing.T) {
	sixty := int64(60)
	cases := []struct {
		name string
		have []corev1.Toleration
		want int // tolerations after admission
	}{
		{"a pod without tolerations gets both", nil, 2},
		{"a pod tolerating everything gets none", []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, 1},
		{"a pod with its own not-ready toleration gets the unreachable one",
			[]corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &sixty}}, 2},
		{"a toleration of every effect of a key counts",
			[]corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists}}, 2},
		{"a NoSchedule toleration does not count",
			[]corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}, 3},
	}
	p := New(DefaultSeconds, DefaultSeconds)
	for _, c := range cases {
		pod := &corev1.Pod{Spec: corev1.PodSpec{Tolerations: c.have}}
		a := &admission.Attributes{Operation: admission.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, Object: pod}
		if err := p.Admit(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		if len(pod.Spec.Tolerations) != c.want {
			t.Errorf("%s: %d tolerations, want %d: %+v", c.name, len(pod.Spec.Tolerations), c.want, pod.Spec.Tolerations)
		}
		for _, tol := range pod.Spec.Tolerations[len(c.have):] {
			if *tol.TolerationSeconds != DefaultSeconds || tol.Effect != corev1.TaintEffectNoExecute {
				t.Errorf("%s: added %+v", c.name, tol)
			}
		}
	}
	if !p.HandlesResource(admission.Target{Resource: podsGR}) || p.HandlesResource(admission.Target{Resource: podsGR, Subresource: "status"}) {
		t.Error("the plugin handles pods, not their subresources")
	}
}
