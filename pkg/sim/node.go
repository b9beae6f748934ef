package sim

import (
	"fmt"
	"runtime"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// KubeletPort is what simulated nodes advertise in status.daemonEndpoints; nothing
// listens there (the API server refuses to connect to simulated nodes).
const KubeletPort = 10250

// NodeTemplate describes a group of simulated nodes: <Prefix>0, <Prefix>1, ...
type NodeTemplate struct {
	Prefix           string
	CPU              resource.Quantity
	Memory           resource.Quantity
	Pods             resource.Quantity
	EphemeralStorage resource.Quantity
	// Zones spreads the nodes round-robin over zone-0 .. zone-<Zones-1>
	// (topology.kubernetes.io/zone); 0 sets no zone.
	Zones int
	// Labels and Taints are added to every node of the group.
	Labels map[string]string
	Taints []corev1.Taint
	// KubeletVersion goes into status.nodeInfo.
	KubeletVersion string
}

// Validate checks the template the way the API server would check its nodes, so a
// bad flag fails before anything is created.
func (t NodeTemplate) Validate() error {
	if errs := validation.IsDNS1123Subdomain(t.Prefix + "0"); len(errs) > 0 {
		return fmt.Errorf("prefix %q does not make valid node names: %s", t.Prefix, errs[0])
	}
	for name, q := range map[string]resource.Quantity{"cpu": t.CPU, "memory": t.Memory, "pods": t.Pods, "ephemeral-storage": t.EphemeralStorage} {
		if q.Sign() <= 0 {
			return fmt.Errorf("--%s %s: must be greater than zero", name, q.String())
		}
	}
	if !t.Pods.Equal(*resource.NewQuantity(t.Pods.Value(), resource.DecimalSI)) {
		return fmt.Errorf("--pods %s: must be a whole number", t.Pods.String())
	}
	if t.Pods.Value() > MaxPodsPerNode {
		return fmt.Errorf("--pods %s: a simulated node's pod range is a /24, which holds at most %d pods", t.Pods.String(), MaxPodsPerNode)
	}
	if t.Zones < 0 {
		return fmt.Errorf("--zones %d: must not be negative", t.Zones)
	}
	for k, v := range t.Labels {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return fmt.Errorf("label key %q: %s", k, errs[0])
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return fmt.Errorf("label %s=%q: %s", k, v, errs[0])
		}
	}
	return nil
}

// Name is the name of node i of the group.
func (t NodeTemplate) Name(i int) string { return t.Prefix + strconv.Itoa(i) }

// Zone is the zone of node i, or "" when the template sets none.
func (t NodeTemplate) Zone(i int) string {
	if t.Zones <= 0 {
		return ""
	}
	return "zone-" + strconv.Itoa(i%t.Zones)
}

// Build returns node i of the group, with the addresses of slot, as a kubelet
// registers itself: labels, pod range, and a status that is Ready now.
func (t NodeTemplate) Build(i, slot int, now time.Time) (*corev1.Node, error) {
	cidr, err := PodCIDR(slot)
	if err != nil {
		return nil, err
	}
	ip, err := InternalIP(slot)
	if err != nil {
		return nil, err
	}
	name := t.Name(i)
	labels := map[string]string{
		corev1.LabelHostname:      name,
		corev1.LabelOSStable:      "linux",
		corev1.LabelArchStable:    runtime.GOARCH,
		"beta.kubernetes.io/os":   "linux",
		"beta.kubernetes.io/arch": runtime.GOARCH,
	}
	if it := t.instanceType(); len(validation.IsValidLabelValue(it)) == 0 {
		labels[corev1.LabelInstanceTypeStable] = it
	}
	if z := t.Zone(i); z != "" {
		labels[corev1.LabelTopologyZone] = z
	}
	for k, v := range t.Labels {
		labels[k] = v
	}
	labels[LabelSimulated] = "true"
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              t.CPU.DeepCopy(),
		corev1.ResourceMemory:           t.Memory.DeepCopy(),
		corev1.ResourcePods:             t.Pods.DeepCopy(),
		corev1.ResourceEphemeralStorage: t.EphemeralStorage.DeepCopy(),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels,
			Annotations: map[string]string{"volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
		Spec: corev1.NodeSpec{PodCIDR: cidr.String(), PodCIDRs: []string{cidr.String()}, Taints: append([]corev1.Taint(nil), t.Taints...)},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity.DeepCopy(),
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: ip.String()},
				{Type: corev1.NodeHostName, Address: name},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: KubeletPort}},
			NodeInfo: corev1.NodeSystemInfo{
				KernelVersion:           "simulated",
				OSImage:                 "minik8s simulated node",
				ContainerRuntimeVersion: "sim://" + t.KubeletVersion,
				KubeletVersion:          t.KubeletVersion,
				OperatingSystem:         "linux",
				Architecture:            runtime.GOARCH,
			},
			Conditions: healthyConditions(nil, now),
		},
	}
	return node, nil
}

// instanceType names the shape, as clouds label their machines: sim-32cpu-256Gi.
func (t NodeTemplate) instanceType() string {
	return "sim-" + t.CPU.String() + "cpu-" + t.Memory.String()
}
