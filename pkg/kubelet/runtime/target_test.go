package runtime

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestEphemeralContainerJoinsItsTargetsProcessNamespace(t *testing.T) {
	yes := true
	cases := []struct {
		name       string
		share      *bool
		hostPID    bool
		target     string
		wantMode   runtimeapi.NamespaceMode
		wantTarget string
	}{
		{"a container without a target gets its own process namespace", nil, false, "", runtimeapi.NamespaceMode_CONTAINER, ""},
		{"a debugging container joins its target's process namespace", nil, false, "abc", runtimeapi.NamespaceMode_TARGET, "abc"},
		{"a pod sharing one process namespace keeps it for the debugging container", &yes, false, "abc", runtimeapi.NamespaceMode_POD, ""},
		{"a pod in the host's process namespace keeps it for the debugging container", nil, true, "abc", runtimeapi.NamespaceMode_NODE, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{ShareProcessNamespace: tc.share, HostPID: tc.hostPID}}
			c := &corev1.Container{Name: "debugger", Image: "busybox"}
			cfg := ContainerConfig(pod, c, 0, ContainerInputs{TargetID: tc.target})
			ns := cfg.Linux.SecurityContext.NamespaceOptions
			if ns.Pid != tc.wantMode || ns.TargetId != tc.wantTarget {
				t.Fatalf("pid namespace %v target %q, want %v %q", ns.Pid, ns.TargetId, tc.wantMode, tc.wantTarget)
			}
		})
	}
}
