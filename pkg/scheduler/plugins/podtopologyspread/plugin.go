// Package podtopologyspread is the PodTopologySpread plugin: a pod's
// DoNotSchedule topology spread constraints filter nodes whose domain would hold
// too many matching pods (maxSkew, minDomains), its ScheduleAnyway constraints
// score nodes with fewer matching pods higher. Pods without constraints of their
// own get the cluster's default constraints (defaultingType System: spread over
// hostnames and zones) when they belong to a Service, ReplicationController,
// ReplicaSet or StatefulSet.
//
// Matching pods are counted per node in PreFilter and PreScore; the per-node
// counts are kept between cycles (matchcount), so a workload's next replica
// recounts only the nodes that changed since the previous one.
package podtopologyspread

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	schedconfig "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/matchcount"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.PodTopologySpread

// Upstream's reasons.
const (
	ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints"
	ErrReasonNodeLabelNotMatch   = ErrReasonConstraintsNotMatch + " (missing required label)"
)

// PodTopologySpread filters and scores nodes by how evenly matching pods are
// spread over topology domains.
type PodTopologySpread struct {
	// systemDefaulted: the default constraints are the system's, which do not
	// require nodes to have every topology key to be scored.
	systemDefaulted    bool
	defaultConstraints []corev1.TopologySpreadConstraint
	// workloads finds a pod's Services and controller; nil without default
	// constraints.
	workloads *workloadListers
	snapshot  fw.NodeInfoLister
	parallel  fw.Parallelizer
	counts    *matchcount.Cache
}

var (
	_ fw.PreFilterPlugin     = &PodTopologySpread{}
	_ fw.PreFilterExtensions = &PodTopologySpread{}
	_ fw.FilterPlugin        = &PodTopologySpread{}
	_ fw.PreScorePlugin      = &PodTopologySpread{}
	_ fw.ScorePlugin         = &PodTopologySpread{}
	_ fw.ScoreExtensions     = &PodTopologySpread{}
	_ fw.EnqueueExtensions   = &PodTopologySpread{}
)

// New makes the plugin from PodTopologySpreadArgs (nil: the defaults).
func New(_ context.Context, args runtime.Object, h fw.Handle) (fw.Plugin, error) {
	a, ok := args.(*schedconfig.PodTopologySpreadArgs)
	if args != nil && !ok {
		return nil, fmt.Errorf("want args to be of type PodTopologySpreadArgs, got %T", args)
	}
	if a == nil {
		a = DefaultArgs()
	}
	if err := ValidateArgs(nil, a); err != nil {
		return nil, err
	}
	if h.SnapshotSharedLister() == nil {
		return nil, fmt.Errorf("SnapshotSharedlister is nil")
	}
	pl := &PodTopologySpread{
		defaultConstraints: a.DefaultConstraints,
		snapshot:           h.SnapshotSharedLister(),
		parallel:           h.Parallelizer(),
		counts:             matchcount.New(0),
	}
	if a.DefaultingType == schedconfig.SystemDefaulting || a.DefaultingType == "" {
		pl.defaultConstraints = systemDefaultConstraints
		pl.systemDefaulted = true
	}
	if len(pl.defaultConstraints) > 0 {
		f := h.SharedInformerFactory()
		if f == nil {
			return nil, fmt.Errorf("SharedInformerFactory is nil")
		}
		pl.workloads = &workloadListers{
			services:     f.Core().V1().Services().Lister(),
			rcs:          f.Core().V1().ReplicationControllers().Lister(),
			replicaSets:  f.Apps().V1().ReplicaSets().Lister(),
			statefulSets: f.Apps().V1().StatefulSets().Lister(),
		}
	}
	return pl, nil
}

// Name implements fw.Plugin.
func (*PodTopologySpread) Name() string { return Name }
