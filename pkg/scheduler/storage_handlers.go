package scheduler

import (
	"context"

	"k8s.io/client-go/tools/cache"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// addStorageHandlers turns volume objects' changes into cluster events: a claim
// bound, a class created or a volume detached can let a pod waiting on volumes
// fit.
func (s *Scheduler) addStorageHandlers(ctx context.Context) error {
	type src struct {
		inf cache.SharedIndexInformer
		res fw.EventResource
	}
	f := s.informers
	for _, x := range []src{
		{f.Core().V1().PersistentVolumes().Informer(), fw.PersistentVolume},
		{f.Core().V1().PersistentVolumeClaims().Informer(), fw.PersistentVolumeClaim},
		{f.Storage().V1().StorageClasses().Informer(), fw.StorageClass},
		{f.Storage().V1().CSINodes().Informer(), fw.CSINode},
		// A detached volume frees an attach slot (NodeVolumeLimits).
		{f.Storage().V1().VolumeAttachments().Informer(), fw.VolumeAttachment},
	} {
		res := x.res
		if _, err := x.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj interface{}) {
				s.queue.MoveOnEvent(ctx, fw.ClusterEvent{Resource: res, ActionType: fw.Add, Label: string(res) + "Add"}, nil, obj)
			},
			UpdateFunc: func(o, n interface{}) {
				s.queue.MoveOnEvent(ctx, fw.ClusterEvent{Resource: res, ActionType: fw.Update, Label: string(res) + "Update"}, o, n)
			},
			DeleteFunc: func(obj interface{}) {
				s.queue.MoveOnEvent(ctx, fw.ClusterEvent{Resource: res, ActionType: fw.Delete, Label: string(res) + "Delete"}, obj, nil)
			},
		}); err != nil {
			return err
		}
	}
	return nil
}
