package sim

import (
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func template() NodeTemplate {
	return NodeTemplate{Prefix: "sim-", CPU: resource.MustParse("32"), Memory: resource.MustParse("256Gi"),
		Pods: resource.MustParse("110"), EphemeralStorage: resource.MustParse("1Ti"), Zones: 3, KubeletVersion: "v1.37.2+minik8s"}
}

func TestBuildNode(t *testing.T) {
	tp := template()
	tp.Labels = map[string]string{"pool": "big", LabelSimulated: "false"}
	tp.Taints = []corev1.Taint{{Key: "gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule}}
	now := time.Unix(1_000_000, 0)
	n, err := tp.Build(4, 9, now)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{
		"kubernetes.io/hostname": "sim-4", "kubernetes.io/os": "linux", "kubernetes.io/arch": runtime.GOARCH,
		"topology.kubernetes.io/zone": "zone-1", "node.kubernetes.io/instance-type": "sim-32cpu-256Gi",
		"pool": "big", LabelSimulated: "true",
	}
	for k, v := range labels {
		if n.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, n.Labels[k], v)
		}
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"the name is the prefix and the index", n.Name == "sim-4"},
		{"the pod range is the slot's", n.Spec.PodCIDR == "100.64.9.0/24" && len(n.Spec.PodCIDRs) == 1 && n.Spec.PodCIDRs[0] == "100.64.9.0/24"},
		{"the InternalIP is the slot's", len(n.Status.Addresses) == 2 && n.Status.Addresses[0].Address == "198.18.0.10" && n.Status.Addresses[1].Address == "sim-4"},
		{"the taints are the template's", len(n.Spec.Taints) == 1 && n.Spec.Taints[0].Key == "gpu"},
		{"capacity has cpu, memory, pods and ephemeral storage", n.Status.Capacity.Cpu().String() == "32" && n.Status.Capacity.Memory().String() == "256Gi" &&
			n.Status.Capacity.Pods().String() == "110" && n.Status.Capacity.StorageEphemeral().String() == "1Ti"},
		{"allocatable is capacity", n.Status.Allocatable.Cpu().Equal(*n.Status.Capacity.Cpu()) && len(n.Status.Allocatable) == 4},
		{"the node is Ready with heartbeat now", len(n.Status.Conditions) == 4 && n.Status.Conditions[3].Type == corev1.NodeReady &&
			n.Status.Conditions[3].Status == corev1.ConditionTrue && n.Status.Conditions[3].LastHeartbeatTime.Time.Equal(now)},
		{"nodeInfo names the simulated runtime and the kubelet version", n.Status.NodeInfo.ContainerRuntimeVersion == "sim://v1.37.2+minik8s" &&
			n.Status.NodeInfo.KubeletVersion == "v1.37.2+minik8s" && n.Status.NodeInfo.OperatingSystem == "linux"},
		{"the kubelet port is advertised", n.Status.DaemonEndpoints.KubeletEndpoint.Port == KubeletPort},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.name, n)
		}
	}
}

func TestBuildNodeSpreadsZonesRoundRobin(t *testing.T) {
	tp := template()
	for i, want := range []string{"zone-0", "zone-1", "zone-2", "zone-0"} {
		n, _ := tp.Build(i, i, time.Now())
		if got := n.Labels[corev1.LabelTopologyZone]; got != want {
			t.Errorf("node %d: zone %q, want %q", i, got, want)
		}
	}
	tp.Zones = 0
	if n, _ := tp.Build(0, 0, time.Now()); n.Labels[corev1.LabelTopologyZone] != "" {
		t.Errorf("--zones 0 still set a zone: %v", n.Labels)
	}
}

func TestNodeTemplateValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*NodeTemplate)
		want   string
	}{
		{"the defaults are valid", func(*NodeTemplate) {}, ""},
		{"a prefix that makes invalid names is refused", func(t *NodeTemplate) { t.Prefix = "Sim_" }, "does not make valid node names"},
		{"zero CPUs are refused", func(t *NodeTemplate) { t.CPU = resource.MustParse("0") }, "--cpu 0: must be greater than zero"},
		{"negative memory is refused", func(t *NodeTemplate) { t.Memory = resource.MustParse("-1Gi") }, "--memory -1Gi"},
		{"a fraction of a pod is refused", func(t *NodeTemplate) { t.Pods = resource.MustParse("1500m") }, "whole number"},
		{"more pods than a /24 holds are refused", func(t *NodeTemplate) { t.Pods = resource.MustParse("300") }, "at most 253 pods"},
		{"negative zones are refused", func(t *NodeTemplate) { t.Zones = -1 }, "--zones -1"},
		{"an invalid label value is refused", func(t *NodeTemplate) { t.Labels = map[string]string{"a": "b c"} }, `label a="b c"`},
	}
	for _, c := range cases {
		tp := template()
		c.change(&tp)
		err := tp.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}
