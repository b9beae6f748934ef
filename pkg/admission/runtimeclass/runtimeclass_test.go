package runtimeclass

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/admissiontest"
)

func TestRuntimeClass(t *testing.T) {
	overhead := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
	other := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
	objects := admissiontest.New().Add("runtimeclasses.node.k8s.io",
		&nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "kata"}, Handler: "kata", Overhead: &nodev1.Overhead{PodFixed: overhead},
			Scheduling: &nodev1.Scheduling{NodeSelector: map[string]string{"sandbox": "kata"},
				Tolerations: []corev1.Toleration{{Key: "sandbox", Operator: corev1.TolerationOpExists}}}},
		&nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "plain"}, Handler: "runc"})
	cases := []struct {
		name     string
		class    string
		overhead corev1.ResourceList
		selector map[string]string
		want     string
	}{
		{name: "a pod takes its class's overhead and scheduling", class: "kata"},
		{name: "an overhead equal to the class's is accepted", class: "kata", overhead: overhead},
		{name: "an overhead other than the class's is refused", class: "kata", overhead: other,
			want: `pods "web" is forbidden: pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead`},
		{name: "an overhead without one in the class is refused", class: "plain", overhead: other,
			want: `pods "web" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead`},
		{name: "a node selector that contradicts the class's is refused", class: "kata", selector: map[string]string{"sandbox": "gvisor"},
			want: `pods "web" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[sandbox] = kata; pod.spec.nodeSelector[sandbox] = gvisor`},
		{name: "an unknown class is refused", class: "nope", want: `pods "web" is forbidden: pod rejected: RuntimeClass "nope" not found`},
		{name: "a pod without a class is left alone"},
	}
	p := New(objects)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Overhead: c.overhead, NodeSelector: c.selector}}
			if c.class != "" {
				pod.Spec.RuntimeClassName = &c.class
			}
			a := &admission.Attributes{Operation: admission.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "pods"},
				Namespaced: true, Namespace: "app", Object: pod}
			err := p.Admit(context.Background(), a)
			if err == nil {
				err = p.Validate(context.Background(), a)
			}
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Fatalf("got %q\nwant %q", got, c.want)
			}
			if c.want == "" && c.class == "kata" {
				if pod.Spec.NodeSelector["sandbox"] != "kata" || len(pod.Spec.Tolerations) != 1 || pod.Spec.Overhead.Cpu().String() != "100m" {
					t.Errorf("pod spec %+v", pod.Spec)
				}
			}
		})
	}
}
