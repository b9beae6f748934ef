package podtopologyspread

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	schedconfig "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

const (
	zone     = corev1.LabelTopologyZone
	hostname = corev1.LabelHostname
)

func app(v string) map[string]string { return map[string]string{"app": v} }

// argsOrNil keeps a nil *PodTopologySpreadArgs from becoming a non-nil interface.
func argsOrNil(a *schedconfig.PodTopologySpreadArgs) runtime.Object {
	if a == nil {
		return nil
	}
	return a
}

// newPlugin makes the plugin over the nodes and pods; objs (Services, controllers)
// are put in its informers' caches.
func newPlugin(t testing.TB, args *schedconfig.PodTopologySpreadArgs, nodes []*corev1.Node, pods []*corev1.Pod, objs ...runtime.Object) (*PodTopologySpread, *pt.Handle) {
	t.Helper()
	// The informers never run: tests fill their indexers, so no client is needed.
	f := informers.NewSharedInformerFactory(nil, 0)
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Service:
			err = f.Core().V1().Services().Informer().GetIndexer().Add(o)
		case *corev1.ReplicationController:
			err = f.Core().V1().ReplicationControllers().Informer().GetIndexer().Add(o)
		case *appsv1.ReplicaSet:
			err = f.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(o)
		case *appsv1.StatefulSet:
			err = f.Apps().V1().StatefulSets().Informer().GetIndexer().Add(o)
		default:
			t.Fatalf("no informer for %T", o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	h := pt.NewHandle(f, pt.NodeInfos(nodes, pods)...)
	pl, err := New(context.Background(), argsOrNil(args), h)
	if err != nil {
		t.Fatal(err)
	}
	return pl.(*PodTopologySpread), h
}

// filterAll runs PreFilter and then Filter on every node; a PreFilter that
// skips or fails is every node's status.
func filterAll(t testing.TB, pl *PodTopologySpread, h *pt.Handle, pod *corev1.Pod) (*fw.CycleState, map[string]string) {
	t.Helper()
	ctx := context.Background()
	state := fw.NewCycleState()
	out := map[string]string{}
	_, st := pl.PreFilter(ctx, state, pod, h.Snapshot.List())
	for _, ni := range h.Snapshot.List() {
		if !st.IsSuccess() {
			out[ni.Node().Name] = st.String()
			continue
		}
		out[ni.Node().Name] = statusString(pl.Filter(ctx, state, pod, ni))
	}
	return state, out
}

// scoreAll runs PreScore over the given feasible nodes (all if none named),
// Score and NormalizeScore; nil when PreScore skips.
func scoreAll(t testing.TB, pl *PodTopologySpread, h *pt.Handle, pod *corev1.Pod, feasibleNames ...string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	state := fw.NewCycleState()
	var nodes []*fw.NodeInfo
	if len(feasibleNames) == 0 {
		nodes = h.Snapshot.List()
	}
	for _, n := range feasibleNames {
		ni, err := h.Snapshot.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, ni)
	}
	st := pl.PreScore(ctx, state, pod, nodes)
	if st.IsSkip() {
		return nil
	}
	if !st.IsSuccess() {
		t.Fatalf("PreScore: %v", st)
	}
	scores := make(fw.NodeScoreList, len(nodes))
	for i, ni := range nodes {
		s, st := pl.Score(ctx, state, pod, ni)
		if !st.IsSuccess() {
			t.Fatalf("Score %s: %v", ni.Node().Name, st)
		}
		scores[i] = fw.NodeScore{Name: ni.Node().Name, Score: s}
	}
	if st := pl.NormalizeScore(ctx, state, pod, scores); !st.IsSuccess() {
		t.Fatalf("NormalizeScore: %v", st)
	}
	out := map[string]int64{}
	for _, s := range scores {
		out[s.Name] = s.Score
	}
	return out
}

func statusString(s *fw.Status) string {
	if s.IsSuccess() {
		return ""
	}
	return s.String()
}

func replicaSet(ns, name string, matchLabels map[string]string) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: matchLabels}}}
}

func service(ns, name string, selector map[string]string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Selector: selector}}
}
