package node

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// Graph records which objects each node may read: those its pods reference,
// the PersistentVolumes bound to their claims and those volumes' secrets, and
// the VolumeAttachments to it. It is fed by the storage's change feed (Update
// and Delete) and answers in constant time.
type Graph struct {
	mu sync.RWMutex
	// pods are the pods bound to a node.
	pods map[objectKey]*boundPod
	// reads counts, per node, the pods that reference each object.
	reads map[string]map[ref]int
	// pvClaims is each PersistentVolume's claim (spec.claimRef).
	pvClaims map[string]objectKey
	// pvSecrets is what each PersistentVolume makes its kubelet read;
	// secretPVs the other way round.
	pvSecrets map[string][]ref
	secretPVs map[ref]map[string]bool
	// attachments is the node of each VolumeAttachment.
	attachments map[string]string
}

type objectKey struct{ namespace, name string }

type boundPod struct {
	node       string
	uid        types.UID
	refs       []ref
	containers int
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{
		pods:        map[objectKey]*boundPod{},
		reads:       map[string]map[ref]int{},
		pvClaims:    map[string]objectKey{},
		pvSecrets:   map[string][]ref{},
		secretPVs:   map[ref]map[string]bool{},
		attachments: map[string]string{},
	}
}

// Update records a Pod, PersistentVolume or VolumeAttachment as it now is;
// other objects are ignored.
func (g *Graph) Update(obj runtime.Object) {
	switch o := obj.(type) {
	case *corev1.Pod:
		g.updatePod(o)
	case *corev1.PersistentVolume:
		g.mu.Lock()
		g.removePVLocked(o.Name)
		if o.Spec.ClaimRef != nil {
			g.pvClaims[o.Name] = objectKey{o.Spec.ClaimRef.Namespace, o.Spec.ClaimRef.Name}
			secrets := pvSecrets(o)
			g.pvSecrets[o.Name] = secrets
			for _, s := range secrets {
				if g.secretPVs[s] == nil {
					g.secretPVs[s] = map[string]bool{}
				}
				g.secretPVs[s][o.Name] = true
			}
		}
		g.mu.Unlock()
	case *storagev1.VolumeAttachment:
		g.mu.Lock()
		g.attachments[o.Name] = o.Spec.NodeName
		g.mu.Unlock()
	}
}

// Delete forgets an object.
func (g *Graph) Delete(obj runtime.Object) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch o := obj.(type) {
	case *corev1.Pod:
		g.removePodLocked(objectKey{o.Namespace, o.Name})
	case *corev1.PersistentVolume:
		g.removePVLocked(o.Name)
	case *storagev1.VolumeAttachment:
		delete(g.attachments, o.Name)
	}
}

func (g *Graph) updatePod(pod *corev1.Pod) {
	key := objectKey{pod.Namespace, pod.Name}
	containers := len(pod.Spec.EphemeralContainers)
	g.mu.RLock()
	cur := g.pods[key]
	unchanged := cur != nil && cur.node == pod.Spec.NodeName && cur.uid == pod.UID && cur.containers == containers &&
		len(pod.Status.ResourceClaimStatuses) == 0 && pod.Status.ExtendedResourceClaimStatus == nil
	g.mu.RUnlock()
	// A pod's references change only with its spec (ephemeral containers) or
	// its resource claims; status updates leave the graph alone.
	if unchanged {
		return
	}
	var refs []ref
	if pod.Spec.NodeName != "" {
		refs = podReferences(pod)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.removePodLocked(key)
	if pod.Spec.NodeName == "" {
		return
	}
	g.pods[key] = &boundPod{node: pod.Spec.NodeName, uid: pod.UID, refs: refs, containers: containers}
	reads := g.reads[pod.Spec.NodeName]
	if reads == nil {
		reads = map[ref]int{}
		g.reads[pod.Spec.NodeName] = reads
	}
	for _, r := range refs {
		reads[r]++
	}
}

func (g *Graph) removePodLocked(key objectKey) {
	p := g.pods[key]
	if p == nil {
		return
	}
	delete(g.pods, key)
	reads := g.reads[p.node]
	for _, r := range p.refs {
		if reads[r] <= 1 {
			delete(reads, r)
		} else {
			reads[r]--
		}
	}
	if len(reads) == 0 {
		delete(g.reads, p.node)
	}
}

func (g *Graph) removePVLocked(name string) {
	delete(g.pvClaims, name)
	for _, s := range g.pvSecrets[name] {
		delete(g.secretPVs[s], name)
		if len(g.secretPVs[s]) == 0 {
			delete(g.secretPVs, s)
		}
	}
	delete(g.pvSecrets, name)
}

// podOn reports whether the pod is bound to node.
func (g *Graph) podOn(node, namespace, name string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	p := g.pods[objectKey{namespace, name}]
	return p != nil && p.node == node
}

// mayRead reports whether a pod bound to node references the object, directly
// or (for a Secret) through a PersistentVolume bound to one of its claims.
func (g *Graph) mayRead(node string, r ref) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.reads[node][r] > 0 {
		return true
	}
	if r.kind == secretKind {
		for pv := range g.secretPVs[r] {
			if g.mayReadPVLocked(node, pv) {
				return true
			}
		}
	}
	return false
}

// mayReadPV reports whether a PersistentVolume is bound to a claim a pod bound
// to node uses.
func (g *Graph) mayReadPV(node, pv string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.mayReadPVLocked(node, pv)
}

func (g *Graph) mayReadPVLocked(node, pv string) bool {
	claim, ok := g.pvClaims[pv]
	return ok && g.reads[node][ref{kind: pvcKind, namespace: claim.namespace, name: claim.name}] > 0
}

// attachedTo reports whether a VolumeAttachment is for node.
func (g *Graph) attachedTo(node, name string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.attachments[name] == node && node != ""
}
