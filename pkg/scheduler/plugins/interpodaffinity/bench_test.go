package interpodaffinity

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

// benchCluster is 5,000 nodes in 10 zones with 2 pods each: one of 100 web apps,
// and either another app or (withAnti), on every 10th node, a replica of "anti",
// which has required anti-affinity to its own kind on hostname.
func benchCluster(withAnti bool) *pt.Handle {
	nodes := pt.Cluster(5000, 10, func(i int) []*corev1.Pod {
		web := pt.Pod("default", fmt.Sprintf("web-%d", i)).Label("app", fmt.Sprintf("web-%d", i%100)).Obj()
		second := pt.Pod("default", fmt.Sprintf("svc-%d", i)).Label("app", fmt.Sprintf("svc-%d", i%50)).Obj()
		if withAnti && i%10 == 0 {
			second = pt.Pod("default", fmt.Sprintf("anti-%d", i)).Label("app", "anti").
				RequiredAntiAffinity(pt.Term(hostname, app("anti"))).Obj()
		}
		return []*corev1.Pod{web, second}
	})
	h := pt.NewHandle(nil, nodes...)
	h.Parallel = fw.NewParallelizer(16)
	return h
}

// benchCycle runs one pod's cycle as the scheduler does at 5,000 nodes: PreFilter
// over all nodes, Filter over 500 of them (the share searched), PreScore and Score
// over the feasible ones, NormalizeScore. Warm: as when replicas of one workload
// follow each other, the previous pod landed on one node, which is the only node
// changed since. Cold: the plugin has never seen the question.
func benchCycle(b *testing.B, pod *corev1.Pod, warm bool) {
	benchCycleIn(b, benchCluster(true), pod, warm)
}

func benchCycleIn(b *testing.B, h *pt.Handle, pod *corev1.Pod, warm bool) {
	pl, err := New(context.Background(), nil, h)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	all := h.Snapshot.List()
	window := all[:500]
	feasible := make([]*fw.NodeInfo, 0, len(window))
	scores := make(fw.NodeScoreList, 0, len(window))
	cycle := func(p *InterPodAffinity) {
		state := fw.NewCycleState()
		feasible = feasible[:0]
		if _, st := p.PreFilter(ctx, state, pod, all); st.IsSkip() {
			feasible = append(feasible, window...)
		} else {
			for _, ni := range window {
				if p.Filter(ctx, state, pod, ni).IsSuccess() {
					feasible = append(feasible, ni)
				}
			}
		}
		if st := p.PreScore(ctx, state, pod, feasible); st.IsSkip() {
			return
		}
		scores = scores[:0]
		for _, ni := range feasible {
			s, _ := p.Score(ctx, state, pod, ni)
			scores = append(scores, fw.NodeScore{Name: ni.Node().Name, Score: s})
		}
		p.NormalizeScore(ctx, state, pod, scores)
	}
	cycle(pl.(*InterPodAffinity))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := pt.StartCPU()
	for i := range b.N {
		p := pl.(*InterPodAffinity)
		if warm {
			pt.PlaceOne(h, (i*7919)%len(all), pod)
		} else {
			b.StopTimer()
			fresh, _ := New(ctx, nil, h)
			p = fresh.(*InterPodAffinity)
			b.StartTimer()
		}
		cycle(p)
	}
	b.StopTimer()
	cpu.Report(b)
}

func antiPod() *corev1.Pod {
	return pt.Pod("default", "anti-new").Label("app", "anti").RequiredAntiAffinity(pt.Term(hostname, app("anti"))).Obj()
}

func nearWebPod() *corev1.Pod {
	return pt.Pod("default", "near-web").PreferredAffinity(10, pt.Term(zone, app("web-7"))).Obj()
}

// A new replica of "anti": its own anti-affinity concerns 500 pods among
// 10,000, and the 500 existing replicas' anti-affinity matches it.
func BenchmarkCycleRequiredAntiAffinityOnHostname(b *testing.B) { benchCycle(b, antiPod(), true) }

// The same, the first time the plugin counts pods for that term: every pod is
// looked at.
func BenchmarkCycleRequiredAntiAffinityOnHostnameCold(b *testing.B) { benchCycle(b, antiPod(), false) }

// A pod with preferred affinity to one web app's zone.
func BenchmarkCyclePreferredAffinityOnZone(b *testing.B) { benchCycle(b, nearWebPod(), true) }

// A pod with no terms that no anti-affinity matches: both extension points skip
// after looking at the 500 nodes with anti-affinity pods.
func BenchmarkCycleNoAffinity(b *testing.B) {
	benchCycle(b, pt.Pod("default", "plain").Label("app", "plain").Obj(), true)
}

// A pod with no terms in a cluster where no pod has any: both extension points
// skip at once.
func BenchmarkCycleNoAffinityInAClusterWithout(b *testing.B) {
	benchCycleIn(b, benchCluster(false), pt.Pod("default", "plain").Label("app", "plain").Obj(), true)
}
