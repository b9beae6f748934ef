package daemonset

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/util/podutils"
)

// nodePlan is what one node needs from a DaemonSet.
type nodePlan struct {
	// create: the node needs a daemon pod.
	create bool
	// remove are the pods to delete: surplus, not wanted here, or stopped.
	remove []*corev1.Pod
	// failed and succeeded are the stopped pods among remove, each reported with an event.
	failed, succeeded []*corev1.Pod
}

// planNode decides one node: a daemon pod is created where one should run and
// none is; where pods may stay, stopped ones are deleted (failed ones subject
// to mayDeleteFailed, the controller's back-off), and of several running ones
// the oldest is kept (with maxSurge, the oldest of the old and of the new
// revision, the old one going once the new one is available); where pods may
// not stay they are deleted.
func planNode(ds *appsv1.DaemonSet, node *corev1.Node, pods []*corev1.Pod, hash string, now time.Time, mayDeleteFailed func(*corev1.Pod) bool) nodePlan {
	var out nodePlan
	run, keep := shouldRun(node, ds)
	switch {
	case run && len(pods) == 0:
		out.create = true
	case keep:
		var running []*corev1.Pod
		for _, p := range pods {
			switch {
			case p.DeletionTimestamp != nil:
			case p.Status.Phase == corev1.PodFailed:
				if mayDeleteFailed(p) {
					out.failed = append(out.failed, p)
					out.remove = append(out.remove, p)
				}
			case p.Status.Phase == corev1.PodSucceeded:
				out.succeeded = append(out.succeeded, p)
				out.remove = append(out.remove, p)
			default:
				running = append(running, p)
			}
		}
		sortForKeeping(running)
		if !allowsSurge(ds) {
			// One pod per node: the oldest stays.
			if len(running) > 1 {
				out.remove = append(out.remove, running[1:]...)
			}
			break
		}
		if len(running) == 0 {
			out.create = run
			break
		}
		generation := templateGeneration(ds)
		var oldestNew, oldestOld *corev1.Pod
		for _, p := range running {
			switch {
			case isUpdated(p, hash, generation) && oldestNew == nil:
				oldestNew = p
			case !isUpdated(p, hash, generation) && oldestOld == nil:
				oldestOld = p
			default:
				out.remove = append(out.remove, p)
			}
		}
		if oldestNew != nil && oldestOld != nil &&
			(!podutils.IsPodReady(oldestOld) || podutils.IsPodAvailable(oldestNew, ds.Spec.MinReadySeconds, metav1.NewTime(now))) {
			// The old pod is no help any more, or the new one has taken over.
			out.remove = append(out.remove, oldestOld)
		}
	case len(pods) > 0:
		for _, p := range pods {
			if p.DeletionTimestamp == nil {
				out.remove = append(out.remove, p)
			}
		}
	}
	return out
}

// sortForKeeping orders pods as upstream ranks them for keeping: bound ones
// first, then the oldest, then by name.
func sortForKeeping(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName != "") != (b.Spec.NodeName != "") {
			return a.Spec.NodeName != ""
		}
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
}

// unboundOrphans are pods, not yet bound, meant for nodes that no longer
// exist: nothing would ever place them.
func unboundOrphans(nodes []*corev1.Node, byNode map[string][]*corev1.Pod) []*corev1.Pod {
	exists := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		exists[n.Name] = true
	}
	var out []*corev1.Pod
	for name, pods := range byNode {
		if exists[name] {
			continue
		}
		for _, p := range pods {
			if p.Spec.NodeName == "" {
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
