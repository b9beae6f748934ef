package nodeunschedulable

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func TestFilter(t *testing.T) {
	tolerateUnschedulable := corev1.Toleration{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	cases := []struct {
		name          string
		unschedulable bool
		tolerations   []corev1.Toleration
		want          string
	}{
		{"a schedulable node takes the pod", false, nil, "Success"},
		{"a cordoned node refuses the pod", true, nil, "UnschedulableAndUnresolvable: " + ErrReasonUnschedulable},
		{"a pod tolerating the unschedulable taint may go to a cordoned node", true, []corev1.Toleration{tolerateUnschedulable}, "Success"},
		{"a toleration of another taint does not help", true,
			[]corev1.Toleration{{Key: "other", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			"UnschedulableAndUnresolvable: " + ErrReasonUnschedulable},
		{"a toleration of every taint helps", true, []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, "Success"},
	}
	pl := &NodeUnschedulable{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ni := fw.NewNodeInfo()
			ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{Unschedulable: c.unschedulable}})
			st := pl.Filter(context.Background(), fw.NewCycleState(), &corev1.Pod{Spec: corev1.PodSpec{Tolerations: c.tolerations}}, ni)
			got := "Success"
			if !st.IsSuccess() {
				got = st.String()
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestQueueingHint(t *testing.T) {
	cases := []struct {
		name          string
		unschedulable bool
		want          fw.QueueingHint
	}{
		{"an uncordoned node may help", false, fw.Queue},
		{"a node still cordoned does not", true, fw.QueueSkip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := &corev1.Node{Spec: corev1.NodeSpec{Unschedulable: c.unschedulable}}
			if got, _ := isSchedulableAfterNodeChange(&corev1.Pod{}, nil, n); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
