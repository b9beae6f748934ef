package persistentvolume

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-helpers/storage/volume"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Upstream's event reasons.
const (
	reasonFailedBinding        = "FailedBinding"
	reasonVolumeMismatch       = "VolumeMismatch"
	reasonWaitForFirstConsumer = "WaitForFirstConsumer"
	reasonWaitForPodScheduled  = "WaitForPodScheduled"
	reasonExternalProvisioning = "ExternalProvisioning"
	reasonProvisioningFailed   = "ProvisioningFailed"
	reasonClaimLost            = "ClaimLost"
	reasonClaimMisbound        = "ClaimMisbound"
	reasonVolumeFailedDelete   = "VolumeFailedDelete"
	reasonVolumeFailedRecycle  = "VolumeFailedRecycle"
	reasonUnknownReclaimPolicy = "VolumeUnknownReclaimPolicy"
)

func (c *Controller) syncClaim(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	claim, err := c.claims.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if metav1.HasAnnotation(claim.ObjectMeta, volume.AnnBindCompleted) {
		return c.syncBoundClaim(ctx, claim)
	}
	if err := c.syncUnboundClaim(ctx, claim); err != nil {
		return err
	}
	// Volumes may appear or be freed without an event this claim sees.
	return worker.RequeueAfter(c.cfg.SyncPeriod)
}

func (c *Controller) syncUnboundClaim(ctx context.Context, claim *corev1.PersistentVolumeClaim) error {
	if claim.Spec.VolumeName != "" {
		return c.syncRequestedVolume(ctx, claim)
	}
	delay, err := volume.IsDelayBindingMode(claim, c.classes)
	if err != nil {
		// The class is missing or broken: bind statically as if Immediate;
		// provisioning below reports the class.
		delay = false
	}
	c.bindMu.Lock()
	defer c.bindMu.Unlock()
	volumes, err := c.volumes.List(labels.Everything())
	if err != nil {
		return err
	}
	pv, err := BestMatch(claim, volumes, delay)
	if err != nil {
		return fmt.Errorf("error finding PV for claim %q: %w", claim.Namespace+"/"+claim.Name, err)
	}
	if pv != nil {
		return c.bind(ctx, pv, claim)
	}
	class := volume.GetPersistentVolumeClaimClass(claim)
	switch {
	case delay && !volume.IsDelayBindingProvisioning(claim):
		reason, message := waitMessage(c.unscheduledPods(claim))
		c.cfg.Recorder.Eventf(claim, nil, corev1.EventTypeNormal, reason, "WaitForBinding", message)
	case class != "":
		if err := c.provision(ctx, claim, class); err != nil {
			return err
		}
	default:
		c.cfg.Recorder.Eventf(claim, nil, corev1.EventTypeNormal, reasonFailedBinding, "Binding", "no persistent volumes available for this claim and no storage class is set")
	}
	return c.setClaimPhase(ctx, claim, corev1.ClaimPending, nil)
}

// waitMessage is what a delayed claim waits for: its pods to be scheduled, or
// a pod at all.
func waitMessage(unscheduled []string) (string, string) {
	switch len(unscheduled) {
	case 0:
		return reasonWaitForFirstConsumer, "waiting for first consumer to be created before binding"
	case 1:
		return reasonWaitForPodScheduled, fmt.Sprintf("waiting for pod %s to be scheduled", unscheduled[0])
	default:
		return reasonWaitForPodScheduled, fmt.Sprintf("waiting for pods %s to be scheduled", strings.Join(unscheduled, ","))
	}
}

func (c *Controller) unscheduledPods(claim *corev1.PersistentVolumeClaim) []string {
	pods, err := podcontrol.UsingClaim(c.podIdx, claim.Namespace, claim.Name)
	if err != nil {
		return nil
	}
	var names []string
	for _, p := range pods {
		if p.Spec.NodeName == "" && p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	return names
}

// provision hands the claim to its class's provisioner. minik8s has no
// in-tree volume plugins, so only external provisioners can make volumes;
// until one does (or an administrator makes a matching volume), the claim
// waits with upstream's event.
func (c *Controller) provision(ctx context.Context, claim *corev1.PersistentVolumeClaim, className string) error {
	class, err := c.classes.Get(className)
	if err != nil {
		c.cfg.Recorder.Eventf(claim, nil, corev1.EventTypeWarning, reasonProvisioningFailed, "Provisioning", "%v", err)
		return nil
	}
	if err := provisionable(class); err != nil {
		c.cfg.Recorder.Eventf(claim, nil, corev1.EventTypeWarning, reasonProvisioningFailed, "Provisioning", "%v", err)
		return nil
	}
	if claim.Annotations[volume.AnnStorageProvisioner] != class.Provisioner || claim.Annotations[volume.AnnBetaStorageProvisioner] != class.Provisioner {
		updated := claim.DeepCopy()
		metav1.SetMetaDataAnnotation(&updated.ObjectMeta, volume.AnnStorageProvisioner, class.Provisioner)
		metav1.SetMetaDataAnnotation(&updated.ObjectMeta, volume.AnnBetaStorageProvisioner, class.Provisioner)
		written, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).Update(ctx, updated, metav1.UpdateOptions{})
		if err != nil {
			c.cfg.Recorder.Eventf(claim, nil, corev1.EventTypeWarning, reasonProvisioningFailed, "Provisioning", "Error saving claim: %v", err)
			return fmt.Errorf("annotate claim %s/%s for provisioner %s: %w", claim.Namespace, claim.Name, class.Provisioner, err)
		}
		*claim = *written
	}
	c.cfg.Recorder.Eventf(claim, nil, corev1.EventTypeNormal, reasonExternalProvisioning, "Provisioning",
		"Waiting for a volume to be created either by the external provisioner '%s' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.", class.Provisioner)
	return nil
}

// provisionable: upstream's in-tree provisioners (kubernetes.io/...) are
// plugins minik8s does not have; any other name is an external provisioner.
func provisionable(class *storagev1.StorageClass) error {
	if strings.HasPrefix(class.Provisioner, "kubernetes.io/") {
		return fmt.Errorf("no volume plugin matched name: %s", class.Provisioner)
	}
	return nil
}

// syncRequestedVolume binds a claim that names its volume.
func (c *Controller) syncRequestedVolume(ctx context.Context, claim *corev1.PersistentVolumeClaim) error {
	c.bindMu.Lock()
	defer c.bindMu.Unlock()
	pv, err := c.volumes.Get(claim.Spec.VolumeName)
	if apierrors.IsNotFound(err) {
		return c.setClaimPhase(ctx, claim, corev1.ClaimPending, nil)
	}
	if err != nil {
		return err
	}
	switch {
	case pv.Spec.ClaimRef == nil:
		if err := VolumeSatisfiesClaim(pv, claim); err != nil {
			c.cfg.Recorder.Eventf(claim, nil, corev1.EventTypeWarning, reasonVolumeMismatch, "Binding", "Cannot bind to requested volume %q: %s", pv.Name, err)
			return c.setClaimPhase(ctx, claim, corev1.ClaimPending, nil)
		}
		return c.bind(ctx, pv, claim)
	case volume.IsVolumeBoundToClaim(pv, claim):
		return c.bind(ctx, pv, claim)
	default:
		c.cfg.Recorder.Eventf(claim, nil, corev1.EventTypeWarning, reasonFailedBinding, "Binding", "volume %q already bound to a different claim.", pv.Name)
		if metav1.HasAnnotation(claim.ObjectMeta, volume.AnnBoundByController) {
			return fmt.Errorf("invalid binding of claim %s/%s to volume %q: volume already claimed by %s/%s", claim.Namespace, claim.Name, pv.Name,
				pv.Spec.ClaimRef.Namespace, pv.Spec.ClaimRef.Name)
		}
		return c.setClaimPhase(ctx, claim, corev1.ClaimPending, nil)
	}
}

// VolumeSatisfiesClaim says why a volume a claim names cannot serve it, in
// upstream's words.
func VolumeSatisfiesClaim(pv *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) error {
	requested := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	switch {
	case pv.DeletionTimestamp != nil:
		return fmt.Errorf("the volume is marked for deletion %q", pv.Name)
	case capacity.Value() < requested.Value():
		return fmt.Errorf("requested PV is too small")
	case volume.GetPersistentVolumeClass(pv) != volume.GetPersistentVolumeClaimClass(claim):
		return fmt.Errorf("storageClassName does not match")
	case ptr.Deref(claim.Spec.VolumeAttributesClassName, "") != ptr.Deref(pv.Spec.VolumeAttributesClassName, ""):
		return fmt.Errorf("volumeAttributesClassName does not match")
	case volume.CheckVolumeModeMismatches(&claim.Spec, &pv.Spec):
		return fmt.Errorf("incompatible volumeMode")
	case !volume.CheckAccessModes(claim, pv):
		return fmt.Errorf("incompatible accessMode")
	}
	return nil
}

func (c *Controller) syncBoundClaim(ctx context.Context, claim *corev1.PersistentVolumeClaim) error {
	if claim.Spec.VolumeName == "" {
		return c.claimLost(ctx, claim, reasonClaimLost, "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")
	}
	pv, err := c.volumes.Get(claim.Spec.VolumeName)
	if apierrors.IsNotFound(err) {
		return c.claimLost(ctx, claim, reasonClaimLost, "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
	}
	if err != nil {
		return err
	}
	if pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID == claim.UID {
		c.bindMu.Lock()
		defer c.bindMu.Unlock()
		return c.bind(ctx, pv, claim)
	}
	return c.claimLost(ctx, claim, reasonClaimMisbound, "Two claims are bound to the same volume, this one is bound incorrectly")
}

func (c *Controller) claimLost(ctx context.Context, claim *corev1.PersistentVolumeClaim, reason, message string) error {
	if claim.Status.Phase == corev1.ClaimLost {
		return nil
	}
	if err := c.setClaimPhase(ctx, claim, corev1.ClaimLost, nil); err != nil {
		return err
	}
	c.cfg.Recorder.Eventf(claim, nil, corev1.EventTypeWarning, reason, "Binding", message)
	return nil
}
