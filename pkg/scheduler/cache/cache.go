package cache

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// Cache is the scheduler's view of nodes and the pods on them. Safe for concurrent use.
type Cache struct {
	mu    sync.RWMutex
	nodes map[string]*framework.NodeInfo
	pods  map[types.UID]*podState
	tree  *nodeTree
	// images maps an image name to its size and the nodes that have it.
	images map[string]*imageState
	// dirty are nodes changed since the last snapshot; listChanged says whether
	// nodes came or went (their order must be rebuilt).
	dirty       map[string]struct{}
	listChanged bool
}

type podState struct {
	info     *framework.PodInfo
	node     string
	assumed  bool
	bindDone bool
}

type imageState struct {
	size  int64
	nodes sets.Set[string]
}

// New makes an empty cache.
func New() *Cache {
	return &Cache{nodes: map[string]*framework.NodeInfo{}, pods: map[types.UID]*podState{}, tree: newNodeTree(),
		images: map[string]*imageState{}, dirty: map[string]struct{}{}}
}

func (c *Cache) nodeInfo(name string) *framework.NodeInfo {
	ni := c.nodes[name]
	if ni == nil {
		ni = framework.NewNodeInfo()
		c.nodes[name] = ni
	}
	c.dirty[name] = struct{}{}
	return ni
}

// AssumePod counts a pod on the node in pod.Spec.NodeName before its binding is
// confirmed, so the next cycle sees the node's resources taken.
func (c *Cache) AssumePod(pod *corev1.Pod) error {
	return c.AssumePodInfo(framework.NewPodInfo(pod))
}

// AssumePodInfo is AssumePod with the pod's view already computed.
func (c *Cache) AssumePodInfo(pi *framework.PodInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	pod := pi.Pod
	if _, ok := c.pods[pod.UID]; ok {
		return fmt.Errorf("pod %s/%s (%s) is already in the cache", pod.Namespace, pod.Name, pod.UID)
	}
	c.addPodInfoLocked(pi, true)
	return nil
}

// FinishBinding records that the assumed pod's binding call returned.
func (c *Cache) FinishBinding(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok && ps.assumed {
		ps.bindDone = true
	}
}

// ForgetPod undoes AssumePod after a failed binding.
func (c *Cache) ForgetPod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok && ps.assumed {
		c.removePodLocked(ps)
	}
}

// IsAssumedPod says whether the pod is assumed and not yet confirmed.
func (c *Cache) IsAssumedPod(pod *corev1.Pod) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ps, ok := c.pods[pod.UID]
	return ok && ps.assumed
}

// AddPod records a bound pod from the informer; an assumed pod becomes confirmed.
func (c *Cache) AddPod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok {
		// The binding we assumed (or an earlier add) is confirmed: take the
		// server's version, on the node the server says.
		c.removePodLocked(ps)
	}
	c.addPodLocked(pod, false)
}

// UpdatePod replaces a bound pod's version; when its requests did not change,
// the old view's sums are kept rather than computed again.
func (c *Cache) UpdatePod(oldPod, newPod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[newPod.UID]
	if !ok || ps.assumed || ps.node != newPod.Spec.NodeName || !framework.SameRequests(ps.info.Pod, newPod) {
		if ok {
			c.removePodLocked(ps)
		}
		c.addPodLocked(newPod, false)
		return
	}
	c.removePodLocked(ps)
	c.addPodInfoLocked(ps.info.WithPod(newPod), false)
}

// RemovePod forgets a pod that was deleted or finished.
func (c *Cache) RemovePod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok {
		c.removePodLocked(ps)
	}
}

func (c *Cache) addPodLocked(pod *corev1.Pod, assumed bool) {
	c.addPodInfoLocked(framework.NewPodInfo(pod), assumed)
}

func (c *Cache) addPodInfoLocked(pi *framework.PodInfo, assumed bool) {
	pod := pi.Pod
	c.nodeInfo(pod.Spec.NodeName).AddPodInfo(pi)
	c.pods[pod.UID] = &podState{info: pi, node: pod.Spec.NodeName, assumed: assumed}
}

func (c *Cache) removePodLocked(ps *podState) {
	if ni := c.nodes[ps.node]; ni != nil {
		ni.RemovePod(ps.info.Pod)
		c.dirty[ps.node] = struct{}{}
		if ni.Node() == nil && len(ni.Pods) == 0 {
			delete(c.nodes, ps.node)
		}
	}
	delete(c.pods, ps.info.Pod.UID)
}

// AddNode records a node; UpdateNode a new version of it.
func (c *Cache) AddNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.nodeInfo(node.Name)
	if old := ni.Node(); old != nil {
		c.removeImagesLocked(old)
		c.tree.update(old, node)
	} else {
		c.tree.add(node)
		c.listChanged = true
	}
	c.addImagesLocked(node)
	ni.SetNode(node)
}

// UpdateNode is AddNode.
func (c *Cache) UpdateNode(_, node *corev1.Node) {
	c.AddNode(node)
}

// RemoveNode forgets a node; pods still bound to it are kept until they go.
func (c *Cache) RemoveNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.nodes[node.Name]
	if ni == nil || ni.Node() == nil {
		return
	}
	c.removeImagesLocked(ni.Node())
	c.tree.remove(ni.Node())
	c.listChanged = true
	c.dirty[node.Name] = struct{}{}
	if len(ni.Pods) == 0 {
		delete(c.nodes, node.Name)
	} else {
		ni.RemoveNode()
	}
}

func (c *Cache) addImagesLocked(node *corev1.Node) {
	for _, img := range node.Status.Images {
		for _, name := range img.Names {
			st := c.images[name]
			if st == nil {
				st = &imageState{size: img.SizeBytes, nodes: sets.New[string]()}
				c.images[name] = st
			}
			st.nodes.Insert(node.Name)
		}
	}
}

func (c *Cache) removeImagesLocked(node *corev1.Node) {
	for _, img := range node.Status.Images {
		for _, name := range img.Names {
			if st := c.images[name]; st != nil {
				st.nodes.Delete(node.Name)
				if st.nodes.Len() == 0 {
					delete(c.images, name)
				}
			}
		}
	}
}

// NodeCount is the number of nodes with a Node object.
func (c *Cache) NodeCount() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.tree.numNodes
}

// PodCount is the number of pods in the cache, assumed ones included.
func (c *Cache) PodCount() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.pods)
}

// Dump lists every node info (copies), for debugging and tests.
func (c *Cache) Dump() map[string]*framework.NodeInfo {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]*framework.NodeInfo, len(c.nodes))
	for k, v := range c.nodes {
		out[k] = v.Clone()
	}
	return out
}
