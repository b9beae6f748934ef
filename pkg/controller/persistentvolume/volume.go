package persistentvolume

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/storage/volume"
)

func (c *Controller) syncVolume(ctx context.Context, key string) error {
	pv, err := c.volumes.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ref := pv.Spec.ClaimRef
	if ref == nil || ref.UID == "" {
		// Unused, or pre-bound to a claim that has not taken it yet.
		return c.setVolumePhase(ctx, pv, corev1.VolumeAvailable, "", "", "")
	}
	claim, err := c.claimOf(ctx, ref)
	if err != nil {
		return err
	}
	switch {
	case claim == nil:
		return c.release(ctx, pv)
	case claim.Spec.VolumeName == "":
		// Half-bound: the claim's sync finishes it.
		c.claimQueue.Add(claim.Namespace + "/" + claim.Name)
		return nil
	case claim.Spec.VolumeName == pv.Name:
		return c.setVolumePhase(ctx, pv, corev1.VolumeBound, "", "", "")
	case metav1.HasAnnotation(pv.ObjectMeta, volume.AnnBoundByController):
		// The claim went to another volume: undo this controller's binding.
		return c.unbind(ctx, pv, false)
	default:
		// A user's pre-binding stays, waiting for the claim to be free.
		return c.unbind(ctx, pv, true)
	}
}

// claimOf is the claim a volume's claimRef names, if it still exists with
// that UID. The cache may lag behind a new claim, so a miss is checked live.
func (c *Controller) claimOf(ctx context.Context, ref *corev1.ObjectReference) (*corev1.PersistentVolumeClaim, error) {
	claim, err := c.claims.PersistentVolumeClaims(ref.Namespace).Get(ref.Name)
	if apierrors.IsNotFound(err) {
		claim, err = c.cfg.Client.CoreV1().PersistentVolumeClaims(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read claim %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	if claim.UID != ref.UID {
		return nil, nil
	}
	return claim, nil
}

// release marks a volume whose claim is gone Released, then applies its
// reclaim policy.
func (c *Controller) release(ctx context.Context, pv *corev1.PersistentVolume) error {
	if pv.Status.Phase != corev1.VolumeReleased && pv.Status.Phase != corev1.VolumeFailed {
		if err := c.setVolumePhase(ctx, pv, corev1.VolumeReleased, "", "", ""); err != nil {
			return err
		}
		pv = pv.DeepCopy()
		pv.Status.Phase = corev1.VolumeReleased
	}
	eventType, reason, message, fail := Reclaim(pv)
	if !fail {
		return nil
	}
	return c.setVolumePhase(ctx, pv, corev1.VolumeFailed, eventType, reason, message)
}

// Reclaim decides what a released volume's reclaim policy leads to here:
// Retain keeps it Released for an administrator; Delete of a volume an
// external provisioner made is that provisioner's to do; any other Delete or
// Recycle needs an in-tree volume plugin minik8s does not have, so the volume
// is Failed with upstream's event.
func Reclaim(pv *corev1.PersistentVolume) (eventType, reason, message string, fail bool) {
	switch pv.Spec.PersistentVolumeReclaimPolicy {
	case corev1.PersistentVolumeReclaimRetain:
		return "", "", "", false
	case corev1.PersistentVolumeReclaimDelete:
		if p := pv.Annotations[volume.AnnDynamicallyProvisioned]; p != "" && !strings.HasPrefix(p, "kubernetes.io/") {
			return "", "", "", false
		}
		return corev1.EventTypeWarning, reasonVolumeFailedDelete,
			fmt.Sprintf("error getting deleter volume plugin for volume %q: no deletable volume plugin matched", pv.Name), true
	case corev1.PersistentVolumeReclaimRecycle:
		return corev1.EventTypeWarning, reasonVolumeFailedRecycle, "No recycler plugin found for the volume!", true
	default:
		return corev1.EventTypeWarning, reasonUnknownReclaimPolicy, "Volume has unrecognized PersistentVolumeReclaimPolicy", true
	}
}

// unbind drops the claim from a volume (keepName: only its UID, so the
// user's pre-binding to that claim name stays) and makes it Available.
func (c *Controller) unbind(ctx context.Context, pv *corev1.PersistentVolume, keepName bool) error {
	updated := pv.DeepCopy()
	if keepName {
		updated.Spec.ClaimRef.UID = ""
		updated.Spec.ClaimRef.ResourceVersion = ""
	} else {
		updated.Spec.ClaimRef = nil
	}
	delete(updated.Annotations, volume.AnnBoundByController)
	written, err := c.cfg.Client.CoreV1().PersistentVolumes().Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("unbind volume %q: %w", pv.Name, err)
	}
	return c.setVolumePhase(ctx, written, corev1.VolumeAvailable, "", "", "")
}
