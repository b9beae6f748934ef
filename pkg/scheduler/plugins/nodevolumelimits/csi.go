// Package nodevolumelimits is the NodeVolumeLimits plugin: a node takes no more
// volumes of a CSI driver than the driver's attach limit in the node's CSINode
// (spec.drivers[].allocatable.count), counting the volumes of the pods there and
// the volumes still attached (VolumeAttachments), each volume once.
//
// In-tree volumes migrated to CSI drivers are not translated: minik8s runs no
// cloud volume plugins.
package nodevolumelimits

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-helpers/storage/ephemeral"
	"k8s.io/component-helpers/storage/volume"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.NodeVolumeLimits

// ErrReasonMaxVolumeCountExceeded is upstream's reason.
const ErrReasonMaxVolumeCountExceeded = "node(s) exceed max volume count"

const (
	preFilterKey fw.StateKey = "PreFilter" + Name
	// vaNodeIndex indexes VolumeAttachments by the node they attach to.
	vaNodeIndex = "spec.nodeName"
)

// CSILimits filters nodes whose CSI drivers' attach limits the pod would exceed.
type CSILimits struct {
	csiNodeLister storagelisters.CSINodeLister
	pvLister      corelisters.PersistentVolumeLister
	pvcLister     corelisters.PersistentVolumeClaimLister
	classLister   storagelisters.StorageClassLister
	vaIndexer     cache.Indexer
	// unboundPrefix makes up volume handles for unbound claims that cannot clash
	// with real ones.
	unboundPrefix string
}

var (
	_ fw.PreFilterPlugin   = &CSILimits{}
	_ fw.FilterPlugin      = &CSILimits{}
	_ fw.EnqueueExtensions = &CSILimits{}
)

// New makes the plugin.
func New(_ context.Context, _ runtime.Object, h fw.Handle) (fw.Plugin, error) {
	f := h.SharedInformerFactory()
	va, err := vaIndexer(f)
	if err != nil {
		return nil, err
	}
	return &CSILimits{
		csiNodeLister: f.Storage().V1().CSINodes().Lister(),
		pvLister:      f.Core().V1().PersistentVolumes().Lister(),
		pvcLister:     f.Core().V1().PersistentVolumeClaims().Lister(),
		classLister:   f.Storage().V1().StorageClasses().Lister(),
		vaIndexer:     va,
		unboundPrefix: utilrand.String(32),
	}, nil
}

// vaIndexer adds the by-node index to the shared VolumeAttachment informer once
// (every profile makes its own plugin).
func vaIndexer(f informers.SharedInformerFactory) (cache.Indexer, error) {
	inf := f.Storage().V1().VolumeAttachments().Informer()
	if _, ok := inf.GetIndexer().GetIndexers()[vaNodeIndex]; !ok {
		err := inf.AddIndexers(cache.Indexers{vaNodeIndex: func(obj interface{}) ([]string, error) {
			va, ok := obj.(*storagev1.VolumeAttachment)
			if !ok || va.Spec.NodeName == "" {
				return nil, nil
			}
			return []string{va.Spec.NodeName}, nil
		}})
		if err != nil {
			return nil, fmt.Errorf("index volume attachments by node: %w", err)
		}
	}
	return inf.GetIndexer(), nil
}

// Name implements fw.Plugin.
func (*CSILimits) Name() string { return Name }

// preFilterState is the pod's CSI volumes: driver by unique volume name
// ("driver/handle").
type preFilterState map[string]string

func (s preFilterState) Clone() fw.StateData { return s }

// PreFilter implements fw.PreFilterPlugin: it resolves the pod's claims to CSI
// volumes once; a pod with none skips Filter.
func (pl *CSILimits) PreFilter(_ context.Context, state *fw.CycleState, pod *corev1.Pod, _ []*fw.NodeInfo) (*fw.PreFilterResult, *fw.Status) {
	if !hasClaims(pod) {
		return nil, fw.NewStatus(fw.Skip)
	}
	vols := preFilterState{}
	if err := pl.attachableVolumes(pod, true, vols); err != nil {
		if apierrors.IsNotFound(err) {
			// The pod cannot run before its claim exists.
			return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, err.Error())
		}
		return nil, fw.AsStatus(err)
	}
	if len(vols) == 0 {
		return nil, fw.NewStatus(fw.Skip)
	}
	state.Write(preFilterKey, vols)
	return nil, nil
}

func hasClaims(pod *corev1.Pod) bool {
	for i := range pod.Spec.Volumes {
		if v := &pod.Spec.Volumes[i]; v.PersistentVolumeClaim != nil || v.Ephemeral != nil {
			return true
		}
	}
	return false
}

// PreFilterExtensions implements fw.PreFilterPlugin.
func (*CSILimits) PreFilterExtensions() fw.PreFilterExtensions { return nil }

// Filter implements fw.FilterPlugin.
func (pl *CSILimits) Filter(_ context.Context, state *fw.CycleState, _ *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	d, ok := state.Read(preFilterKey)
	if !ok {
		return fw.AsStatus(fmt.Errorf("reading %q from cycleState: not found", preFilterKey))
	}
	node := ni.Node()
	csiNode, err := pl.csiNodeLister.Get(node.Name)
	if err != nil {
		// No CSINode: no limits known.
		return nil
	}
	limits := map[string]int{}
	for _, drv := range csiNode.Spec.Drivers {
		if drv.Allocatable != nil && drv.Allocatable.Count != nil {
			limits[drv.Name] = int(*drv.Allocatable.Count)
		}
	}
	if len(limits) == 0 {
		return nil
	}
	attached := map[string]string{}
	for _, pi := range ni.Pods {
		// A claim of a running pod that went away is not counted.
		_ = pl.attachableVolumes(pi.Pod, false, attached)
	}
	pl.attachedByAPI(node.Name, attached)

	attachedCount := map[string]int{}
	for _, driver := range attached {
		attachedCount[driver]++
	}
	newCount := map[string]int{}
	for name, driver := range d.(preFilterState) {
		if _, ok := attached[name]; ok {
			// Shared with a pod already there: attached once.
			continue
		}
		newCount[driver]++
	}
	for driver, n := range newCount {
		if limit, ok := limits[driver]; ok && attachedCount[driver]+n > limit {
			return fw.NewStatus(fw.Unschedulable, ErrReasonMaxVolumeCountExceeded)
		}
	}
	return nil
}

// attachedByAPI adds the CSI volumes the node's VolumeAttachments hold: a volume
// being detached for a pod that is gone still takes its slot.
func (pl *CSILimits) attachedByAPI(nodeName string, out map[string]string) {
	objs, err := pl.vaIndexer.ByIndex(vaNodeIndex, nodeName)
	if err != nil {
		return
	}
	for _, o := range objs {
		va, ok := o.(*storagev1.VolumeAttachment)
		if !ok || va.Spec.Attacher == "" || va.Spec.Source.PersistentVolumeName == nil {
			continue
		}
		pv, err := pl.pvLister.Get(*va.Spec.Source.PersistentVolumeName)
		if err != nil || pv.Spec.CSI == nil {
			continue
		}
		out[va.Spec.Attacher+"/"+pv.Spec.CSI.VolumeHandle] = va.Spec.Attacher
	}
}

// attachableVolumes adds the CSI volumes of the pod's claims to out. For the pod
// being scheduled (newPod) a missing claim is an error; for pods already on the
// node it is skipped.
func (pl *CSILimits) attachableVolumes(pod *corev1.Pod, newPod bool, out map[string]string) error {
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		var name string
		isEphemeral := false
		switch {
		case v.PersistentVolumeClaim != nil:
			name = v.PersistentVolumeClaim.ClaimName
		case v.Ephemeral != nil:
			name = ephemeral.VolumeClaimName(pod, v)
			isEphemeral = true
		default:
			continue
		}
		if name == "" {
			return fmt.Errorf("PersistentVolumeClaim had no name")
		}
		pvc, err := pl.pvcLister.PersistentVolumeClaims(pod.Namespace).Get(name)
		if err != nil {
			if newPod {
				return fmt.Errorf("looking up PVC %s/%s: %w", pod.Namespace, name, err)
			}
			continue
		}
		if isEphemeral {
			if err := ephemeral.VolumeIsForPod(pod, pvc); err != nil {
				return err
			}
		}
		driver, handle := pl.csiDriverInfo(pvc)
		if driver == "" || handle == "" {
			continue
		}
		out[driver+"/"+handle] = driver
	}
	return nil
}

// csiDriverInfo is the CSI driver and volume handle of a claim: its volume's, or
// for an unbound claim (or one whose volume is gone) its class's provisioner and a
// made-up handle. Non-CSI volumes and claims without a class count for nothing.
func (pl *CSILimits) csiDriverInfo(pvc *corev1.PersistentVolumeClaim) (string, string) {
	if pvc.Spec.VolumeName != "" {
		if pv, err := pl.pvLister.Get(pvc.Spec.VolumeName); err == nil {
			if pv.Spec.CSI == nil {
				return "", ""
			}
			return pv.Spec.CSI.Driver, pv.Spec.CSI.VolumeHandle
		}
	}
	className := volume.GetPersistentVolumeClaimClass(pvc)
	if className == "" {
		return "", ""
	}
	class, err := pl.classLister.Get(className)
	if err != nil {
		return "", ""
	}
	return class.Provisioner, fmt.Sprintf("%s-%s/%s", pl.unboundPrefix, pvc.Namespace, pvc.Name)
}

// EventsToRegister implements fw.EnqueueExtensions: a CSINode added or its limits
// raised, a pod with claims deleted, the pod's claim created, or a volume detached.
func (*CSILimits) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{
		{Event: fw.ClusterEvent{Resource: fw.CSINode, ActionType: fw.Add}},
		{Event: fw.ClusterEvent{Resource: fw.CSINode, ActionType: fw.Update}, QueueingHintFn: isSchedulableAfterCSINodeUpdated},
		{Event: fw.ClusterEvent{Resource: fw.AssignedPod, ActionType: fw.Delete}, QueueingHintFn: isSchedulableAfterPodDeleted},
		{Event: fw.ClusterEvent{Resource: fw.PersistentVolumeClaim, ActionType: fw.Add}, QueueingHintFn: isSchedulableAfterClaimAdded},
		{Event: fw.ClusterEvent{Resource: fw.VolumeAttachment, ActionType: fw.Delete}},
	}, nil
}

func isSchedulableAfterCSINodeUpdated(_ *corev1.Pod, oldObj, newObj interface{}) (fw.QueueingHint, error) {
	oldCN, ok1 := oldObj.(*storagev1.CSINode)
	newCN, ok2 := newObj.(*storagev1.CSINode)
	if !ok1 || !ok2 {
		return fw.Queue, nil
	}
	before := map[string]int32{}
	for _, d := range oldCN.Spec.Drivers {
		if d.Allocatable != nil && d.Allocatable.Count != nil {
			before[d.Name] = *d.Allocatable.Count
		}
	}
	for _, d := range newCN.Spec.Drivers {
		old, had := before[d.Name]
		if d.Allocatable == nil || d.Allocatable.Count == nil {
			if had {
				return fw.Queue, nil // the limit was lifted
			}
			continue
		}
		if !had || *d.Allocatable.Count > old {
			return fw.Queue, nil
		}
	}
	return fw.QueueSkip, nil
}

func isSchedulableAfterPodDeleted(_ *corev1.Pod, oldObj, _ interface{}) (fw.QueueingHint, error) {
	gone, ok := oldObj.(*corev1.Pod)
	if !ok {
		return fw.Queue, nil
	}
	if gone.Spec.NodeName == "" || !hasClaims(gone) {
		return fw.QueueSkip, nil
	}
	return fw.Queue, nil
}

func isSchedulableAfterClaimAdded(pod *corev1.Pod, _, newObj interface{}) (fw.QueueingHint, error) {
	pvc, ok := newObj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return fw.Queue, nil
	}
	if pvc.Namespace != pod.Namespace {
		return fw.QueueSkip, nil
	}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		switch {
		case v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Name:
			return fw.Queue, nil
		case v.Ephemeral != nil && ephemeral.VolumeClaimName(pod, v) == pvc.Name:
			return fw.Queue, nil
		}
	}
	return fw.QueueSkip, nil
}
