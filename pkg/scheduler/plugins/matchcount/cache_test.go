package matchcount

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"

	schedcache "github.com/minik8s/minik8s/pkg/scheduler/cache"
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

const zone = corev1.LabelTopologyZone

// question counts pods labelled app=web, skipping nodes labelled skip=yes, and
// counts how often it looked at a node.
func question(calls *atomic.Int32) Question {
	return Question{Key: "app=web", TopologyKey: zone, Count: func(ni *fw.NodeInfo) (int32, bool) {
		calls.Add(1)
		if ni.Node().Labels["skip"] == "yes" {
			return 0, false
		}
		var n int32
		for _, p := range ni.Pods {
			if p.Pod.Labels["app"] == "web" {
				n++
			}
		}
		return n, true
	}}
}

func web(name, node string) *corev1.Pod {
	return pt.Pod("default", name).Label("app", "web").On(node).Obj()
}

// byValue turns a tally into value -> pods for the domains present.
func byValue(t *Tally) map[string]int64 {
	out := map[string]int64{}
	for i := int32(0); int(i) < t.Domains.Len(); i++ {
		if t.Nodes[i] > 0 {
			out[t.Domains.Value(i)] = t.Pods[i]
		}
	}
	return out
}

func TestTallyCountsPerDomain(t *testing.T) {
	nodes := pt.NodeInfos([]*corev1.Node{
		pt.Node("a1", map[string]string{zone: "a"}),
		pt.Node("a2", map[string]string{zone: "a"}),
		pt.Node("b1", map[string]string{zone: "b"}),
		pt.Node("c1", map[string]string{zone: "c", "skip": "yes"}),
		pt.Node("none", nil),
	}, []*corev1.Pod{web("w1", "a1"), web("w2", "a2"), web("w3", "a2"), web("w4", "c1"), web("w5", "none"),
		pt.Pod("default", "other").Label("app", "db").On("b1").Obj()})
	var calls atomic.Int32
	got := New(0).Tally(context.Background(), fw.NewParallelizer(2), nodes, question(&calls))
	want := map[string]int64{"a": 3, "b": 0}
	if !reflect.DeepEqual(byValue(got), want) {
		t.Fatalf("got %v, want %v (a node left out or without the key makes no domain)", byValue(got), want)
	}
	if got.Present() != 2 || got.PodsIn("a") != 3 || got.PodsIn("zz") != 0 {
		t.Fatalf("present %d, a %d, zz %d", got.Present(), got.PodsIn("a"), got.PodsIn("zz"))
	}
	if calls.Load() != 4 {
		t.Fatalf("Count called %d times, want 4 (not for the node without the key)", calls.Load())
	}
}

func TestTallyRecountsOnlyChangedNodes(t *testing.T) {
	c := schedcache.New()
	for _, n := range []*corev1.Node{
		pt.Node("a1", map[string]string{zone: "a"}),
		pt.Node("a2", map[string]string{zone: "a"}),
		pt.Node("b1", map[string]string{zone: "b"}),
	} {
		c.AddNode(n)
	}
	c.AddPod(web("w1", "a1"))
	snap := schedcache.NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	var calls atomic.Int32
	mc := New(0)
	ctx, par := context.Background(), fw.NewParallelizer(2)
	ask := func() map[string]int64 { return byValue(mc.Tally(ctx, par, snap.List(), question(&calls))) }

	if got := ask(); !reflect.DeepEqual(got, map[string]int64{"a": 1, "b": 0}) {
		t.Fatalf("first: %v", got)
	}
	calls.Store(0)
	if got := ask(); !reflect.DeepEqual(got, map[string]int64{"a": 1, "b": 0}) || calls.Load() != 0 {
		t.Fatalf("nothing changed: got %v after %d counts, want the same after none", got, calls.Load())
	}
	c.AddPod(web("w2", "b1"))
	c.UpdateSnapshot(snap)
	calls.Store(0)
	if got := ask(); !reflect.DeepEqual(got, map[string]int64{"a": 1, "b": 1}) || calls.Load() != 1 {
		t.Fatalf("a pod added on b1: got %v after %d counts, want b counted again and only b1 looked at", got, calls.Load())
	}
	c.AddNode(pt.Node("c1", map[string]string{zone: "c"}))
	c.AddPod(web("w3", "c1"))
	c.RemovePod(web("w1", "a1"))
	c.UpdateSnapshot(snap)
	calls.Store(0)
	if got := ask(); !reflect.DeepEqual(got, map[string]int64{"a": 0, "b": 1, "c": 1}) || calls.Load() != 2 {
		t.Fatalf("a node added and a pod removed: got %v after %d counts, want 2 nodes looked at", got, calls.Load())
	}
	c.RemoveNode(pt.Node("b1", nil))
	c.UpdateSnapshot(snap)
	calls.Store(0)
	if got := ask(); !reflect.DeepEqual(got, map[string]int64{"a": 0, "c": 1}) || calls.Load() != 0 {
		t.Fatalf("a node removed: got %v after %d counts, want the rest carried over", got, calls.Load())
	}
}

func TestTallyKeepsQuestionsApartAndForgetsTheOldest(t *testing.T) {
	nodes := pt.NodeInfos([]*corev1.Node{pt.Node("a1", map[string]string{zone: "a"})}, []*corev1.Pod{web("w1", "a1")})
	var calls atomic.Int32
	mc := New(2)
	ctx, par := context.Background(), fw.NewParallelizer(1)
	q := question(&calls)
	for _, key := range []string{"one", "two", "one", "three", "one", "two"} {
		q.Key = key
		mc.Tally(ctx, par, nodes, q)
	}
	// one, two counted; one remembered; three evicts two; one remembered; two evicts three.
	if calls.Load() != 4 {
		t.Fatalf("Count called %d times, want 4", calls.Load())
	}
}

func TestDomainsHandedOutDoNotChange(t *testing.T) {
	nodes := pt.NodeInfos([]*corev1.Node{pt.Node("a1", map[string]string{zone: "a"})}, nil)
	var calls atomic.Int32
	mc := New(0)
	ctx, par := context.Background(), fw.NewParallelizer(1)
	first := mc.Tally(ctx, par, nodes, question(&calls))
	more := append(nodes, pt.NodeInfos([]*corev1.Node{pt.Node("b1", map[string]string{zone: "b"})}, nil)...)
	second := mc.Tally(ctx, par, more, question(&calls))
	if first.Domains.Len() != 1 || second.Domains.Len() != 2 {
		t.Fatalf("domains: first %d, second %d; want 1 and 2", first.Domains.Len(), second.Domains.Len())
	}
	if _, ok := first.Domains.Index("b"); ok {
		t.Fatal("a domain found later showed up in an earlier tally")
	}
}

func TestCountsFollowPreemption(t *testing.T) {
	nodes := pt.NodeInfos([]*corev1.Node{
		pt.Node("a1", map[string]string{zone: "a"}),
		pt.Node("b1", map[string]string{zone: "b"}),
	}, []*corev1.Pod{web("w1", "a1"), web("w2", "a1")})
	var calls atomic.Int32
	c := New(0).Tally(context.Background(), fw.NewParallelizer(1), nodes, question(&calls)).Counts(2)
	if c.Get("a") != 4 || c.Get("b") != 0 || c.Empty() {
		t.Fatalf("weighted counts: a %d, b %d", c.Get("a"), c.Get("b"))
	}
	clone := c.Clone()
	clone.Add("a", -4)
	clone.Add("z", 1)
	if clone.Get("z") != 1 || clone.Empty() {
		t.Fatalf("z: %d", clone.Get("z"))
	}
	clone.Add("z", -1)
	if !clone.Empty() {
		t.Fatal("all counts back to zero, yet not empty")
	}
	if c.Get("a") != 4 {
		t.Fatal("the clone's changes showed in the original")
	}
	got := map[string]int64{}
	c.Each(func(v string, n int64) { got[v] = n })
	if !reflect.DeepEqual(got, map[string]int64{"a": 4}) {
		t.Fatalf("Each: %v", got)
	}
}
