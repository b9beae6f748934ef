package volumebinding

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/component-helpers/storage/ephemeral"
	"k8s.io/component-helpers/storage/volume"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// claimName is the claim a volume uses, and whether it is a generic ephemeral
// volume's claim; ok is false for volumes without a claim.
func claimName(pod *corev1.Pod, v *corev1.Volume) (name string, isEphemeral, ok bool) {
	switch {
	case v.PersistentVolumeClaim != nil:
		return v.PersistentVolumeClaim.ClaimName, false, true
	case v.Ephemeral != nil:
		return ephemeral.VolumeClaimName(pod, v), true, true
	}
	return "", false, false
}

// hasClaims is the cheap test that lets most pods skip the plugin.
func hasClaims(pod *corev1.Pod) bool {
	for i := range pod.Spec.Volumes {
		if v := &pod.Spec.Volumes[i]; v.PersistentVolumeClaim != nil || v.Ephemeral != nil {
			return true
		}
	}
	return false
}

// isFullyBound is upstream's test: the claim names its volume and the binding
// was completed (by the PV controller, or here by PreBind).
func isFullyBound(pvc *corev1.PersistentVolumeClaim) bool {
	return pvc.Spec.VolumeName != "" && metav1.HasAnnotation(pvc.ObjectMeta, volume.AnnBindCompleted)
}

// candidate is a volume that may be bound to a claim, with its node affinity parsed
// once per cycle.
type candidate struct {
	pv       *corev1.PersistentVolume
	affinity *nodeMatcher
}

func newCandidate(pv *corev1.PersistentVolume) candidate {
	return candidate{pv: pv, affinity: newNodeMatcher(pv)}
}

// fits is volume.CheckNodeAffinity.
func (c *candidate) fits(node *corev1.Node) bool { return c.affinity.matches(node) }

// boundClaim is a claim already bound; pv is nil when its volume does not exist.
type boundClaim struct {
	pvc *corev1.PersistentVolumeClaim
	pv  *candidate
}

// delayedClaim is an unbound claim of a WaitForFirstConsumer class: the scheduler
// picks its volume, or the node a new volume is provisioned for.
type delayedClaim struct {
	pvc   *corev1.PersistentVolumeClaim
	class *storagev1.StorageClass
	// selectedNode is set when provisioning already started for a node.
	selectedNode    string
	hasSelectedNode bool
	// prebound is a volume whose claimRef already names this claim: it wins over
	// every other candidate, on the nodes it fits.
	prebound *candidate
	// available are unbound, available volumes that satisfy the claim everywhere
	// but in node affinity, smallest first.
	available []candidate
	// Local volumes pinned to hosts are looked up by the node's hostname; the
	// rest are tried on every node. Both hold indexes into available, ascending.
	byHost   map[string][]int
	anywhere []int
}

// podClaims are a pod's claims sorted for the cycle.
type podClaims struct {
	bound     []boundClaim
	delayed   []*delayedClaim
	immediate int
}

// lookupError is a claim problem that keeps the pod out until the claim changes.
type lookupError struct{ msg string }

func (e *lookupError) Error() string { return e.msg }

// checkClaims finds the pod's claims and rejects pods whose claims are missing,
// lost, being deleted or not the pod's own (ephemeral), with upstream's messages.
func (pl *VolumeBinding) checkClaims(pod *corev1.Pod) ([]*corev1.PersistentVolumeClaim, *fw.Status) {
	var out []*corev1.PersistentVolumeClaim
	for i := range pod.Spec.Volumes {
		name, isEphemeral, ok := claimName(pod, &pod.Spec.Volumes[i])
		if !ok {
			continue
		}
		pvc, err := pl.cache.claim(pod.Namespace, name)
		if err != nil {
			if isEphemeral && apierrors.IsNotFound(err) {
				err = fmt.Errorf("waiting for ephemeral volume controller to create the persistentvolumeclaim %q", name)
			}
			if apierrors.IsNotFound(err) || isEphemeral {
				return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, err.Error())
			}
			return nil, fw.AsStatus(err)
		}
		if pvc.Status.Phase == corev1.ClaimLost {
			return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable,
				fmt.Sprintf("persistentvolumeclaim %q bound to non-existent persistentvolume %q", pvc.Name, pvc.Spec.VolumeName))
		}
		if pvc.DeletionTimestamp != nil {
			return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, fmt.Sprintf("persistentvolumeclaim %q is being deleted", pvc.Name))
		}
		if isEphemeral {
			if err := ephemeral.VolumeIsForPod(pod, pvc); err != nil {
				return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, err.Error())
			}
		}
		out = append(out, pvc)
	}
	return out, nil
}

// sortClaims splits claims into bound, WaitForFirstConsumer and immediate ones (a
// claim naming a volume but not fully bound counts as immediate, as upstream's),
// and finds each delayed claim's candidate volumes.
func (pl *VolumeBinding) sortClaims(claims []*corev1.PersistentVolumeClaim) (*podClaims, error) {
	pc := &podClaims{}
	var byClass map[string][]*corev1.PersistentVolume
	for _, pvc := range claims {
		if isFullyBound(pvc) {
			bc := boundClaim{pvc: pvc}
			if pv, err := pl.cache.volume(pvc.Spec.VolumeName); err == nil {
				c := newCandidate(pv)
				bc.pv = &c
			} else if !apierrors.IsNotFound(err) {
				return nil, err
			}
			pc.bound = append(pc.bound, bc)
			continue
		}
		class, err := pl.delayedClass(pvc)
		if err != nil {
			return nil, err
		}
		if class == nil || pvc.Spec.VolumeName != "" {
			pc.immediate++
			continue
		}
		className := volume.GetPersistentVolumeClaimClass(pvc)
		if byClass == nil {
			byClass = map[string][]*corev1.PersistentVolume{}
		}
		pvs, ok := byClass[className]
		if !ok {
			if pvs, err = pl.cache.volumesOfClass(className); err != nil {
				return nil, err
			}
			byClass[className] = pvs
		}
		dc, err := newDelayedClaim(pvc, class, pvs)
		if err != nil {
			return nil, err
		}
		pc.delayed = append(pc.delayed, dc)
	}
	// Smallest requests pick first, so each gets the smallest volume that fits.
	sort.SliceStable(pc.delayed, func(i, j int) bool {
		a := pc.delayed[i].pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		b := pc.delayed[j].pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		return a.Cmp(b) < 0
	})
	return pc, nil
}

// delayedClass is the claim's class when it binds WaitForFirstConsumer, nil when it
// binds immediately (no class, or a class that does not exist).
func (pl *VolumeBinding) delayedClass(pvc *corev1.PersistentVolumeClaim) (*storagev1.StorageClass, error) {
	name := volume.GetPersistentVolumeClaimClass(pvc)
	if name == "" {
		return nil, nil
	}
	class, err := pl.classLister.Get(name)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	if class.VolumeBindingMode == nil {
		return nil, fmt.Errorf("VolumeBindingMode not set for StorageClass %q", name)
	}
	if *class.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer {
		return nil, nil
	}
	return class, nil
}

// newDelayedClaim applies every test of upstream's volume matching that does not
// depend on the node, so Filter only checks node affinity.
func newDelayedClaim(pvc *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, pvs []*corev1.PersistentVolume) (*delayedClaim, error) {
	dc := &delayedClaim{pvc: pvc, class: class}
	dc.selectedNode, dc.hasSelectedNode = pvc.Annotations[volume.AnnSelectedNode]
	var selector labels.Selector
	if pvc.Spec.Selector != nil {
		s, err := metav1.LabelSelectorAsSelector(pvc.Spec.Selector)
		if err != nil {
			return nil, fmt.Errorf("error creating internal label selector for claim: %s/%s: %v", pvc.Namespace, pvc.Name, err)
		}
		selector = s
	}
	requested := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	claimVAC := ""
	if pvc.Spec.VolumeAttributesClassName != nil {
		claimVAC = *pvc.Spec.VolumeAttributesClassName
	}
	for _, pv := range pvs {
		if pv.Spec.ClaimRef != nil && !volume.IsVolumeBoundToClaim(pv, pvc) {
			continue
		}
		size := pv.Spec.Capacity[corev1.ResourceStorage]
		if size.Cmp(requested) < 0 || volume.CheckVolumeModeMismatches(&pvc.Spec, &pv.Spec) || pv.DeletionTimestamp != nil {
			continue
		}
		pvVAC := ""
		if pv.Spec.VolumeAttributesClassName != nil {
			pvVAC = *pv.Spec.VolumeAttributesClassName
		}
		if pvVAC != claimVAC {
			continue
		}
		if volume.IsVolumeBoundToClaim(pv, pvc) {
			if dc.prebound == nil {
				c := newCandidate(pv)
				dc.prebound = &c
			}
			continue
		}
		if !available(pv) || (selector != nil && !selector.Matches(labels.Set(pv.Labels))) ||
			volume.GetPersistentVolumeClass(pv) != volume.GetPersistentVolumeClaimClass(pvc) || !volume.CheckAccessModes(pvc, pv) {
			continue
		}
		dc.available = append(dc.available, newCandidate(pv))
	}
	sort.SliceStable(dc.available, func(i, j int) bool {
		a := dc.available[i].pv.Spec.Capacity[corev1.ResourceStorage]
		b := dc.available[j].pv.Spec.Capacity[corev1.ResourceStorage]
		if c := a.Cmp(b); c != 0 {
			return c < 0
		}
		return dc.available[i].pv.Name < dc.available[j].pv.Name
	})
	for i := range dc.available {
		hosts := pinnedHosts(dc.available[i].pv)
		if hosts == nil {
			dc.anywhere = append(dc.anywhere, i)
			continue
		}
		if dc.byHost == nil {
			dc.byHost = map[string][]int{}
		}
		for h := range hosts {
			dc.byHost[h] = append(dc.byHost[h], i)
		}
	}
	return dc, nil
}

// available says whether an unbound volume may be chosen. Upstream takes only
// Available volumes (the PV controller marks new ones so); minik8s has no PV
// controller yet, so a new volume stays Pending and is taken as available too.
func available(pv *corev1.PersistentVolume) bool {
	switch pv.Status.Phase {
	case corev1.VolumeAvailable, corev1.VolumePending, "":
		return true
	}
	return false
}

// canProvision says whether the claim's class can provision a volume reachable
// from the node: it has a provisioner and its allowed topologies admit the node.
func (dc *delayedClaim) canProvision(node *corev1.Node) bool {
	p := dc.class.Provisioner
	if p == "" || p == volume.NotSupportedProvisioner {
		return false
	}
	return matchTopology(dc.class.AllowedTopologies, node.Labels)
}

// matchTopology is true when there are no terms or the node satisfies every
// expression of one term.
func matchTopology(terms []corev1.TopologySelectorTerm, nodeLabels map[string]string) bool {
	if len(terms) == 0 {
		return true
	}
	for _, t := range terms {
		ok := true
		for _, e := range t.MatchLabelExpressions {
			v, has := nodeLabels[e.Key]
			if !has || !contains(e.Values, v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
