package core

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
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
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := &corev1.Node{Spec: corev1.NodeSpec{Taints: c.taints}}
			Nodes().Strategy.PrepareForCreate(context.Background(), n)
			if len(n.Spec.Taints) != c.want || n.Spec.Taints[len(n.Spec.Taints)-1].Key != corev1.TaintNodeNotReady {
				t.Errorf("taints = %v", n.Spec.Taints)
			}
		})
	}
}
