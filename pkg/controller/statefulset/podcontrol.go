package statefulset

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
)

// Writes of pods and claims, each reported as upstream's StatefulSet
// controller reports it: "create Pod web-0 in StatefulSet web successful".

// createPod creates the pod's claims, then the pod, then gives the claims
// their owners as far as it can yet.
func (c *Controller) createPod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	if err := c.createClaims(ctx, set, pod); err != nil {
		c.podEvent("create", set, pod, err)
		return err
	}
	created, err := c.cfg.Client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// The cache has not seen it yet: nothing to report.
		return err
	}
	if cerr := c.setClaimOwners(ctx, set, pod); cerr != nil {
		c.podEvent("update", set, pod, cerr)
		return cerr
	}
	if err == nil {
		pod = created
	}
	c.podEvent("create", set, pod, err)
	return err
}

// deletePodOf deletes a pod of the set; one already gone is not a failure.
func (c *Controller) deletePodOf(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	err := c.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
	c.podEvent("delete", set, pod, err)
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// updatePodOf restores the pod's identity and storage and its claims' owners,
// retrying conflicts with the cached pod.
func (c *Controller) updatePodOf(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	attempted := false
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		consistent := true
		if !identityMatches(set, pod) {
			setIdentity(set, pod)
			consistent = false
		}
		if !storageMatches(set, pod) {
			setStorage(set, pod)
			consistent = false
			if err := c.createClaims(ctx, set, pod); err != nil {
				c.podEvent("update", set, pod, err)
				return err
			}
		}
		if !claimsMatchPolicy(set, pod, c.claimLookup(set.Namespace)) {
			if err := c.setClaimOwners(ctx, set, pod); err != nil {
				c.podEvent("update", set, pod, err)
				return err
			}
			consistent = false
		}
		if consistent {
			return nil
		}
		attempted = true
		_, err := c.cfg.Client.CoreV1().Pods(pod.Namespace).Update(ctx, pod, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if fresh, gerr := c.podList.Pods(set.Namespace).Get(pod.Name); gerr == nil {
			pod = fresh.DeepCopy()
		}
		return err
	})
	if attempted {
		c.podEvent("update", set, pod, err)
	}
	return err
}

// createClaims creates the pod's missing claims. A claim being deleted is an
// error: the pod must not start on storage about to vanish.
func (c *Controller) createClaims(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	lookup := c.claimLookup(set.Namespace)
	var errs []error
	for i := range set.Spec.VolumeClaimTemplates {
		claim := claimsFor(set, pod)[set.Spec.VolumeClaimTemplates[i].Name]
		existing := lookup(claim.Name)
		if existing != nil {
			if existing.DeletionTimestamp != nil {
				errs = append(errs, fmt.Errorf("pvc %s is being deleted", claim.Name))
			}
			continue
		}
		created, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).Create(ctx, claim, metav1.CreateOptions{})
		switch {
		case apierrors.IsAlreadyExists(err):
			// Made by an earlier sync the cache has not caught up with.
		case err != nil:
			errs = append(errs, fmt.Errorf("failed to create PVC %s: %s", claim.Name, err))
			c.claimEvent(set, pod, claim, err)
		default:
			c.claimEvent(set, pod, created, nil)
		}
	}
	return errors.Join(errs...)
}

// setClaimOwners gives the pod's existing claims the owner references the
// retention policy asks for.
func (c *Controller) setClaimOwners(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	lookup := c.claimLookup(set.Namespace)
	n := ordinalOf(pod)
	for i := range set.Spec.VolumeClaimTemplates {
		name := claimName(set, &set.Spec.VolumeClaimTemplates[i], n)
		claim := lookup(name)
		if claim == nil {
			continue // picked up once the cache has it
		}
		if hasUnexpectedController(claim, set, pod) {
			c.recorder.Eventf(set, claim, corev1.EventTypeWarning, "ConflictingController", "Update",
				"PersistentVolumeClaim %s has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim", name)
		}
		if claimOwnersCurrent(claim, set, pod) {
			continue
		}
		claim = claim.DeepCopy()
		setClaimOwners(claim, set, pod)
		if _, err := c.cfg.Client.CoreV1().PersistentVolumeClaims(claim.Namespace).Update(ctx, claim, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("could not update claim %s for delete policy ownerRefs: %w", name, err)
		}
	}
	return nil
}

// podEvent reports a write of a pod: SuccessfulCreate "create Pod web-0 in
// StatefulSet web successful", or FailedCreate "... failed error: ...".
func (c *Controller) podEvent(verb string, set *appsv1.StatefulSet, pod *corev1.Pod, err error) {
	action := strings.ToUpper(verb[:1]) + verb[1:]
	if err == nil {
		c.recorder.Eventf(set, pod, corev1.EventTypeNormal, "Successful"+action, action, "%s",
			podcontrol.Note("%s Pod %s in StatefulSet %s successful", verb, pod.Name, set.Name))
		return
	}
	c.recorder.Eventf(set, pod, corev1.EventTypeWarning, "Failed"+action, action, "%s",
		podcontrol.Note("%s Pod %s in StatefulSet %s failed error: %s", verb, pod.Name, set.Name, err))
}

// claimEvent reports the creation of a claim: SuccessfulCreate "create Claim
// www-web-0 Pod web-0 in StatefulSet web success".
func (c *Controller) claimEvent(set *appsv1.StatefulSet, pod *corev1.Pod, claim *corev1.PersistentVolumeClaim, err error) {
	if err == nil {
		c.recorder.Eventf(set, claim, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "%s",
			podcontrol.Note("create Claim %s Pod %s in StatefulSet %s success", claim.Name, pod.Name, set.Name))
		return
	}
	c.recorder.Eventf(set, nil, corev1.EventTypeWarning, "FailedCreate", "Create", "%s",
		podcontrol.Note("create Claim %s for Pod %s in StatefulSet %s failed error: %s", claim.Name, pod.Name, set.Name, err))
}
