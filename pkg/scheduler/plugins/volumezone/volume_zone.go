// Package volumezone is the VolumeZone plugin: a pod whose bound volumes carry
// zone or region labels goes only to nodes labelled with one of those zones or
// regions.
package volumezone

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/component-helpers/storage/volume"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.VolumeZone

// ErrReasonConflict is upstream's reason.
const ErrReasonConflict = "node(s) had no available volume zone"

const preFilterKey fw.StateKey = "PreFilter" + Name

// topologyLabels are the volume labels that pin it, beta ones first as upstream
// lists them.
var topologyLabels = []string{
	corev1.LabelFailureDomainBetaZone,
	corev1.LabelFailureDomainBetaRegion,
	corev1.LabelTopologyZone,
	corev1.LabelTopologyRegion,
}

// gaLabel is the GA label a node may carry for a volume's beta label.
func gaLabel(key string) string {
	switch key {
	case corev1.LabelFailureDomainBetaZone:
		return corev1.LabelTopologyZone
	case corev1.LabelFailureDomainBetaRegion:
		return corev1.LabelTopologyRegion
	}
	return key
}

// multiZoneDelimiter separates the zones of a volume spanning several.
const multiZoneDelimiter = "__"

// VolumeZone filters nodes by the zones of the pod's volumes.
type VolumeZone struct {
	pvLister    corelisters.PersistentVolumeLister
	pvcLister   corelisters.PersistentVolumeClaimLister
	classLister storagelisters.StorageClassLister
}

var (
	_ fw.PreFilterPlugin   = &VolumeZone{}
	_ fw.FilterPlugin      = &VolumeZone{}
	_ fw.EnqueueExtensions = &VolumeZone{}
)

// New makes the plugin.
func New(_ context.Context, _ runtime.Object, h fw.Handle) (fw.Plugin, error) {
	f := h.SharedInformerFactory()
	return &VolumeZone{
		pvLister:    f.Core().V1().PersistentVolumes().Lister(),
		pvcLister:   f.Core().V1().PersistentVolumeClaims().Lister(),
		classLister: f.Storage().V1().StorageClasses().Lister(),
	}, nil
}

// Name implements fw.Plugin.
func (*VolumeZone) Name() string { return Name }

// pvTopology is one topology label of a volume: the node must have one of values.
type pvTopology struct {
	key    string
	values map[string]struct{}
}

type preFilterState []pvTopology

func (s preFilterState) Clone() fw.StateData { return s }

// PreFilter implements fw.PreFilterPlugin: it reads the zone labels of the pod's
// bound volumes; a pod with none skips Filter.
func (pl *VolumeZone) PreFilter(_ context.Context, state *fw.CycleState, pod *corev1.Pod, _ []*fw.NodeInfo) (*fw.PreFilterResult, *fw.Status) {
	topos, st := pl.podTopologies(pod)
	if st != nil {
		return nil, st
	}
	if len(topos) == 0 {
		return nil, fw.NewStatus(fw.Skip)
	}
	state.Write(preFilterKey, preFilterState(topos))
	return nil, nil
}

func (pl *VolumeZone) podTopologies(pod *corev1.Pod) ([]pvTopology, *fw.Status) {
	var out []pvTopology
	for i := range pod.Spec.Volumes {
		ref := pod.Spec.Volumes[i].PersistentVolumeClaim
		if ref == nil {
			continue
		}
		if ref.ClaimName == "" {
			return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, "PersistentVolumeClaim had no name")
		}
		pvc, err := pl.pvcLister.PersistentVolumeClaims(pod.Namespace).Get(ref.ClaimName)
		if err != nil {
			return nil, errorStatus(err)
		}
		if pvc.Spec.VolumeName == "" {
			className := volume.GetPersistentVolumeClaimClass(pvc)
			if className == "" {
				return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, "PersistentVolumeClaim had no pv name and storageClass name")
			}
			class, err := pl.classLister.Get(className)
			if err != nil {
				return nil, errorStatus(err)
			}
			if class.VolumeBindingMode == nil {
				return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, fmt.Sprintf("VolumeBindingMode not set for StorageClass %q", className))
			}
			if *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer {
				// Its volume is chosen later (VolumeBinding).
				continue
			}
			return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, "PersistentVolume had no name")
		}
		pv, err := pl.pvLister.Get(pvc.Spec.VolumeName)
		if err != nil {
			return nil, errorStatus(err)
		}
		for _, key := range topologyLabels {
			value, ok := pv.Labels[key]
			if !ok {
				continue
			}
			zones, ok := zonesOf(value)
			if !ok {
				// Upstream ignores a label it cannot parse.
				continue
			}
			out = append(out, pvTopology{key: key, values: zones})
		}
	}
	return out, nil
}

// zonesOf splits a multi-zone label value ("a__b"); an empty zone makes it invalid.
func zonesOf(value string) (map[string]struct{}, bool) {
	out := map[string]struct{}{}
	for _, z := range strings.Split(value, multiZoneDelimiter) {
		z = strings.TrimSpace(z)
		if z == "" {
			return nil, false
		}
		out[z] = struct{}{}
	}
	return out, true
}

func errorStatus(err error) *fw.Status {
	if apierrors.IsNotFound(err) {
		return fw.NewStatus(fw.UnschedulableAndUnresolvable, err.Error())
	}
	return fw.AsStatus(err)
}

// PreFilterExtensions implements fw.PreFilterPlugin.
func (*VolumeZone) PreFilterExtensions() fw.PreFilterExtensions { return nil }

// Filter implements fw.FilterPlugin. A node with no topology label at all fits
// (a single-zone cluster); otherwise each volume label must match the node's
// (a beta volume label may match the node's GA label).
func (pl *VolumeZone) Filter(_ context.Context, state *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	var topos []pvTopology
	if d, ok := state.Read(preFilterKey); ok {
		topos = d.(preFilterState)
	} else {
		var st *fw.Status
		if topos, st = pl.podTopologies(pod); st != nil {
			return st
		}
	}
	labels := ni.Node().Labels
	constrained := false
	for _, k := range topologyLabels {
		if _, ok := labels[k]; ok {
			constrained = true
			break
		}
	}
	if !constrained {
		return nil
	}
	for _, t := range topos {
		v, ok := labels[t.key]
		if !ok {
			v, ok = labels[gaLabel(t.key)]
		}
		if _, has := t.values[v]; !ok || !has {
			return fw.NewStatus(fw.UnschedulableAndUnresolvable, ErrReasonConflict)
		}
	}
	return nil
}

// EventsToRegister implements fw.EnqueueExtensions: a WaitForFirstConsumer class
// added, a node added or relabelled, the pod's claim created or bound, a volume
// added or relabelled.
func (*VolumeZone) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{
		{Event: fw.ClusterEvent{Resource: fw.StorageClass, ActionType: fw.Add}},
		{Event: fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add | fw.UpdateNodeLabel}},
		{Event: fw.ClusterEvent{Resource: fw.PersistentVolumeClaim, ActionType: fw.Add | fw.Update}, QueueingHintFn: isSchedulableAfterClaimChange},
		{Event: fw.ClusterEvent{Resource: fw.PersistentVolume, ActionType: fw.Add | fw.Update}},
	}, nil
}

func isSchedulableAfterClaimChange(pod *corev1.Pod, _, newObj interface{}) (fw.QueueingHint, error) {
	pvc, ok := newObj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return fw.Queue, nil
	}
	if pvc.Namespace != pod.Namespace {
		return fw.QueueSkip, nil
	}
	for i := range pod.Spec.Volumes {
		if c := pod.Spec.Volumes[i].PersistentVolumeClaim; c != nil && c.ClaimName == pvc.Name {
			return fw.Queue, nil
		}
	}
	return fw.QueueSkip, nil
}
