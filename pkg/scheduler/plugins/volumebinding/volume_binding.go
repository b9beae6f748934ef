// Package volumebinding is the VolumeBinding plugin: a pod's persistent volume
// claims must exist; bound claims' volumes must be reachable from the node; claims
// of WaitForFirstConsumer classes get a volume that fits the node (or a new one is
// provisioned for it), chosen in the scheduling cycle and written in PreBind.
package volumebinding

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/component-helpers/storage/volume"
	schedconfig "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.VolumeBinding

const stateKey fw.StateKey = Name

// DefaultBindTimeoutSeconds is upstream's default wait for provisioned volumes.
const DefaultBindTimeoutSeconds = 600

// ErrReasonUnboundImmediate is upstream's reason for claims that should already be
// bound (their class binds Immediate, or they name a volume not yet bound).
const ErrReasonUnboundImmediate = "pod has unbound immediate PersistentVolumeClaims"

// VolumeBinding checks and binds a pod's persistent volume claims.
type VolumeBinding struct {
	handle      fw.Handle
	client      kubernetes.Interface
	classLister storagelisters.StorageClassLister
	nodeLister  corelisters.NodeLister
	cache       *assumeCache
	bindTimeout time.Duration
	// pollInterval is how often PreBind looks at claims being provisioned.
	pollInterval time.Duration
}

var (
	_ fw.PreFilterPlugin   = &VolumeBinding{}
	_ fw.FilterPlugin      = &VolumeBinding{}
	_ fw.PreScorePlugin    = &VolumeBinding{}
	_ fw.ScorePlugin       = &VolumeBinding{}
	_ fw.ReservePlugin     = &VolumeBinding{}
	_ fw.PreBindPlugin     = &VolumeBinding{}
	_ fw.EnqueueExtensions = &VolumeBinding{}
)

// New makes the plugin from VolumeBindingArgs (nil: the defaults).
func New(_ context.Context, args runtime.Object, h fw.Handle) (fw.Plugin, error) {
	a, ok := args.(*schedconfig.VolumeBindingArgs)
	if args != nil && !ok {
		return nil, fmt.Errorf("want args to be of type VolumeBindingArgs, got %T", args)
	}
	timeout := int64(DefaultBindTimeoutSeconds)
	if a != nil {
		if err := ValidateArgs(a); err != nil {
			return nil, err
		}
		if a.BindTimeoutSeconds != nil {
			timeout = *a.BindTimeoutSeconds
		}
	}
	f := h.SharedInformerFactory()
	return &VolumeBinding{
		handle:       h,
		client:       h.ClientSet(),
		classLister:  f.Storage().V1().StorageClasses().Lister(),
		nodeLister:   f.Core().V1().Nodes().Lister(),
		cache:        newAssumeCache(f.Core().V1().PersistentVolumes().Lister(), f.Core().V1().PersistentVolumeClaims().Lister()),
		bindTimeout:  time.Duration(timeout) * time.Second,
		pollInterval: time.Second,
	}, nil
}

// ValidateArgs checks VolumeBindingArgs as upstream does with StorageCapacityScoring
// off (it is alpha): no negative timeout, no shape.
func ValidateArgs(a *schedconfig.VolumeBindingArgs) error {
	var errs field.ErrorList
	if a.BindTimeoutSeconds != nil && *a.BindTimeoutSeconds < 0 {
		errs = append(errs, field.Invalid(field.NewPath("bindTimeoutSeconds"), *a.BindTimeoutSeconds,
			"invalid BindTimeoutSeconds, should not be a negative value"))
	}
	if a.Shape != nil {
		errs = append(errs, field.Invalid(field.NewPath("shape"), a.Shape,
			"unexpected field `shape`, remove it or turn on the feature gate StorageCapacityScoring"))
	}
	return errs.ToAggregate()
}

// Name implements fw.Plugin.
func (*VolumeBinding) Name() string { return Name }

// stateData is the pod's claims for the cycle. Filter only reads it; Reserve
// records the choice for the node picked, which PreBind writes.
type stateData struct {
	claims   *podClaims
	reserved *podVolumes
	// allBound: nothing to write in PreBind.
	allBound bool
}

func (s *stateData) Clone() fw.StateData { return s }

func readState(cs *fw.CycleState) (*stateData, bool) {
	d, ok := cs.Read(stateKey)
	if !ok {
		return nil, false
	}
	s, ok := d.(*stateData)
	return s, ok
}

// PreFilter implements fw.PreFilterPlugin: a pod without claims skips the plugin;
// missing, lost or terminating claims and unbound immediate claims reject it; a
// pod whose bound local volumes pin it to nodes is narrowed to them.
func (pl *VolumeBinding) PreFilter(_ context.Context, state *fw.CycleState, pod *corev1.Pod, _ []*fw.NodeInfo) (*fw.PreFilterResult, *fw.Status) {
	if !hasClaims(pod) {
		return nil, fw.NewStatus(fw.Skip)
	}
	claims, st := pl.checkClaims(pod)
	if st != nil {
		return nil, st
	}
	pc, err := pl.sortClaims(claims)
	if err != nil {
		return nil, fw.AsStatus(err)
	}
	if pc.immediate > 0 {
		return nil, fw.NewStatus(fw.UnschedulableAndUnresolvable, ErrReasonUnboundImmediate)
	}
	state.Write(stateKey, &stateData{claims: pc, allBound: len(pc.delayed) == 0})
	if nodes := eligibleNodes(pc.bound); nodes != nil {
		return &fw.PreFilterResult{NodeNames: nodes}, nil
	}
	return nil, nil
}

// PreFilterExtensions implements fw.PreFilterPlugin.
func (*VolumeBinding) PreFilterExtensions() fw.PreFilterExtensions { return nil }

// Filter implements fw.FilterPlugin.
func (pl *VolumeBinding) Filter(_ context.Context, state *fw.CycleState, _ *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	s, ok := readState(state)
	if !ok {
		return fw.AsStatus(fmt.Errorf("reading %q from cycleState: not found", stateKey))
	}
	v := s.claims.match(ni.Node(), nil)
	if v.ok() {
		return nil
	}
	return fw.NewStatus(fw.UnschedulableAndUnresolvable, v.reasons()...)
}

// PreScore implements fw.PreScorePlugin: scoring by storage capacity is upstream's
// alpha StorageCapacityScoring, off by default, so Score is always skipped.
func (*VolumeBinding) PreScore(context.Context, *fw.CycleState, *corev1.Pod, []*fw.NodeInfo) *fw.Status {
	return fw.NewStatus(fw.Skip)
}

// Score implements fw.ScorePlugin.
func (*VolumeBinding) Score(context.Context, *fw.CycleState, *corev1.Pod, *fw.NodeInfo) (int64, *fw.Status) {
	return 0, nil
}

// ScoreExtensions implements fw.ScorePlugin.
func (*VolumeBinding) ScoreExtensions() fw.ScoreExtensions { return nil }

// Reserve implements fw.ReservePlugin: it picks the volumes for the chosen node
// again (Filter keeps nothing per node) and assumes them, so the next pod sees
// them taken.
func (pl *VolumeBinding) Reserve(_ context.Context, state *fw.CycleState, pod *corev1.Pod, nodeName string) *fw.Status {
	s, ok := readState(state)
	if !ok || s.allBound {
		return nil
	}
	if pl.claimsBound(pod) {
		// Another pod sharing the claims bound them meanwhile.
		s.allBound = true
		return nil
	}
	ni, err := pl.handle.SnapshotSharedLister().Get(nodeName)
	if err != nil {
		return fw.AsStatus(err)
	}
	out := &podVolumes{}
	if v := s.claims.match(ni.Node(), out); !v.ok() {
		return fw.AsStatus(fmt.Errorf("volumes of pod %s/%s no longer fit node %q", pod.Namespace, pod.Name, nodeName))
	}
	for i, b := range out.static {
		pv, dirty, err := volume.GetBindVolumeToClaim(b.pv, b.pvc)
		if err != nil {
			pl.cache.restore(&podVolumes{static: out.static[:i]})
			return fw.AsStatus(err)
		}
		if dirty {
			pl.cache.assumeVolume(pv)
		}
		out.static[i].pv = pv
	}
	for i, pvc := range out.provision {
		c := pvc.DeepCopy()
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[volume.AnnSelectedNode] = nodeName
		pl.cache.assumeClaim(c)
		out.provision[i] = c
	}
	s.reserved = out
	return nil
}

// claimsBound says whether every claim of the pod is fully bound now.
func (pl *VolumeBinding) claimsBound(pod *corev1.Pod) bool {
	for i := range pod.Spec.Volumes {
		name, _, ok := claimName(pod, &pod.Spec.Volumes[i])
		if !ok {
			continue
		}
		pvc, err := pl.cache.claim(pod.Namespace, name)
		if err != nil || !isFullyBound(pvc) {
			return false
		}
	}
	return true
}

// Unreserve implements fw.ReservePlugin: it forgets the assumed volumes.
func (pl *VolumeBinding) Unreserve(_ context.Context, state *fw.CycleState, _ *corev1.Pod, _ string) {
	if s, ok := readState(state); ok && s.reserved != nil {
		pl.cache.restore(s.reserved)
	}
}

// PreBind implements fw.PreBindPlugin: it writes the bindings chosen in Reserve
// and waits for provisioned claims to be bound.
func (pl *VolumeBinding) PreBind(ctx context.Context, state *fw.CycleState, pod *corev1.Pod, nodeName string) *fw.Status {
	s, ok := readState(state)
	if !ok || s.allBound {
		return nil
	}
	if s.reserved == nil {
		return fw.AsStatus(fmt.Errorf("no pod volumes found for node %q", nodeName))
	}
	if err := pl.bindPodVolumes(ctx, pod, nodeName, s.reserved); err != nil {
		return fw.AsStatus(err)
	}
	return nil
}
