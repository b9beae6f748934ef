package interpodaffinity

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

const zone = corev1.LabelTopologyZone

// namespace makes a namespace with labels.
func namespace(name string, labels map[string]string) *corev1.Namespace {
	l := map[string]string{corev1.LabelMetadataName: name}
	for k, v := range labels {
		l[k] = v
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

// newPlugin makes the plugin over the nodes and pods, with the namespaces in its
// informer cache.
func newPlugin(t testing.TB, args runtime.Object, nodes []*corev1.Node, pods []*corev1.Pod, nss ...*corev1.Namespace) (*InterPodAffinity, *pt.Handle) {
	t.Helper()
	// The informers never run: tests fill their indexers, so no client is needed.
	f := informers.NewSharedInformerFactory(nil, 0)
	idx := f.Core().V1().Namespaces().Informer().GetIndexer()
	for _, ns := range nss {
		if err := idx.Add(ns); err != nil {
			t.Fatal(err)
		}
	}
	h := pt.NewHandle(f, pt.NodeInfos(nodes, pods)...)
	pl, err := New(context.Background(), args, h)
	if err != nil {
		t.Fatal(err)
	}
	return pl.(*InterPodAffinity), h
}

// filterAll runs PreFilter and then Filter on every node; a PreFilter that skips
// or rejects is returned as the status of every node.
func filterAll(t testing.TB, pl *InterPodAffinity, h *pt.Handle, pod *corev1.Pod) (*fw.CycleState, map[string]*fw.Status) {
	t.Helper()
	ctx := context.Background()
	state := fw.NewCycleState()
	out := map[string]*fw.Status{}
	_, st := pl.PreFilter(ctx, state, pod, h.Snapshot.List())
	for _, ni := range h.Snapshot.List() {
		if !st.IsSuccess() {
			out[ni.Node().Name] = st
			continue
		}
		out[ni.Node().Name] = pl.Filter(ctx, state, pod, ni)
	}
	return state, out
}

// scoreAll runs PreScore, Score and NormalizeScore over every node; nil when
// PreScore skips.
func scoreAll(t testing.TB, pl *InterPodAffinity, h *pt.Handle, pod *corev1.Pod) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	state := fw.NewCycleState()
	nodes := h.Snapshot.List()
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

// statusString is "" for success, else code and message, for comparisons.
func statusString(s *fw.Status) string {
	if s.IsSuccess() {
		return ""
	}
	return s.String()
}
