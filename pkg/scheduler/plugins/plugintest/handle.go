// Package plugintest gives plugin tests and benchmarks a framework.Handle over a
// fixed snapshot, and small builders for nodes and pods, so a plugin can be
// driven through its extension points without a running scheduler.
package plugintest

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"

	"github.com/minik8s/minik8s/pkg/scheduler/cache"
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// Handle is a framework.Handle over a fixed snapshot. Informers is the factory
// plugins take listers from; tests fill its indexers directly.
type Handle struct {
	Snapshot  *cache.Snapshot
	Informers informers.SharedInformerFactory
	Parallel  fw.Parallelizer
}

var _ fw.Handle = &Handle{}

// NewHandle makes a handle over the nodes with the factory (nil: none) and two
// workers, like the machines this runs on.
func NewHandle(f informers.SharedInformerFactory, nodes ...*fw.NodeInfo) *Handle {
	return &Handle{Snapshot: cache.NewSnapshot(nodes...), Informers: f, Parallel: fw.NewParallelizer(2)}
}

// SnapshotSharedLister implements framework.Handle.
func (h *Handle) SnapshotSharedLister() fw.NodeInfoLister { return h.Snapshot }

// ClientSet implements framework.Handle; plugin tests make no API calls.
func (h *Handle) ClientSet() kubernetes.Interface { return nil }

// SharedInformerFactory implements framework.Handle.
func (h *Handle) SharedInformerFactory() informers.SharedInformerFactory { return h.Informers }

// EventRecorder implements framework.Handle.
func (h *Handle) EventRecorder() events.EventRecorder { return nil }

// Parallelizer implements framework.Handle.
func (h *Handle) Parallelizer() fw.Parallelizer { return h.Parallel }

// NominatedPodsForNode implements framework.Handle: none.
func (h *Handle) NominatedPodsForNode(string) []*fw.PodInfo { return nil }

// RunFilterPluginsWithNominatedPods implements framework.Handle: no other plugins.
func (h *Handle) RunFilterPluginsWithNominatedPods(context.Context, *fw.CycleState, *corev1.Pod, *fw.NodeInfo) *fw.Status {
	return nil
}

// RunPreFilterExtensionAddPod implements framework.Handle: no other plugins.
func (h *Handle) RunPreFilterExtensionAddPod(context.Context, *fw.CycleState, *corev1.Pod, *fw.PodInfo, *fw.NodeInfo) *fw.Status {
	return nil
}

// RunPreFilterExtensionRemovePod implements framework.Handle: no other plugins.
func (h *Handle) RunPreFilterExtensionRemovePod(context.Context, *fw.CycleState, *corev1.Pod, *fw.PodInfo, *fw.NodeInfo) *fw.Status {
	return nil
}

// ProfileName implements framework.Handle.
func (h *Handle) ProfileName() string { return "default-scheduler" }
