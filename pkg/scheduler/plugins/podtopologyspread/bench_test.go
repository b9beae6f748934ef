package podtopologyspread

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

// benchCluster is 5,000 nodes in 10 zones with 2 pods each: one of 100 web
// apps, and either another app or, on every 7th node, a replica of "spread"
// (owned by ReplicaSet spread-abc), 715 in all.
func benchCluster(b *testing.B) *pt.Handle {
	nodes := pt.Cluster(5000, 10, func(i int) []*corev1.Pod {
		web := pt.Pod("default", fmt.Sprintf("web-%d", i)).Label("app", fmt.Sprintf("web-%d", i%100)).Obj()
		second := pt.Pod("default", fmt.Sprintf("svc-%d", i)).Label("app", fmt.Sprintf("svc-%d", i%50)).Obj()
		if i%7 == 0 {
			second = pt.Pod("default", fmt.Sprintf("spread-%d", i)).Label("app", "spread").OwnedBy("apps/v1", "ReplicaSet", "spread-abc").Obj()
		}
		return []*corev1.Pod{web, second}
	})
	f := informers.NewSharedInformerFactory(nil, 0)
	if err := f.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(replicaSet("default", "spread-abc", app("spread"))); err != nil {
		b.Fatal(err)
	}
	h := pt.NewHandle(f, nodes...)
	h.Parallel = fw.NewParallelizer(16)
	return h
}

// benchCycle runs one pod's cycle as the scheduler does at 5,000 nodes: PreFilter
// over all nodes, Filter over 500 of them (the share searched), PreScore and Score
// over the feasible ones, NormalizeScore. Warm: as when replicas of one workload
// follow each other, the previous pod landed on one node, the only node changed
// since. Cold: the plugin has never counted for this pod's selector.
func benchCycle(b *testing.B, pod *corev1.Pod, warm bool) {
	h := benchCluster(b)
	ctx := context.Background()
	newPlugin := func() *PodTopologySpread {
		pl, err := New(ctx, nil, h)
		if err != nil {
			b.Fatal(err)
		}
		return pl.(*PodTopologySpread)
	}
	pl := newPlugin()
	all := h.Snapshot.List()
	window := all[:500]
	feasible := make([]*fw.NodeInfo, 0, len(window))
	scores := make(fw.NodeScoreList, 0, len(window))
	cycle := func(p *PodTopologySpread) {
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
	cycle(pl)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := pt.StartCPU()
	for i := range b.N {
		p := pl
		if warm {
			pt.PlaceOne(h, (i*7919)%len(all), pod)
		} else {
			b.StopTimer()
			p = newPlugin()
			b.StartTimer()
		}
		cycle(p)
	}
	b.StopTimer()
	cpu.Report(b)
}

func zoneSpreadPod() *corev1.Pod {
	return pt.Pod("default", "spread-new").Label("app", "spread").Spread(1, zone, corev1.DoNotSchedule, app("spread")).Obj()
}

// A replica with one DoNotSchedule constraint on zone.
func BenchmarkCycleZoneSpread(b *testing.B) { benchCycle(b, zoneSpreadPod(), true) }

// The same, the first time the plugin counts for that selector.
func BenchmarkCycleZoneSpreadCold(b *testing.B) { benchCycle(b, zoneSpreadPod(), false) }

// A replica without constraints of its own: the system defaults (hostname and
// zone, ScheduleAnyway) with its ReplicaSet's selector.
func BenchmarkCycleSystemDefaultSpread(b *testing.B) {
	benchCycle(b, pt.Pod("default", "spread-new").Label("app", "spread").OwnedBy("apps/v1", "ReplicaSet", "spread-abc").Obj(), true)
}

// A pod with no constraints that belongs to nothing: both extension points skip.
func BenchmarkCycleNoSpread(b *testing.B) {
	benchCycle(b, pt.Pod("default", "plain").Label("app", "plain").Obj(), true)
}
