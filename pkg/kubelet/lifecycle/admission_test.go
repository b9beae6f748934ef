package lifecycle

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestAdmit(t *testing.T) {
	pod := func(uid, hostIP string, port int32, proto corev1.Protocol) *corev1.Pod {
		p := &corev1.Pod{}
		p.UID = types.UID(uid)
		p.Spec.Containers = []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: port, HostIP: hostIP, Protocol: proto}}}}
		return p
	}
	cases := []struct {
		name     string
		pod      *corev1.Pod
		admitted []*corev1.Pod
		want     bool
	}{
		{name: "a pod without host ports is admitted", pod: pod("a", "", 0, ""), admitted: []*corev1.Pod{pod("b", "", 8080, "")}, want: true},
		{name: "a host port another pod holds refuses the pod", pod: pod("a", "", 8080, ""), admitted: []*corev1.Pod{pod("b", "", 8080, corev1.ProtocolTCP)}},
		{name: "the same port over another protocol is free", pod: pod("a", "", 8080, corev1.ProtocolUDP), admitted: []*corev1.Pod{pod("b", "", 8080, "")}, want: true},
		{name: "the same port on two specific addresses is free", pod: pod("a", "10.0.0.1", 8080, ""), admitted: []*corev1.Pod{pod("b", "10.0.0.2", 8080, "")}, want: true},
		{name: "a specific address conflicts with a pod binding every address", pod: pod("a", "10.0.0.1", 8080, ""), admitted: []*corev1.Pod{pod("b", "0.0.0.0", 8080, "")}},
		{name: "a pod does not conflict with itself", pod: pod("a", "", 8080, ""), admitted: []*corev1.Pod{pod("a", "", 8080, "")}, want: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Admit(c.pod, c.admitted)
			if got.Admit != c.want {
				t.Fatalf("Admit = %+v, want admit %v", got, c.want)
			}
			if !got.Admit && (got.Reason != "NodePorts" || got.Message != "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports") {
				t.Errorf("refusal %+v is not upstream's", got)
			}
		})
	}
}
