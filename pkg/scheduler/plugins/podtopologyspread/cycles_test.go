package podtopologyspread

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"

	schedcache "github.com/minik8s/minik8s/pkg/scheduler/cache"
	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

// Replicas scheduled one after another through the scheduler's cache and
// snapshot: the counts the plugin keeps between cycles must follow every pod
// assumed, every pod removed and every node added.
func TestCountsKeptBetweenCyclesFollowTheSnapshot(t *testing.T) {
	c := schedcache.New()
	for _, n := range fourNodes() {
		c.AddNode(n)
	}
	h := &pt.Handle{Snapshot: schedcache.NewEmptySnapshot(), Informers: informers.NewSharedInformerFactory(nil, 0), Parallel: fw.NewParallelizer(2)}
	p, err := New(context.Background(), nil, h)
	if err != nil {
		t.Fatal(err)
	}
	pl := p.(*PodTopologySpread)
	pod := webPod().Spread(1, zone, corev1.DoNotSchedule, app("web")).Obj()
	fits := func() map[string]bool {
		c.UpdateSnapshot(h.Snapshot)
		_, got := filterAll(t, pl, h, pod)
		out := map[string]bool{}
		for n, st := range got {
			out[n] = st == ""
		}
		return out
	}
	if got := fits(); !got["a1"] || !got["b1"] {
		t.Fatalf("empty cluster: %v", got)
	}
	if err := c.AssumePod(web("w1", "a1")); err != nil {
		t.Fatal(err)
	}
	if got := fits(); got["a1"] || got["a2"] || !got["b2"] {
		t.Fatalf("after w1 assumed on a1, zone a must be refused: %v", got)
	}
	if err := c.AssumePod(web("w2", "b2")); err != nil {
		t.Fatal(err)
	}
	if got := fits(); !got["a1"] || !got["b1"] {
		t.Fatalf("one pod per zone, both fit: %v", got)
	}
	c.AddNode(pt.Node("c1", map[string]string{zone: "c"}))
	if got := fits(); got["a1"] || got["b1"] || !got["c1"] {
		t.Fatalf("an empty zone c appeared, only it fits: %v", got)
	}
	c.ForgetPod(web("w1", "a1"))
	if got := fits(); !got["a1"] || got["b1"] || !got["c1"] {
		t.Fatalf("w1 forgotten, zone a is empty again: %v", got)
	}
}
