package persistentvolume

import (
	"context"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/storage/volume"
)

// bind ties volume and claim together in upstream's order, each step only if
// needed, so an interrupted binding is finished by the next sync: the
// volume's claimRef, its Bound phase, the claim's volumeName and
// annotations, then the claim's phase, capacity and access modes.
func (c *Controller) bind(ctx context.Context, pv *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) error {
	bound, dirty, err := volume.GetBindVolumeToClaim(pv, claim)
	if err != nil {
		return err
	}
	if dirty {
		written, err := c.cfg.Client.CoreV1().PersistentVolumes().Update(ctx, bound, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("bind volume %q to claim %s/%s: %w", pv.Name, claim.Namespace, claim.Name, err)
		}
		bound = written
	}
	if bound.Status.Phase != corev1.VolumeBound {
		updated := bound.DeepCopy()
		updated.Status.Phase, updated.Status.Reason, updated.Status.Message = corev1.VolumeBound, "", ""
		written, err := c.cfg.Client.CoreV1().PersistentVolumes().UpdateStatus(ctx, updated, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("set phase of volume %q to Bound: %w", pv.Name, err)
		}
		bound = written
	}
	if claimNeedsBinding(claim, bound) {
		updated := claim.DeepCopy()
		if updated.Spec.VolumeName != bound.Name {
			updated.Spec.VolumeName = bound.Name
			metav1.SetMetaDataAnnotation(&updated.ObjectMeta, volume.AnnBoundByController, "yes")
		}
		metav1.SetMetaDataAnnotation(&updated.ObjectMeta, volume.AnnBindCompleted, "yes")
		written, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).Update(ctx, updated, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("bind claim %s/%s to volume %q: %w", claim.Namespace, claim.Name, pv.Name, err)
		}
		claim = written
	}
	if err := c.setClaimPhase(ctx, claim, corev1.ClaimBound, bound); err != nil {
		return err
	}
	c.log.Debug("bound", "claim", claim.Namespace+"/"+claim.Name, "volume", bound.Name)
	return nil
}

func claimNeedsBinding(claim *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) bool {
	return claim.Spec.VolumeName != pv.Name || !metav1.HasAnnotation(claim.ObjectMeta, volume.AnnBindCompleted)
}

// setClaimPhase writes the claim's phase; a Bound claim shows its volume's
// capacity and access modes, others none.
func (c *Controller) setClaimPhase(ctx context.Context, claim *corev1.PersistentVolumeClaim, phase corev1.PersistentVolumeClaimPhase, pv *corev1.PersistentVolume) error {
	status := claim.Status.DeepCopy()
	status.Phase = phase
	if pv != nil {
		status.AccessModes = slices.Clone(pv.Spec.AccessModes)
		if q, ok := pv.Spec.Capacity[corev1.ResourceStorage]; ok {
			status.Capacity = corev1.ResourceList{corev1.ResourceStorage: q}
		}
		status.CurrentVolumeAttributesClassName = pv.Spec.VolumeAttributesClassName
	} else if phase == corev1.ClaimPending {
		status.AccessModes, status.Capacity = nil, nil
	}
	if apiequality.Semantic.DeepEqual(&claim.Status, status) {
		return nil
	}
	updated := claim.DeepCopy()
	updated.Status = *status
	updated.Annotations = maps.Clone(claim.Annotations)
	if _, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set phase of claim %s/%s to %s: %w", claim.Namespace, claim.Name, phase, err)
	}
	return nil
}

// setVolumePhase writes the volume's phase, with an event when given a reason.
func (c *Controller) setVolumePhase(ctx context.Context, pv *corev1.PersistentVolume, phase corev1.PersistentVolumePhase, eventType, reason, message string) error {
	if pv.Status.Phase == phase {
		return nil
	}
	updated := pv.DeepCopy()
	updated.Status.Phase = phase
	updated.Status.Message = message
	if _, err := c.cfg.Client.CoreV1().PersistentVolumes().UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set phase of volume %q to %s: %w", pv.Name, phase, err)
	}
	if reason != "" {
		c.cfg.Recorder.Eventf(pv, nil, eventType, reason, "Reclaim", message)
	}
	return nil
}
