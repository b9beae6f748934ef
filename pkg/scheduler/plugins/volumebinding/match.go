package volumebinding

import (
	corev1 "k8s.io/api/core/v1"
)

// Upstream's reasons a node cannot take the pod's volumes.
const (
	ErrReasonBindConflict = "node(s) didn't find available persistent volumes to bind"
	ErrReasonNodeConflict = "node(s) had volume node affinity conflict"
	ErrReasonPVNotExist   = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
)

// staticBinding is a claim to be bound to an existing volume.
type staticBinding struct {
	pv  *corev1.PersistentVolume
	pvc *corev1.PersistentVolumeClaim
}

// podVolumes are the binding decisions for the chosen node.
type podVolumes struct {
	static []staticBinding
	// provision are claims that get a new volume for the node (selected-node
	// annotation set).
	provision []*corev1.PersistentVolumeClaim
}

// verdict is what the node makes of the pod's claims.
type verdict struct {
	boundFit   bool // every bound volume's node affinity admits the node
	unboundFit bool // every delayed claim gets a volume here, found or provisioned
	pvsExist   bool // every bound claim's volume exists
}

func (v verdict) reasons() []string {
	var r []string
	if !v.boundFit {
		r = append(r, ErrReasonNodeConflict)
	}
	if !v.unboundFit {
		r = append(r, ErrReasonBindConflict)
	}
	if !v.pvsExist {
		r = append(r, ErrReasonPVNotExist)
	}
	return r
}

func (v verdict) ok() bool { return v.boundFit && v.unboundFit && v.pvsExist }

// match judges the pod's claims on one node, as upstream's FindPodVolumes does.
// When out is not nil it also records the volumes chosen and the claims to
// provision. Without out it allocates nothing for pods of up to eight claims.
func (pc *podClaims) match(node *corev1.Node, out *podVolumes) verdict {
	v := verdict{boundFit: true, unboundFit: true, pvsExist: true}
	for _, bc := range pc.bound {
		if bc.pv == nil {
			v.pvsExist = false
			break
		}
		if !bc.pv.fits(node) {
			v.boundFit = false
			break
		}
	}
	if len(pc.delayed) == 0 {
		return v
	}
	for _, dc := range pc.delayed {
		if dc.hasSelectedNode && dc.selectedNode != node.Name {
			v.unboundFit = false
			return v
		}
	}
	var chosenBuf [8]*corev1.PersistentVolume
	chosen := chosenBuf[:0]
	for _, dc := range pc.delayed {
		if dc.hasSelectedNode {
			// Provisioning already started for this node.
			if !dc.canProvision(node) {
				v.unboundFit = false
				return v
			}
			if out != nil {
				out.provision = append(out.provision, dc.pvc)
			}
			continue
		}
		pv := dc.pick(node, chosen)
		if pv != nil {
			chosen = append(chosen, pv)
			if out != nil {
				out.static = append(out.static, staticBinding{pv: pv, pvc: dc.pvc})
			}
			continue
		}
		if !dc.canProvision(node) {
			v.unboundFit = false
			return v
		}
		if out != nil {
			out.provision = append(out.provision, dc.pvc)
		}
	}
	return v
}

// pick is the volume the claim binds to on the node, or nil: the volume already
// reserved for the claim if it fits the node (and no other then), else the
// smallest available one that fits and was not taken by the pod's other claims.
func (dc *delayedClaim) pick(node *corev1.Node, taken []*corev1.PersistentVolume) *corev1.PersistentVolume {
	if dc.prebound != nil && !isTaken(dc.prebound.pv, taken) {
		if dc.prebound.fits(node) {
			return dc.prebound.pv
		}
		return nil
	}
	// Walk the volumes that may fit this node in size order: those pinned to its
	// hostname merged with those not pinned to hosts.
	pinned := dc.byHost[node.Labels[corev1.LabelHostname]]
	anywhere := dc.anywhere
	for len(pinned) > 0 || len(anywhere) > 0 {
		var i int
		if len(anywhere) == 0 || (len(pinned) > 0 && pinned[0] < anywhere[0]) {
			i, pinned = pinned[0], pinned[1:]
		} else {
			i, anywhere = anywhere[0], anywhere[1:]
		}
		c := &dc.available[i]
		if !isTaken(c.pv, taken) && c.fits(node) {
			return c.pv
		}
	}
	return nil
}

func isTaken(pv *corev1.PersistentVolume, taken []*corev1.PersistentVolume) bool {
	for _, t := range taken {
		if t.Name == pv.Name {
			return true
		}
	}
	return false
}
