package volumebinding

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// EventsToRegister implements fw.EnqueueExtensions, as upstream's with queueing
// hints on: a claim of the pod created or changed (bound, say); a volume, class
// or CSINode added or changed; a node added or relabelled (volume node affinity
// and class topologies match labels).
func (pl *VolumeBinding) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{
		{Event: fw.ClusterEvent{Resource: fw.StorageClass, ActionType: fw.Add | fw.Update}, QueueingHintFn: isSchedulableAfterStorageClassChange},
		{Event: fw.ClusterEvent{Resource: fw.PersistentVolumeClaim, ActionType: fw.Add | fw.Update}, QueueingHintFn: isSchedulableAfterClaimChange},
		{Event: fw.ClusterEvent{Resource: fw.PersistentVolume, ActionType: fw.Add | fw.Update}},
		{Event: fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add | fw.UpdateNodeLabel}},
		{Event: fw.ClusterEvent{Resource: fw.CSINode, ActionType: fw.Add | fw.Update}, QueueingHintFn: isSchedulableAfterCSINodeChange},
	}, nil
}

// isSchedulableAfterClaimChange: only the pod's own claims matter.
func isSchedulableAfterClaimChange(pod *corev1.Pod, _, newObj interface{}) (fw.QueueingHint, error) {
	pvc, ok := newObj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return fw.Queue, nil
	}
	if pvc.Namespace != pod.Namespace {
		return fw.QueueSkip, nil
	}
	for i := range pod.Spec.Volumes {
		if name, _, ok := claimName(pod, &pod.Spec.Volumes[i]); ok && name == pvc.Name {
			return fw.Queue, nil
		}
	}
	return fw.QueueSkip, nil
}

// isSchedulableAfterStorageClassChange: a new class may be the one a claim waits
// for; an update matters only if it changes allowed topologies (the binding mode
// is immutable).
func isSchedulableAfterStorageClassChange(_ *corev1.Pod, oldObj, newObj interface{}) (fw.QueueingHint, error) {
	oldSC, _ := oldObj.(*storagev1.StorageClass)
	newSC, ok := newObj.(*storagev1.StorageClass)
	if !ok || oldSC == nil {
		return fw.Queue, nil
	}
	if !equality.Semantic.DeepEqual(oldSC.AllowedTopologies, newSC.AllowedTopologies) {
		return fw.Queue, nil
	}
	return fw.QueueSkip, nil
}

// isSchedulableAfterCSINodeChange: a new CSINode may help; an update only when
// the plugins migrated to CSI change.
func isSchedulableAfterCSINodeChange(_ *corev1.Pod, oldObj, newObj interface{}) (fw.QueueingHint, error) {
	oldCN, _ := oldObj.(*storagev1.CSINode)
	newCN, ok := newObj.(*storagev1.CSINode)
	if !ok || oldCN == nil {
		return fw.Queue, nil
	}
	if oldCN.Annotations[corev1.MigratedPluginsAnnotationKey] != newCN.Annotations[corev1.MigratedPluginsAnnotationKey] {
		return fw.Queue, nil
	}
	return fw.QueueSkip, nil
}
