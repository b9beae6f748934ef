package queue

import (
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// Nominator tracks pods nominated to a node (status.nominatedNodeName): they
// preempted others there and wait for them to go, so other pods must leave room.
type Nominator struct {
	mu     sync.RWMutex
	byNode map[string][]*framework.PodInfo
	nodeOf map[types.UID]string
	// count mirrors len(nodeOf) for a lock-free Any.
	count atomic.Int32
}

// NewNominator makes an empty nominator.
func NewNominator() *Nominator {
	return &Nominator{byNode: map[string][]*framework.PodInfo{}, nodeOf: map[types.UID]string{}}
}

// AddOrUpdate records the pod's nomination from its status (or forgets it).
func (n *Nominator) AddOrUpdate(pod *corev1.Pod) {
	n.Nominate(pod, pod.Status.NominatedNodeName)
}

// Update takes a new version of a pending pod. A nomination the scheduler made
// in memory survives an update that raced with its status patch (neither
// version names a node yet); otherwise the new status is the truth.
func (n *Nominator) Update(oldPod, newPod *corev1.Pod) {
	n.mu.Lock()
	defer n.mu.Unlock()
	node := newPod.Status.NominatedNodeName
	if node == "" && oldPod != nil && oldPod.Status.NominatedNodeName == "" {
		node = n.nodeOf[newPod.UID]
	}
	n.nominateLocked(newPod, node)
}

// Nominate records that pod goes to node ("" forgets). Pods already bound are not
// nominated.
func (n *Nominator) Nominate(pod *corev1.Pod, node string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nominateLocked(pod, node)
}

func (n *Nominator) nominateLocked(pod *corev1.Pod, node string) {
	n.deleteLocked(pod.UID)
	if node == "" || pod.Spec.NodeName != "" {
		return
	}
	n.nodeOf[pod.UID] = node
	n.byNode[node] = append(n.byNode[node], framework.NewPodInfo(pod))
	n.count.Store(int32(len(n.nodeOf)))
}

// Delete forgets the pod.
func (n *Nominator) Delete(pod *corev1.Pod) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.deleteLocked(pod.UID)
}

func (n *Nominator) deleteLocked(uid types.UID) {
	node, ok := n.nodeOf[uid]
	if !ok {
		return
	}
	delete(n.nodeOf, uid)
	n.count.Store(int32(len(n.nodeOf)))
	list := n.byNode[node]
	for i, pi := range list {
		if pi.Pod.UID == uid {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(n.byNode, node)
	} else {
		n.byNode[node] = list
	}
}

// NominatedPodsForNode returns a copy of the pods nominated to node.
func (n *Nominator) NominatedPodsForNode(node string) []*framework.PodInfo {
	n.mu.RLock()
	defer n.mu.RUnlock()
	list := n.byNode[node]
	if len(list) == 0 {
		return nil
	}
	return append([]*framework.PodInfo(nil), list...)
}

// NominatedNode is where the pod is nominated, if anywhere.
func (n *Nominator) NominatedNode(pod *corev1.Pod) string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.nodeOf[pod.UID]
}

// Any says whether any pod is nominated (a fast path for the common case).
func (n *Nominator) Any() bool { return n.count.Load() > 0 }
