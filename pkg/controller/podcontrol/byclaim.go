package podcontrol

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-helpers/storage/ephemeral"
)

// ClaimIndex indexes pods by the PersistentVolumeClaims their volumes name
// ("namespace/claim"), both claims named outright and those made for generic
// ephemeral volumes.
const ClaimIndex = "pvc"

// ClaimNames lists the claims a pod's volumes use, in volume order.
func ClaimNames(p *corev1.Pod) []string {
	var out []string
	for i := range p.Spec.Volumes {
		v := &p.Spec.Volumes[i]
		switch {
		case v.PersistentVolumeClaim != nil:
			out = append(out, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			out = append(out, ephemeral.VolumeClaimName(p, v))
		}
	}
	return out
}

// AddClaimIndex adds ClaimIndex to a pod informer that lacks it; it must run
// before the informer starts.
func AddClaimIndex(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[ClaimIndex]; ok {
		return nil
	}
	return inf.AddIndexers(cache.Indexers{ClaimIndex: func(obj interface{}) ([]string, error) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return nil, nil
		}
		var keys []string
		for _, c := range ClaimNames(p) {
			keys = append(keys, p.Namespace+"/"+c)
		}
		return keys, nil
	}})
}

// UsingClaim returns the pods a ClaimIndex-ed cache holds whose volumes name
// the claim.
func UsingClaim(indexer cache.Indexer, namespace, claim string) ([]*corev1.Pod, error) {
	objs, err := indexer.ByIndex(ClaimIndex, namespace+"/"+claim)
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
