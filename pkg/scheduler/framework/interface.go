package framework

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
)

// MaxNodeScore and MinNodeScore bound what a score plugin returns after
// normalization.
const (
	MaxNodeScore int64 = 100
	MinNodeScore int64 = 0
	// MaxTotalScore bounds the weighted sum of all plugins' scores.
	MaxTotalScore int64 = 1<<63 - 1
)

// Plugin is what every plugin is: a name. It implements whichever extension
// points below it needs.
type Plugin interface {
	Name() string
}

// Factory builds a plugin from its arguments (nil or the decoded pluginConfig
// args) and the framework handle.
type Factory func(ctx context.Context, args runtime.Object, h Handle) (Plugin, error)

// PreEnqueuePlugin decides whether a pod may enter the active queue at all
// (scheduling gates).
type PreEnqueuePlugin interface {
	Plugin
	PreEnqueue(ctx context.Context, pod *corev1.Pod) *Status
}

// QueueSortPlugin orders the active queue. A profile has exactly one.
type QueueSortPlugin interface {
	Plugin
	Less(a, b *QueuedPodInfo) bool
}

// EnqueueExtensions is implemented by plugins that can reject pods: it lists the
// cluster events that can make a pod they rejected schedulable again.
type EnqueueExtensions interface {
	Plugin
	EventsToRegister(ctx context.Context) ([]ClusterEventWithHint, error)
}

// PreFilterResult narrows the nodes worth filtering; nil NodeNames means all.
type PreFilterResult struct {
	NodeNames map[string]struct{}
}

// AllNodes says whether every node remains.
func (r *PreFilterResult) AllNodes() bool { return r == nil || r.NodeNames == nil }

// Merge intersects two results.
func (r *PreFilterResult) Merge(o *PreFilterResult) *PreFilterResult {
	if r.AllNodes() {
		return o
	}
	if o.AllNodes() {
		return r
	}
	out := &PreFilterResult{NodeNames: map[string]struct{}{}}
	for n := range r.NodeNames {
		if _, ok := o.NodeNames[n]; ok {
			out.NodeNames[n] = struct{}{}
		}
	}
	return out
}

// PreFilterPlugin computes per-pod state before filtering, and may reject the pod
// outright or narrow the nodes.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *corev1.Pod, nodes []*NodeInfo) (*PreFilterResult, *Status)
	// PreFilterExtensions lets preemption update the state as pods are removed or
	// added; nil when the state does not depend on other pods.
	PreFilterExtensions() PreFilterExtensions
}

// PreFilterExtensions update a PreFilter's state when preemption removes or adds a pod.
type PreFilterExtensions interface {
	AddPod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToAdd *PodInfo, nodeInfo *NodeInfo) *Status
	RemovePod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status
}

// FilterPlugin says whether the pod fits on a node. It is called concurrently for
// different nodes and must not change shared state.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeInfo *NodeInfo) *Status
}

// PostFilterResult is what a PostFilter plugin achieved. A nil result leaves
// the pod's nominated node as it is; a non-nil one sets it to NominatedNodeName,
// and an empty name clears it (upstream's ModeOverride).
type PostFilterResult struct {
	// NominatedNodeName is where the pod should go once preemption completes.
	NominatedNodeName string
}

// PostFilterPlugin runs when no node fits (preemption).
type PostFilterPlugin interface {
	Plugin
	PostFilter(ctx context.Context, state *CycleState, pod *corev1.Pod, statuses *NodeToStatus) (*PostFilterResult, *Status)
}

// PreScorePlugin computes state shared by Score over the feasible nodes.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *corev1.Pod, nodes []*NodeInfo) *Status
}

// NodeScore is a node's score from one plugin or in total.
type NodeScore struct {
	Name  string
	Score int64
}

// NodeScoreList is scores in node order.
type NodeScoreList []NodeScore

// ScorePlugin ranks feasible nodes. Called concurrently for different nodes.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeInfo *NodeInfo) (int64, *Status)
	// ScoreExtensions normalizes raw scores to [MinNodeScore, MaxNodeScore]; nil
	// when Score already answers in that range.
	ScoreExtensions() ScoreExtensions
}

// ScoreExtensions normalizes scores.
type ScoreExtensions interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *corev1.Pod, scores NodeScoreList) *Status
}

// ReservePlugin is told when a node is chosen (Reserve) and when the choice is
// undone (Unreserve, which must be idempotent).
type ReservePlugin interface {
	Plugin
	Reserve(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string) *Status
	Unreserve(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string)
}

// PermitPlugin approves or rejects the binding of a reserved pod.
type PermitPlugin interface {
	Plugin
	Permit(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string) *Status
}

// PreBindPlugin runs before binding (volume binding).
type PreBindPlugin interface {
	Plugin
	PreBind(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string) *Status
}

// BindPlugin binds the pod. A Skip status passes to the next bind plugin.
type BindPlugin interface {
	Plugin
	Bind(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string) *Status
}

// PostBindPlugin is told of a successful binding.
type PostBindPlugin interface {
	Plugin
	PostBind(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeName string)
}

// NodeInfoLister reads the scheduling cycle's snapshot of the cluster.
type NodeInfoLister interface {
	// List is every node, in the order the scheduler walks them.
	List() []*NodeInfo
	// HavePodsWithAffinityList are the nodes with pods that have affinity terms.
	HavePodsWithAffinityList() []*NodeInfo
	// HavePodsWithRequiredAntiAffinityList are the nodes with pods that have
	// required anti-affinity terms.
	HavePodsWithRequiredAntiAffinityList() []*NodeInfo
	// Get returns one node's info.
	Get(nodeName string) (*NodeInfo, error)
	// NumNodes is len(List()).
	NumNodes() int
}

// Handle is what a plugin gets from the framework.
type Handle interface {
	// SnapshotSharedLister is the cycle's snapshot; valid during a cycle.
	SnapshotSharedLister() NodeInfoLister
	ClientSet() kubernetes.Interface
	SharedInformerFactory() informers.SharedInformerFactory
	EventRecorder() events.EventRecorder
	// Parallelizer runs work over pieces on the scheduler's workers.
	Parallelizer() Parallelizer
	// NominatedPodsForNode are pods that preempted others to go to a node and wait
	// for them to go.
	NominatedPodsForNode(nodeName string) []*PodInfo
	// RunFilterPluginsWithNominatedPods runs the profile's filters as if the
	// nominated pods of higher or equal priority were already on the node.
	RunFilterPluginsWithNominatedPods(ctx context.Context, state *CycleState, pod *corev1.Pod, nodeInfo *NodeInfo) *Status
	// RunPreFilterExtensionAddPod and RemovePod replay a pod's addition or removal
	// through every PreFilter plugin's extensions.
	RunPreFilterExtensionAddPod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToAdd *PodInfo, nodeInfo *NodeInfo) *Status
	RunPreFilterExtensionRemovePod(ctx context.Context, state *CycleState, podToSchedule *corev1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status
	// ProfileName is the profile's schedulerName.
	ProfileName() string
}
