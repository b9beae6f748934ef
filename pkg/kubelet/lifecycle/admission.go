package lifecycle

import (
	corev1 "k8s.io/api/core/v1"
)

// Upstream's kubelet names a rejection by the predicate that failed.
const (
	NodePortsReason  = "NodePorts"
	nodePortsMessage = "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports"
	// RejectedPrefix starts the message of a pod the agent refused.
	RejectedPrefix = "Pod was rejected: "
)

// Admission is the agent's verdict on a new pod, as upstream's kubelet admits
// pods bound to it (the scheduler may be bypassed with spec.nodeName).
type Admission struct {
	Admit           bool
	Reason, Message string
}

// Admit checks a new pod against the pods already admitted on this node: a
// host port (protocol, port, address) another running pod holds refuses it.
func Admit(pod *corev1.Pod, admitted []*corev1.Pod) Admission {
	for _, p := range hostPorts(pod) {
		for _, other := range admitted {
			if other.UID == pod.UID {
				continue
			}
			for _, q := range hostPorts(other) {
				if portsConflict(p, q) {
					return Admission{Reason: NodePortsReason, Message: nodePortsMessage}
				}
			}
		}
	}
	return Admission{Admit: true}
}

// hostPorts are the host ports of app containers and of restartable init
// containers, which run beside them.
func hostPorts(pod *corev1.Pod) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for i := range pod.Spec.InitContainers {
		if isSidecar(&pod.Spec.InitContainers[i]) {
			out = appendHostPorts(out, pod.Spec.InitContainers[i].Ports)
		}
	}
	for i := range pod.Spec.Containers {
		out = appendHostPorts(out, pod.Spec.Containers[i].Ports)
	}
	return out
}

func appendHostPorts(out, ports []corev1.ContainerPort) []corev1.ContainerPort {
	for _, p := range ports {
		if p.HostPort > 0 {
			out = append(out, p)
		}
	}
	return out
}

// portsConflict: the same protocol and port on the same address, or on any
// address when either binds them all.
func portsConflict(a, b corev1.ContainerPort) bool {
	if a.HostPort != b.HostPort || protocol(a) != protocol(b) {
		return false
	}
	return anyAddr(a.HostIP) || anyAddr(b.HostIP) || a.HostIP == b.HostIP
}

func protocol(p corev1.ContainerPort) corev1.Protocol {
	if p.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return p.Protocol
}

func anyAddr(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
