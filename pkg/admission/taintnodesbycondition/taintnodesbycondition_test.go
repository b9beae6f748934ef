package taintnodesbycondition

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

func TestANewNodeStartsWithTheNotReadyNoScheduleTaint(t *testing.T) {
	cases := []struct {
		name   string
		taints []corev1.Taint
		want   int
	}{
		{"a node without taints gets it", nil, 1},
		{"a node with its own taints keeps them and gets it", []corev1.Taint{{Key: "dedicated", Effect: corev1.TaintEffectNoSchedule}}, 2},
		{"a node that already has it does not get it twice", []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}}, 1},
		{"a node with the not-ready NoExecute taint gets the NoSchedule one too", []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}}, 2},
	}
	p := New()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := &corev1.Node{Spec: corev1.NodeSpec{Taints: c.taints}}
			a := &admission.Attributes{Operation: admission.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "nodes"}, Object: n}
			if err := p.Admit(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			if len(n.Spec.Taints) != c.want || n.Spec.Taints[len(n.Spec.Taints)-1].Key != corev1.TaintNodeNotReady {
				t.Errorf("taints = %v", n.Spec.Taints)
			}
		})
	}
}

func TestOnlyNodeCreatesAreTainted(t *testing.T) {
	p := New()
	if p.Handles(admission.Update) || !p.Handles(admission.Create) {
		t.Error("the plugin handles creates only")
	}
	if !p.HandlesResource(admission.Target{Resource: nodesGR}) || p.HandlesResource(admission.Target{Resource: nodesGR, Subresource: "status"}) {
		t.Error("the plugin handles nodes, not their subresources")
	}
}
