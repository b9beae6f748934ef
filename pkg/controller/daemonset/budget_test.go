package daemonset

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestRollingUpdate(t *testing.T) {
	// nodes are n0..n(k-1), all eligible unless listed in plain.
	type nodePods []struct {
		hash string
		s    state
	}
	one := func(hash string, s state) nodePods {
		return nodePods{{hash, s}}
	}
	cases := []struct {
		name        string
		unavailable string
		surge       string
		nodes       []nodePods
		plain       []int // nodes the DaemonSet no longer selects
		remove      string
		create      string
	}{
		{name: "maxUnavailable 1 replaces one old pod at a time", unavailable: "1", surge: "0",
			nodes: []nodePods{one("old", ready), one("old", ready), one("old", ready)}, remove: "n0"},
		{name: "maxUnavailable 2 replaces two at once", unavailable: "2", surge: "0",
			nodes: []nodePods{one("old", ready), one("old", ready), one("old", ready)}, remove: "n0,n1"},
		{name: "a percentage of nodes rounds up", unavailable: "34%", surge: "0",
			nodes: []nodePods{one("old", ready), one("old", ready), one("old", ready)}, remove: "n0,n1"},
		{name: "a new pod not yet available uses up the budget", unavailable: "1", surge: "0",
			nodes: []nodePods{one("h", notReady), one("old", ready), one("old", ready)}},
		{name: "a node waiting for its new pod counts as unavailable", unavailable: "1", surge: "0",
			nodes: []nodePods{nil, one("old", ready)}},
		{name: "an old pod that is not available is replaced whatever the budget", unavailable: "1", surge: "0",
			nodes: []nodePods{one("h", notReady), one("old", notReady), one("old", ready)}, remove: "n1"},
		{name: "nothing is done once every pod is updated", unavailable: "1", surge: "0",
			nodes: []nodePods{one("h", ready), one("h", ready)}},
		{name: "maxSurge 1 starts one new pod next to an old one", unavailable: "0", surge: "1",
			nodes: []nodePods{one("old", ready), one("old", ready), one("old", ready)}, create: "n0"},
		{name: "a surge pod not yet available holds the others back", unavailable: "0", surge: "1",
			nodes: []nodePods{{{"old", ready}, {"h", notReady}}, one("old", ready)}},
		{name: "an available surge pod retires its old pod and the next node surges", unavailable: "0", surge: "1",
			nodes: []nodePods{{{"old", ready}, {"h", ready}}, one("old", ready)}, remove: "n0", create: "n1"},
		{name: "with surge an unavailable old pod gets its replacement at once", unavailable: "0", surge: "1",
			nodes: []nodePods{{{"old", ready}, {"h", notReady}}, one("old", notReady)}, create: "n1"},
		{name: "with surge an old pod on a node no longer selected stays while the others are not available", unavailable: "0", surge: "1",
			nodes: []nodePods{one("h", notReady), one("old", ready)}, plain: []int{1}},
		{name: "with surge an old pod on a node no longer selected goes once the others make up for it", unavailable: "0", surge: "1",
			nodes: []nodePods{one("h", ready), one("old", ready)}, plain: []int{1}, remove: "n1"},
		{name: "both budgets zero falls back to one unavailable", unavailable: "0", surge: "0",
			nodes: []nodePods{one("old", ready), one("old", ready)}, remove: "n0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds := withBudget(newDS(), c.unavailable, c.surge)
			nodes := map[string]*corev1.Node{}
			byNode := map[string][]*corev1.Pod{}
			desired := 0
			owner := map[*corev1.Pod]string{}
			for i, pods := range c.nodes {
				name := fmt.Sprintf("n%d", i)
				plain := false
				for _, p := range c.plain {
					plain = plain || p == i
				}
				nodes[name] = node(name, plain)
				if !plain {
					desired++
					byNode[name] = nil
				}
				for _, ps := range pods {
					p := dpod(ds, name, ps.hash, ps.s, time.Hour)
					byNode[name] = append(byNode[name], p)
					owner[p] = name
				}
			}
			r, err := rollingUpdate(ds, nodes, byNode, desired, "h", now)
			if err != nil {
				t.Fatal(err)
			}
			var removed []string
			for _, p := range r.remove {
				removed = append(removed, owner[p])
			}
			if strings.Join(removed, ",") != c.remove || strings.Join(r.create, ",") != c.create {
				t.Errorf("remove %v create %v, want %q %q", removed, r.create, c.remove, c.create)
			}
		})
	}
}

func TestComputeCounts(t *testing.T) {
	ds := newDS()
	ds.Spec.MinReadySeconds = 10
	nodes := []*corev1.Node{node("a", false), node("b", false), node("c", false), node("d", true), node("e", false)}
	byNode := map[string][]*corev1.Pod{
		"a": {dpod(ds, "a", "h", ready, time.Hour)},
		"b": {dpod(ds, "b", "old", justReady, time.Hour)},
		"c": {dpod(ds, "c", "h", pending, time.Minute)},
		"d": {dpod(ds, "d", "h", ready, time.Hour)},
	}
	c := computeCounts(ds, nodes, byNode, "h", now)
	want := counts{desired: 4, current: 3, misscheduled: 1, ready: 2, updated: 2, available: 1, unavailable: 3}
	if c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	var s appsv1.DaemonSetStatus
	c.apply(&s)
	withStatus := ds.DeepCopy()
	withStatus.Status = s
	withStatus.Status.ObservedGeneration = 1
	if !c.shownBy(withStatus) || c.shownBy(ds) {
		t.Error("shownBy")
	}
}
