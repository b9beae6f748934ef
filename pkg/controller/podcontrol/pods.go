package podcontrol

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// IsActive: a pod that has not finished and is not being deleted.
func IsActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// FilterActive returns the active pods.
func FilterActive(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if IsActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// Key is the expectations key of a pod: namespace/name.
func Key(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// ControllerIndex indexes pods by their controller (namespace/kind/name/uid), and
// orphans by their namespace alone, so a controller finds its candidates without
// listing its whole namespace.
const ControllerIndex = "podController"

func controllerKey(namespace string, ref *metav1.OwnerReference) string {
	if ref == nil {
		return namespace
	}
	return namespace + "/" + ref.Kind + "/" + ref.Name + "/" + string(ref.UID)
}

func indexByController(obj interface{}) ([]string, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	return []string{controllerKey(p.Namespace, metav1.GetControllerOfNoCopy(p))}, nil
}

// AddControllerIndex adds ControllerIndex to a pod informer that lacks it; it
// must run before the informer starts.
func AddControllerIndex(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[ControllerIndex]; ok {
		return nil
	}
	return inf.AddIndexers(cache.Indexers{ControllerIndex: indexByController})
}

// ByController returns the pods controlled by the owner (of kind), and with
// orphans the namespace's pods without a controller.
func ByController(indexer cache.Indexer, owner metav1.Object, kind string, orphans bool) ([]*corev1.Pod, error) {
	keys := []string{controllerKey(owner.GetNamespace(), &metav1.OwnerReference{Kind: kind, Name: owner.GetName(), UID: owner.GetUID()})}
	if orphans {
		keys = append(keys, owner.GetNamespace())
	}
	var out []*corev1.Pod
	for _, k := range keys {
		objs, err := indexer.ByIndex(ControllerIndex, k)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if p, ok := o.(*corev1.Pod); ok {
				out = append(out, p)
			}
		}
	}
	return out, nil
}
