package nodename

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func TestFilter(t *testing.T) {
	cases := []struct {
		name     string
		nodeName string
		want     string
	}{
		{"a pod naming no node fits any", "", "Success"},
		{"a pod naming this node fits", "foo", "Success"},
		{"a pod naming another node does not", "bar", "UnschedulableAndUnresolvable: " + ErrReason},
	}
	pl := &NodeName{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ni := fw.NewNodeInfo()
			ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "foo"}})
			st := pl.Filter(context.Background(), fw.NewCycleState(), &corev1.Pod{Spec: corev1.PodSpec{NodeName: c.nodeName}}, ni)
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
