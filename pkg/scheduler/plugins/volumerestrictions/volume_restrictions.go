// Package volumerestrictions is the VolumeRestrictions plugin: a claim with the
// ReadWriteOncePod access mode is used by one pod in the cluster at most, and the
// old in-tree disks (GCE PD, AWS EBS, Ceph RBD, iSCSI) are not mounted read-write
// by two pods on one node.
package volumerestrictions

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	corelisters "k8s.io/client-go/listers/core/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.VolumeRestrictions

// Upstream's reasons.
const (
	ErrReasonDiskConflict             = "node(s) had no available disk"
	ErrReasonReadWriteOncePodConflict = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"
)

const preFilterKey fw.StateKey = "PreFilter" + Name

// VolumeRestrictions filters nodes by volume conflicts.
type VolumeRestrictions struct {
	pvcLister corelisters.PersistentVolumeClaimLister
}

var (
	_ fw.PreFilterPlugin     = &VolumeRestrictions{}
	_ fw.PreFilterExtensions = &VolumeRestrictions{}
	_ fw.FilterPlugin        = &VolumeRestrictions{}
	_ fw.EnqueueExtensions   = &VolumeRestrictions{}
)

// New makes the plugin.
func New(_ context.Context, _ runtime.Object, h fw.Handle) (fw.Plugin, error) {
	return &VolumeRestrictions{pvcLister: h.SharedInformerFactory().Core().V1().PersistentVolumeClaims().Lister()}, nil
}

// Name implements fw.Plugin.
func (*VolumeRestrictions) Name() string { return Name }

// preFilterState is the pod's ReadWriteOncePod claims and how many scheduled pods
// use them (one is already too many).
type preFilterState struct {
	namespace  string
	rwopClaims map[string]struct{}
	conflicts  int
}

func (s *preFilterState) Clone() fw.StateData {
	c := *s
	return &c
}

// usesOf counts the pod's volumes that name one of the ReadWriteOncePod claims.
func (s *preFilterState) usesOf(pod *corev1.Pod) int {
	if pod.Namespace != s.namespace {
		return 0
	}
	n := 0
	for i := range pod.Spec.Volumes {
		if c := pod.Spec.Volumes[i].PersistentVolumeClaim; c != nil {
			if _, ok := s.rwopClaims[c.ClaimName]; ok {
				n++
			}
		}
	}
	return n
}

// needsDiskCheck says whether a volume is of a type that conflicts across pods.
func needsDiskCheck(v *corev1.Volume) bool {
	return v.GCEPersistentDisk != nil || v.AWSElasticBlockStore != nil || v.RBD != nil || v.ISCSI != nil
}

// PreFilter implements fw.PreFilterPlugin: pods with neither in-tree disks nor a
// ReadWriteOncePod claim in use skip Filter. A missing claim rejects the pod.
func (pl *VolumeRestrictions) PreFilter(_ context.Context, state *fw.CycleState, pod *corev1.Pod, nodes []*fw.NodeInfo) (*fw.PreFilterResult, *fw.Status) {
	disks := false
	var rwop map[string]struct{}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if needsDiskCheck(v) {
			disks = true
		}
		if v.PersistentVolumeClaim == nil {
			continue
		}
		pvc, err := pl.pvcLister.PersistentVolumeClaims(pod.Namespace).Get(v.PersistentVolumeClaim.ClaimName)
		if err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, err.Error())
			}
			return nil, fw.AsStatus(err)
		}
		if hasAccessMode(pvc.Spec.AccessModes, corev1.ReadWriteOncePod) {
			if rwop == nil {
				rwop = map[string]struct{}{}
			}
			rwop[pvc.Name] = struct{}{}
		}
	}
	s := &preFilterState{namespace: pod.Namespace, rwopClaims: rwop}
	for name := range rwop {
		key := pod.Namespace + "/" + name
		for _, ni := range nodes {
			if ni.PVCRefCounts[key] > 0 {
				// At most one pod can hold it.
				s.conflicts++
				break
			}
		}
	}
	if !disks && s.conflicts == 0 {
		return nil, fw.NewStatus(fw.Skip)
	}
	state.Write(preFilterKey, s)
	return nil, nil
}

func hasAccessMode(modes []corev1.PersistentVolumeAccessMode, m corev1.PersistentVolumeAccessMode) bool {
	for _, x := range modes {
		if x == m {
			return true
		}
	}
	return false
}

// PreFilterExtensions implements fw.PreFilterPlugin.
func (pl *VolumeRestrictions) PreFilterExtensions() fw.PreFilterExtensions { return pl }

// AddPod implements fw.PreFilterExtensions.
func (*VolumeRestrictions) AddPod(_ context.Context, state *fw.CycleState, _ *corev1.Pod, add *fw.PodInfo, _ *fw.NodeInfo) *fw.Status {
	s, err := readState(state)
	if err != nil {
		return fw.AsStatus(err)
	}
	s.conflicts += s.usesOf(add.Pod)
	return nil
}

// RemovePod implements fw.PreFilterExtensions.
func (*VolumeRestrictions) RemovePod(_ context.Context, state *fw.CycleState, _ *corev1.Pod, remove *fw.PodInfo, _ *fw.NodeInfo) *fw.Status {
	s, err := readState(state)
	if err != nil {
		return fw.AsStatus(err)
	}
	s.conflicts -= s.usesOf(remove.Pod)
	return nil
}

func readState(state *fw.CycleState) (*preFilterState, error) {
	d, ok := state.Read(preFilterKey)
	if !ok {
		return nil, fmt.Errorf("cannot read %q from cycleState", preFilterKey)
	}
	s, ok := d.(*preFilterState)
	if !ok {
		return nil, fmt.Errorf("%+v convert to volumerestrictions.state error", d)
	}
	return s, nil
}

// Filter implements fw.FilterPlugin. Both conflicts are Unschedulable: evicting
// the other pod (preemption) resolves them.
func (*VolumeRestrictions) Filter(_ context.Context, state *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	if !diskFree(pod, ni) {
		return fw.NewStatus(fw.Unschedulable, ErrReasonDiskConflict)
	}
	s, err := readState(state)
	if err != nil {
		return fw.AsStatus(err)
	}
	if s.conflicts > 0 {
		return fw.NewStatus(fw.Unschedulable, ErrReasonReadWriteOncePodConflict)
	}
	return nil
}

// diskFree says whether none of the pod's in-tree disks is used on the node in a
// way that conflicts.
func diskFree(pod *corev1.Pod, ni *fw.NodeInfo) bool {
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if !needsDiskCheck(v) {
			continue
		}
		for _, other := range ni.Pods {
			if conflicts(v, other.Pod) {
				return false
			}
		}
	}
	return true
}

// conflicts says whether volume v clashes with one of pod's volumes: the same GCE
// disk, iSCSI target or RBD image unless both mount it read-only; the same EBS
// volume at all.
func conflicts(v *corev1.Volume, pod *corev1.Pod) bool {
	for i := range pod.Spec.Volumes {
		e := &pod.Spec.Volumes[i]
		switch {
		case v.GCEPersistentDisk != nil && e.GCEPersistentDisk != nil:
			if v.GCEPersistentDisk.PDName == e.GCEPersistentDisk.PDName && !(v.GCEPersistentDisk.ReadOnly && e.GCEPersistentDisk.ReadOnly) {
				return true
			}
		case v.AWSElasticBlockStore != nil && e.AWSElasticBlockStore != nil:
			if v.AWSElasticBlockStore.VolumeID == e.AWSElasticBlockStore.VolumeID {
				return true
			}
		case v.ISCSI != nil && e.ISCSI != nil:
			if v.ISCSI.IQN == e.ISCSI.IQN && !(v.ISCSI.ReadOnly && e.ISCSI.ReadOnly) {
				return true
			}
		case v.RBD != nil && e.RBD != nil:
			if overlap(v.RBD.CephMonitors, e.RBD.CephMonitors) && v.RBD.RBDPool == e.RBD.RBDPool &&
				v.RBD.RBDImage == e.RBD.RBDImage && !(v.RBD.ReadOnly && e.RBD.ReadOnly) {
				return true
			}
		}
	}
	return false
}

func overlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// EventsToRegister implements fw.EnqueueExtensions: a pod holding the disk or the
// claim deleted, a node added, or the pod's missing claim created.
func (*VolumeRestrictions) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{
		{Event: fw.ClusterEvent{Resource: fw.Pod, ActionType: fw.Delete}, QueueingHintFn: isSchedulableAfterPodDeleted},
		{Event: fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add}},
		{Event: fw.ClusterEvent{Resource: fw.PersistentVolumeClaim, ActionType: fw.Add}, QueueingHintFn: isSchedulableAfterClaimAdded},
	}, nil
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
		if c := pod.Spec.Volumes[i].PersistentVolumeClaim; c != nil && c.ClaimName == pvc.Name {
			return fw.Queue, nil
		}
	}
	return fw.QueueSkip, nil
}

// isSchedulableAfterPodDeleted: the deleted pod held one of the pod's disks, or
// shared a claim with it (perhaps ReadWriteOncePod; the claim is not looked up).
func isSchedulableAfterPodDeleted(pod *corev1.Pod, oldObj, _ interface{}) (fw.QueueingHint, error) {
	gone, ok := oldObj.(*corev1.Pod)
	if !ok {
		return fw.Queue, nil
	}
	if gone.Namespace != pod.Namespace {
		return fw.QueueSkip, nil
	}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if needsDiskCheck(v) && conflicts(v, gone) {
			return fw.Queue, nil
		}
	}
	for i := range gone.Spec.Volumes {
		g := gone.Spec.Volumes[i].PersistentVolumeClaim
		if g == nil {
			continue
		}
		for j := range pod.Spec.Volumes {
			if c := pod.Spec.Volumes[j].PersistentVolumeClaim; c != nil && c.ClaimName == g.ClaimName {
				return fw.Queue, nil
			}
		}
	}
	return fw.QueueSkip, nil
}
