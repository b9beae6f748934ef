package framework

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ImageStateSummary is what the scheduler knows of one image across the cluster.
type ImageStateSummary struct {
	// Size of the image in bytes.
	Size int64
	// NumNodes is how many nodes have it.
	NumNodes int
}

// NodeInfo is a node with the pods the scheduler counts on it (bound and assumed)
// and the sums it needs.
type NodeInfo struct {
	node *corev1.Node
	// unschedulable and taints mirror the node's spec: the filters that run for
	// every node of every pod read them here, beside the sums they read anyway,
	// rather than in the node object, one more cache miss per node otherwise.
	unschedulable bool
	taints        []corev1.Taint
	// The hostname and zone labels, the usual topology keys, likewise: affinity
	// and spread look them up for every node, and a lookup in the node's label
	// map compares keys of the same length byte by byte.
	hostname, zone       string
	hasHostname, hasZone bool
	// Pods on the node, assumed ones included.
	Pods []*PodInfo
	// PodsWithAffinity have pod affinity or anti-affinity terms.
	PodsWithAffinity []*PodInfo
	// PodsWithRequiredAntiAffinity have required anti-affinity terms.
	PodsWithRequiredAntiAffinity []*PodInfo
	// UsedPorts are the host ports its pods hold.
	UsedPorts HostPortInfo
	// Requested is the sum of its pods' requests; NonZeroRequested counts unset
	// CPU and memory requests at the defaults.
	Requested        Resource
	NonZeroRequested Resource
	// Allocatable is what the node offers.
	Allocatable Resource
	// ImageStates are the node's images with their cluster-wide spread, by name.
	ImageStates map[string]*ImageStateSummary
	// PVCRefCounts counts pods using each claim ("namespace/name").
	PVCRefCounts map[string]int
	// Generation changes on every change, so snapshots copy only what changed.
	Generation int64
}

// NewNodeInfo makes a node info with pods and no node (yet).
func NewNodeInfo(pods ...*corev1.Pod) *NodeInfo {
	ni := &NodeInfo{}
	for _, p := range pods {
		ni.AddPodInfo(NewPodInfo(p))
	}
	return ni
}

// Node is the node object; nil when only pods are known so far.
func (n *NodeInfo) Node() *corev1.Node {
	if n == nil {
		return nil
	}
	return n.node
}

// SetNode sets the node object and its allocatable.
func (n *NodeInfo) SetNode(node *corev1.Node) {
	n.node = node
	n.unschedulable, n.taints = node.Spec.Unschedulable, node.Spec.Taints
	n.hostname, n.hasHostname = node.Labels[corev1.LabelHostname]
	n.zone, n.hasZone = node.Labels[corev1.LabelTopologyZone]
	n.Allocatable = NewResource(node.Status.Allocatable)
	n.Generation = nextGeneration()
}

// Unschedulable is the node's spec.unschedulable (cordoned).
func (n *NodeInfo) Unschedulable() bool { return n.unschedulable }

// Taints are the node's spec.taints.
func (n *NodeInfo) Taints() []corev1.Taint { return n.taints }

// Label is the value of one of the node's labels, and whether it has it.
func (n *NodeInfo) Label(key string) (string, bool) {
	switch key {
	case corev1.LabelHostname:
		return n.hostname, n.hasHostname
	case corev1.LabelTopologyZone:
		return n.zone, n.hasZone
	}
	if n.node == nil {
		return "", false
	}
	v, ok := n.node.Labels[key]
	return v, ok
}

// RemoveNode forgets the node object but keeps its pods.
func (n *NodeInfo) RemoveNode() {
	n.node = nil
	n.unschedulable, n.taints = false, nil
	n.hostname, n.zone, n.hasHostname, n.hasZone = "", "", false, false
	n.Generation = nextGeneration()
}

// AddPodInfo counts a pod on the node.
func (n *NodeInfo) AddPodInfo(pi *PodInfo) {
	n.Pods = append(n.Pods, pi)
	if pi.HasAffinity() {
		n.PodsWithAffinity = append(n.PodsWithAffinity, pi)
	}
	if pi.HasRequiredAntiAffinity() {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, pi)
	}
	n.update(pi, 1)
}

// RemovePod uncounts the pod with pod's UID; false if it was not there.
func (n *NodeInfo) RemovePod(pod *corev1.Pod) bool {
	uid := pod.UID
	n.PodsWithAffinity = removeByUID(n.PodsWithAffinity, uid)
	n.PodsWithRequiredAntiAffinity = removeByUID(n.PodsWithRequiredAntiAffinity, uid)
	for i, pi := range n.Pods {
		if pi.Pod.UID != uid {
			continue
		}
		last := len(n.Pods) - 1
		n.Pods[i] = n.Pods[last]
		n.Pods[last] = nil
		n.Pods = n.Pods[:last]
		n.update(pi, -1)
		return true
	}
	return false
}

func removeByUID(list []*PodInfo, uid types.UID) []*PodInfo {
	for i, pi := range list {
		if pi.Pod.UID == uid {
			last := len(list) - 1
			list[i] = list[last]
			list[last] = nil
			return list[:last]
		}
	}
	return list
}

func (n *NodeInfo) update(pi *PodInfo, sign int64) {
	if sign > 0 {
		n.Requested.Plus(&pi.Requests)
	} else {
		n.Requested.Minus(&pi.Requests)
	}
	n.NonZeroRequested.MilliCPU += sign * pi.NonZeroCPU
	n.NonZeroRequested.Memory += sign * pi.NonZeroMem
	pod := pi.Pod
	for i := range pod.Spec.Containers {
		for _, p := range pod.Spec.Containers[i].Ports {
			if p.HostPort <= 0 {
				continue
			}
			if sign > 0 {
				n.UsedPorts.Add(p.HostIP, string(p.Protocol), p.HostPort)
			} else {
				n.UsedPorts.Remove(p.HostIP, string(p.Protocol), p.HostPort)
			}
		}
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			continue
		}
		for _, p := range c.Ports {
			if p.HostPort <= 0 {
				continue
			}
			if sign > 0 {
				n.UsedPorts.Add(p.HostIP, string(p.Protocol), p.HostPort)
			} else {
				n.UsedPorts.Remove(p.HostIP, string(p.Protocol), p.HostPort)
			}
		}
	}
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		key := pod.Namespace + "/" + v.PersistentVolumeClaim.ClaimName
		if n.PVCRefCounts == nil {
			n.PVCRefCounts = map[string]int{}
		}
		n.PVCRefCounts[key] += int(sign)
		if n.PVCRefCounts[key] <= 0 {
			delete(n.PVCRefCounts, key)
		}
	}
	n.Generation = nextGeneration()
}

// Clone copies the node info deep enough that changes to the copy's lists and sums
// do not show in the original (pods and node objects are shared, never mutated).
func (n *NodeInfo) Clone() *NodeInfo {
	c := &NodeInfo{
		node:             n.node,
		unschedulable:    n.unschedulable,
		taints:           n.taints,
		hostname:         n.hostname,
		zone:             n.zone,
		hasHostname:      n.hasHostname,
		hasZone:          n.hasZone,
		Requested:        n.Requested.Clone(),
		NonZeroRequested: n.NonZeroRequested.Clone(),
		Allocatable:      n.Allocatable.Clone(),
		ImageStates:      n.ImageStates,
		Generation:       n.Generation,
	}
	if len(n.Pods) > 0 {
		c.Pods = append(make([]*PodInfo, 0, len(n.Pods)), n.Pods...)
	}
	if len(n.PodsWithAffinity) > 0 {
		c.PodsWithAffinity = append([]*PodInfo(nil), n.PodsWithAffinity...)
	}
	if len(n.PodsWithRequiredAntiAffinity) > 0 {
		c.PodsWithRequiredAntiAffinity = append([]*PodInfo(nil), n.PodsWithRequiredAntiAffinity...)
	}
	if len(n.UsedPorts) > 0 {
		c.UsedPorts = n.UsedPorts.Clone()
	}
	if len(n.PVCRefCounts) > 0 {
		c.PVCRefCounts = make(map[string]int, len(n.PVCRefCounts))
		for k, v := range n.PVCRefCounts {
			c.PVCRefCounts[k] = v
		}
	}
	return c
}
