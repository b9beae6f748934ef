package podcontrol

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// NodeNameIndex indexes pods by the node they are bound to (spec.nodeName).
const NodeNameIndex = "spec.nodeName"

// AddNodeNameIndex adds NodeNameIndex to a pod informer that lacks it; it must
// run before the informer starts.
func AddNodeNameIndex(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[NodeNameIndex]; ok {
		return nil
	}
	return inf.AddIndexers(cache.Indexers{NodeNameIndex: func(obj interface{}) ([]string, error) {
		p, ok := obj.(*corev1.Pod)
		if !ok || p.Spec.NodeName == "" {
			return nil, nil
		}
		return []string{p.Spec.NodeName}, nil
	}})
}

// OnNode returns the pods a NodeNameIndex-ed cache holds for a node.
func OnNode(indexer cache.Indexer, node string) ([]*corev1.Pod, error) {
	objs, err := indexer.ByIndex(NodeNameIndex, node)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			out = append(out, p)
		}
	}
	return out, nil
}
