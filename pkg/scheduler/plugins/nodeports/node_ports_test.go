package nodeports

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// port is "ip/protocol/port" as upstream's tests write them.
type port struct {
	ip       string
	protocol corev1.Protocol
	port     int32
}

var podCount int

func podWithPorts(ports ...port) *corev1.Pod {
	podCount++
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", UID: types.UID(string(rune('a' + podCount)))}}
	c := corev1.Container{Name: "c"}
	for _, pp := range ports {
		c.Ports = append(c.Ports, corev1.ContainerPort{HostIP: pp.ip, Protocol: pp.protocol, HostPort: pp.port, ContainerPort: 80})
	}
	p.Spec.Containers = []corev1.Container{c}
	return p
}

func withSidecarPorts(p *corev1.Pod, ports ...port) *corev1.Pod {
	always := corev1.ContainerRestartPolicyAlways
	c := corev1.Container{Name: "sidecar", RestartPolicy: &always}
	for _, pp := range ports {
		c.Ports = append(c.Ports, corev1.ContainerPort{HostIP: pp.ip, Protocol: pp.protocol, HostPort: pp.port, ContainerPort: 81})
	}
	p.Spec.InitContainers = append(p.Spec.InitContainers, c)
	return p
}

func nodeWith(pods ...*corev1.Pod) *fw.NodeInfo {
	ni := fw.NewNodeInfo(pods...)
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}})
	return ni
}

func TestFilter(t *testing.T) {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	conflict := "Unschedulable: " + ErrReason
	cases := []struct {
		name string
		pod  *corev1.Pod
		node *fw.NodeInfo
		want string
	}{
		{"a pod without host ports skips the plugin", podWithPorts(), nodeWith(podWithPorts(port{"", tcp, 8080})), "Skip"},
		{"the same port on another protocol fits", podWithPorts(port{"127.0.0.1", udp, 8080}), nodeWith(podWithPorts(port{"127.0.0.1", tcp, 8080})), "Success"},
		{"another port fits", podWithPorts(port{"127.0.0.1", tcp, 8080}), nodeWith(podWithPorts(port{"127.0.0.1", tcp, 8081})), "Success"},
		{"the same port on another IP fits", podWithPorts(port{"127.0.0.1", tcp, 8080}), nodeWith(podWithPorts(port{"127.0.0.2", tcp, 8080})), "Success"},
		{"the same IP, protocol and port conflicts", podWithPorts(port{"127.0.0.1", udp, 8080}), nodeWith(podWithPorts(port{"127.0.0.1", udp, 8080})), conflict},
		{"one of several ports taken conflicts", podWithPorts(port{"127.0.0.1", tcp, 8080}, port{"127.0.0.1", tcp, 8081}),
			nodeWith(podWithPorts(port{"127.0.0.1", tcp, 8081})), conflict},
		{"a port taken on 0.0.0.0 conflicts with any IP", podWithPorts(port{"127.0.0.1", tcp, 8001}), nodeWith(podWithPorts(port{"0.0.0.0", tcp, 8001})), conflict},
		{"0.0.0.0 conflicts with the port taken on any IP", podWithPorts(port{"0.0.0.0", tcp, 8001}), nodeWith(podWithPorts(port{"127.0.0.1", tcp, 8001})), conflict},
		{"an empty host IP means 0.0.0.0", podWithPorts(port{"", tcp, 8001}), nodeWith(podWithPorts(port{"10.0.0.5", tcp, 8001})), conflict},
		{"an empty protocol means TCP", podWithPorts(port{"127.0.0.1", "", 8001}), nodeWith(podWithPorts(port{"127.0.0.1", tcp, 8001})), conflict},
		{"0.0.0.0 on another protocol fits", podWithPorts(port{"0.0.0.0", udp, 8001}), nodeWith(podWithPorts(port{"127.0.0.1", tcp, 8001})), "Success"},
		{"a sidecar's host port counts for the new pod", withSidecarPorts(podWithPorts(), port{"", tcp, 9000}),
			nodeWith(podWithPorts(port{"", tcp, 9000})), conflict},
		{"a sidecar's host port counts on the node", podWithPorts(port{"", tcp, 9000}),
			nodeWith(withSidecarPorts(podWithPorts(), port{"", tcp, 9000})), conflict},
	}
	pl := &NodePorts{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			state := fw.NewCycleState()
			_, st := pl.PreFilter(context.Background(), state, c.pod, nil)
			if st.IsSkip() {
				if c.want != "Skip" {
					t.Fatalf("PreFilter skipped, want %s", c.want)
				}
				return
			}
			got := pl.Filter(context.Background(), state, c.pod, c.node)
			gotS := "Success"
			if !got.IsSuccess() {
				gotS = got.String()
			}
			if gotS != c.want {
				t.Fatalf("got %q, want %q", gotS, c.want)
			}
		})
	}
}

func TestQueueingHintAfterPodDeleted(t *testing.T) {
	pod := podWithPorts(port{"", corev1.ProtocolTCP, 8080})
	bound := func(p *corev1.Pod) *corev1.Pod {
		p.Spec.NodeName = "n"
		return p
	}
	cases := []struct {
		name string
		gone *corev1.Pod
		want fw.QueueingHint
	}{
		{"a pod freeing the same port may help", bound(podWithPorts(port{"", corev1.ProtocolTCP, 8080})), fw.Queue},
		{"a pod freeing the port with the protocol left empty (TCP) may help", bound(podWithPorts(port{"10.0.0.1", "", 8080})), fw.Queue},
		{"a pod freeing the port on another protocol does not", bound(podWithPorts(port{"", corev1.ProtocolUDP, 8080})), fw.QueueSkip},
		{"a pod freeing another port does not", bound(podWithPorts(port{"", corev1.ProtocolTCP, 9090})), fw.QueueSkip},
		{"a pod without host ports does not", bound(podWithPorts()), fw.QueueSkip},
		{"a pod that never got a node freed nothing", podWithPorts(port{"", corev1.ProtocolTCP, 8080}), fw.QueueSkip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, _ := isSchedulableAfterPodDeleted(pod, c.gone, nil); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
