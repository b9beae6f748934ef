package noderesources

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// rl is a resource list from plain numbers: cpu in millicores, the rest as counts
// or bytes.
func rl(amounts map[corev1.ResourceName]int64) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, v := range amounts {
		if name == corev1.ResourceCPU {
			out[name] = *resource.NewMilliQuantity(v, resource.DecimalSI)
		} else {
			out[name] = *resource.NewQuantity(v, resource.DecimalSI)
		}
	}
	return out
}

var podCount int

// pod has one container per request list, as upstream's test pods.
func pod(reqs ...map[corev1.ResourceName]int64) *corev1.Pod {
	podCount++
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%d", podCount), Namespace: "default", UID: types.UID(fmt.Sprintf("uid-%d", podCount))}}
	for i, r := range reqs {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i),
			Resources: corev1.ResourceRequirements{Requests: rl(r)}})
	}
	return p
}

func withInit(p *corev1.Pod, sidecar bool, req map[corev1.ResourceName]int64) *corev1.Pod {
	c := corev1.Container{Name: fmt.Sprintf("init%d", len(p.Spec.InitContainers)), Resources: corev1.ResourceRequirements{Requests: rl(req)}}
	if sidecar {
		always := corev1.ContainerRestartPolicyAlways
		c.RestartPolicy = &always
	}
	p.Spec.InitContainers = append(p.Spec.InitContainers, c)
	return p
}

func withOverhead(p *corev1.Pod, o map[corev1.ResourceName]int64) *corev1.Pod {
	p.Spec.Overhead = rl(o)
	return p
}

// nodeInfo is a node with the allocatable amounts (pods default to 32) and pods.
func nodeInfo(name string, alloc map[corev1.ResourceName]int64, pods ...*corev1.Pod) *fw.NodeInfo {
	a := map[corev1.ResourceName]int64{corev1.ResourcePods: 32}
	for k, v := range alloc {
		a[k] = v
	}
	ni := fw.NewNodeInfo(pods...)
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Allocatable: rl(a), Capacity: rl(a)}})
	return ni
}

const (
	cpu     = corev1.ResourceCPU
	mem     = corev1.ResourceMemory
	storage = corev1.ResourceEphemeralStorage
	pods    = corev1.ResourcePods
	foo     = corev1.ResourceName("example.com/foo")
	bar     = corev1.ResourceName("example.org/bar")
	hugeMi  = corev1.ResourceName("hugepages-2Mi")
)

type res = map[corev1.ResourceName]int64
