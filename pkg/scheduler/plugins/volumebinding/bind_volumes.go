package volumebinding

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/component-helpers/storage/volume"
)

// bindPodVolumes writes the bindings chosen in Reserve, as upstream's binder does:
// each chosen volume gets the claim in its claimRef, and each claim to provision
// gets the selected-node annotation. minik8s has no PV controller yet, so the
// plugin also does that controller's half of a binding (the claim's volumeName,
// bind-completed annotation and Bound phases); once one exists, completeBinding
// can go and the wait below covers static bindings too.
func (pl *VolumeBinding) bindPodVolumes(ctx context.Context, pod *corev1.Pod, nodeName string, pv *podVolumes) error {
	// On failure the framework calls Unreserve, which forgets the assumptions.
	for i, b := range pv.static {
		written, err := pl.client.CoreV1().PersistentVolumes().Update(ctx, b.pv, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("binding volumes: bind persistentvolume %q to claim %s/%s: %w", b.pv.Name, b.pvc.Namespace, b.pvc.Name, err)
		}
		pv.static[i].pv = written
		if err := pl.completeBinding(ctx, written, b.pvc); err != nil {
			return fmt.Errorf("binding volumes: %w", err)
		}
	}
	written := make([]*corev1.PersistentVolumeClaim, len(pv.provision))
	for i, c := range pv.provision {
		w, err := pl.client.CoreV1().PersistentVolumeClaims(c.Namespace).Update(ctx, c, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("binding volumes: select node %q for claim %s/%s: %w", nodeName, c.Namespace, c.Name, err)
		}
		written[i] = w
	}
	if len(written) == 0 {
		return nil
	}
	err := wait.PollUntilContextTimeout(ctx, pl.pollInterval, pl.bindTimeout, false, func(ctx context.Context) (bool, error) {
		return pl.provisioned(ctx, nodeName, written)
	})
	if err != nil {
		return fmt.Errorf("binding volumes: %w", err)
	}
	return nil
}

// provisioned says whether every claim being provisioned for the node is bound. A
// provisioner that gives up removes the selected-node annotation: that fails the
// binding so the pod is scheduled again. A claim whose new volume names it is
// bound here (the PV controller's part).
func (pl *VolumeBinding) provisioned(ctx context.Context, nodeName string, claims []*corev1.PersistentVolumeClaim) (bool, error) {
	all := true
	for _, w := range claims {
		pvc, err := pl.cache.pvcLister.PersistentVolumeClaims(w.Namespace).Get(w.Name)
		if err != nil {
			return false, fmt.Errorf("failed to check provisioning pvc: %w", err)
		}
		if olderThan(pvc.ResourceVersion, w.ResourceVersion) {
			all = false
			continue
		}
		if pvc.Annotations[volume.AnnSelectedNode] != nodeName {
			return false, fmt.Errorf("provisioning failed for PVC %q", pvc.Name)
		}
		if isFullyBound(pvc) {
			pv, err := pl.cache.pvLister.Get(pvc.Spec.VolumeName)
			if err != nil {
				all = false
				continue
			}
			if node, err := pl.nodeLister.Get(nodeName); err == nil {
				if err := volume.CheckNodeAffinity(pv, node.Labels); err != nil {
					return false, fmt.Errorf("pv %q node affinity doesn't match node %q: %w", pv.Name, nodeName, err)
				}
			}
			continue
		}
		all = false
		pv, err := pl.provisionedVolume(pvc)
		if err != nil || pv == nil {
			return false, err
		}
		if err := pl.completeBinding(ctx, pv, pvc); err != nil {
			return false, err
		}
	}
	return all, nil
}

// provisionedVolume is the volume a provisioner made for the claim (its claimRef
// names the claim), or nil.
func (pl *VolumeBinding) provisionedVolume(pvc *corev1.PersistentVolumeClaim) (*corev1.PersistentVolume, error) {
	if pvc.Spec.VolumeName != "" {
		pv, err := pl.cache.pvLister.Get(pvc.Spec.VolumeName)
		if err != nil || !volume.IsVolumeBoundToClaim(pv, pvc) {
			return nil, nil
		}
		return pv, nil
	}
	pvs, err := pl.cache.pvLister.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, pv := range pvs {
		if r := pv.Spec.ClaimRef; r != nil && r.UID == pvc.UID && volume.IsVolumeBoundToClaim(pv, pvc) {
			return pv, nil
		}
	}
	return nil, nil
}

// completeBinding finishes binding a claim to a volume whose claimRef names it,
// in the PV controller's order: the volume's phase, the claim's volumeName and
// annotations, the claim's phase, capacity and access modes.
func (pl *VolumeBinding) completeBinding(ctx context.Context, pv *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) error {
	if pv.Status.Phase != corev1.VolumeBound {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := pl.client.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if cur.Status.Phase == corev1.VolumeBound {
				return nil
			}
			cur.Status.Phase = corev1.VolumeBound
			cur.Status.Reason, cur.Status.Message = "", ""
			_, err = pl.client.CoreV1().PersistentVolumes().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			return fmt.Errorf("set phase of persistentvolume %q to Bound: %w", pv.Name, err)
		}
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pvc, err := pl.client.CoreV1().PersistentVolumeClaims(claim.Namespace).Get(ctx, claim.Name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("bind claim %s/%s to persistentvolume %q: %w", claim.Namespace, claim.Name, pv.Name, err)
		}
		if pvc.UID != claim.UID {
			return fmt.Errorf("bind claim %s/%s to persistentvolume %q: the claim was replaced", claim.Namespace, claim.Name, pv.Name)
		}
		if pvc.Spec.VolumeName != pv.Name || !isFullyBound(pvc) {
			if pvc.Spec.VolumeName == "" {
				metav1.SetMetaDataAnnotation(&pvc.ObjectMeta, volume.AnnBoundByController, "yes")
			}
			pvc.Spec.VolumeName = pv.Name
			metav1.SetMetaDataAnnotation(&pvc.ObjectMeta, volume.AnnBindCompleted, "yes")
			if pvc, err = pl.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).Update(ctx, pvc, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
		if pvc.Status.Phase == corev1.ClaimBound {
			return nil
		}
		pvc.Status.Phase = corev1.ClaimBound
		pvc.Status.AccessModes = pv.Spec.AccessModes
		if q, ok := pv.Spec.Capacity[corev1.ResourceStorage]; ok {
			pvc.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: q}
		}
		_, err = pl.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, pvc, metav1.UpdateOptions{})
		return err
	})
}

// olderThan compares resource versions (etcd revisions here); unparsable ones are
// never older.
func olderThan(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x < y
}
