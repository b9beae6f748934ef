package volumebinding

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/component-helpers/storage/volume"
)

// assumeCache lays the scheduler's own decisions over the informers' volumes and
// claims: a volume reserved for a claim in one cycle must look taken to the next
// pod before the API write and its watch event come back. An assumed object is
// a modified copy of the informer's version; once the informer holds another
// version (newer, or the object is gone), the informer's wins and the assumption
// is dropped.
type assumeCache struct {
	pvLister  corelisters.PersistentVolumeLister
	pvcLister corelisters.PersistentVolumeClaimLister

	mu   sync.Mutex
	pvs  map[string]*corev1.PersistentVolume      // by name
	pvcs map[string]*corev1.PersistentVolumeClaim // by namespace/name
}

func newAssumeCache(pvLister corelisters.PersistentVolumeLister, pvcLister corelisters.PersistentVolumeClaimLister) *assumeCache {
	return &assumeCache{pvLister: pvLister, pvcLister: pvcLister,
		pvs: map[string]*corev1.PersistentVolume{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}}
}

// volume is the volume as the scheduler sees it. Its error is the lister's
// (NotFound when it does not exist).
func (c *assumeCache) volume(name string) (*corev1.PersistentVolume, error) {
	pv, err := c.pvLister.Get(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.pvs, name)
		return nil, err
	}
	return c.overlayPV(pv), nil
}

func (c *assumeCache) overlayPV(pv *corev1.PersistentVolume) *corev1.PersistentVolume {
	a, ok := c.pvs[pv.Name]
	if !ok {
		return pv
	}
	if a.ResourceVersion != pv.ResourceVersion {
		delete(c.pvs, pv.Name)
		return pv
	}
	return a
}

// volumesOfClass lists the volumes of a storage class ("" for none).
func (c *assumeCache) volumesOfClass(class string) ([]*corev1.PersistentVolume, error) {
	all, err := c.pvLister.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*corev1.PersistentVolume
	for _, pv := range all {
		if volume.GetPersistentVolumeClass(pv) == class {
			out = append(out, c.overlayPV(pv))
		}
	}
	return out, nil
}

// claim is the claim as the scheduler sees it.
func (c *assumeCache) claim(namespace, name string) (*corev1.PersistentVolumeClaim, error) {
	pvc, err := c.pvcLister.PersistentVolumeClaims(namespace).Get(name)
	key := namespace + "/" + name
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.pvcs, key)
		return nil, err
	}
	a, ok := c.pvcs[key]
	if !ok {
		return pvc, nil
	}
	if a.ResourceVersion != pvc.ResourceVersion {
		delete(c.pvcs, key)
		return pvc, nil
	}
	return a, nil
}

// assumeVolume records a volume the scheduler is about to write.
func (c *assumeCache) assumeVolume(pv *corev1.PersistentVolume) {
	c.mu.Lock()
	c.pvs[pv.Name] = pv
	c.mu.Unlock()
}

// assumeClaim records a claim the scheduler is about to write.
func (c *assumeCache) assumeClaim(pvc *corev1.PersistentVolumeClaim) {
	c.mu.Lock()
	c.pvcs[pvc.Namespace+"/"+pvc.Name] = pvc
	c.mu.Unlock()
}

// restore forgets the assumptions made for a pod's volumes.
func (c *assumeCache) restore(pv *podVolumes) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range pv.static {
		delete(c.pvs, b.pv.Name)
	}
	for _, pvc := range pv.provision {
		delete(c.pvcs, pvc.Namespace+"/"+pvc.Name)
	}
}
