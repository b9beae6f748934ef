package daemonset

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestPlanNode(t *testing.T) {
	surging := func() *appsv1.DaemonSet { return withBudget(newDS(), "0", "1") }
	type podSpec struct {
		hash string
		s    state
		age  time.Duration
	}
	cases := []struct {
		name            string
		ds              *appsv1.DaemonSet
		node            *corev1.Node
		pods            []podSpec
		mayDeleteFailed bool
		create          bool
		remove          string // indexes of pods removed, e.g. "1,0"
		failed          int
		succeeded       int
	}{
		{name: "an eligible node without a pod gets one", ds: newDS(), node: node("n", false), create: true},
		{name: "an eligible node with its pod needs nothing", ds: newDS(), node: node("n", false), pods: []podSpec{{"h", ready, time.Hour}}},
		{name: "of two pods the oldest stays", ds: newDS(), node: node("n", false),
			pods: []podSpec{{"h", ready, time.Minute}, {"h", ready, time.Hour}}, remove: "0"},
		{name: "a failed pod is deleted, and replaced once it is gone", ds: newDS(), node: node("n", false),
			pods: []podSpec{{"h", failed, time.Hour}}, mayDeleteFailed: true, remove: "0", failed: 1},
		{name: "a failed pod in back-off stays for now", ds: newDS(), node: node("n", false), pods: []podSpec{{"h", failed, time.Hour}}},
		{name: "a succeeded pod is deleted", ds: newDS(), node: node("n", false), pods: []podSpec{{"h", succeeded, time.Hour}}, remove: "0", succeeded: 1},
		{name: "a terminating pod is left to finish", ds: newDS(), node: node("n", false), pods: []podSpec{{"h", terminating, time.Hour}}},
		{name: "a node the DaemonSet no longer selects loses its pod", ds: newDS(), node: node("n", true), pods: []podSpec{{"h", ready, time.Hour}}, remove: "0"},
		{name: "a NoSchedule taint leaves the running pod", ds: newDS(), node: node("n", false, taint("x", corev1.TaintEffectNoSchedule)),
			pods: []podSpec{{"h", ready, time.Hour}}},
		{name: "a NoSchedule taint keeps a new pod off", ds: newDS(), node: node("n", false, taint("x", corev1.TaintEffectNoSchedule))},
		{name: "a NoExecute taint evicts the pod", ds: newDS(), node: node("n", false, taint("x", corev1.TaintEffectNoExecute)),
			pods: []podSpec{{"h", ready, time.Hour}}, remove: "0"},
		{name: "with surge a node whose only pod failed gets a new one at once", ds: surging(), node: node("n", false),
			pods: []podSpec{{"h", failed, time.Hour}}, mayDeleteFailed: true, create: true, remove: "0", failed: 1},
		{name: "with surge the old pod stays while the new one is not available", ds: surging(), node: node("n", false),
			pods: []podSpec{{"old", ready, time.Hour}, {"h", notReady, time.Minute}}},
		{name: "with surge the old pod goes once the new one is available", ds: surging(), node: node("n", false),
			pods: []podSpec{{"old", ready, time.Hour}, {"h", ready, time.Minute}}, remove: "0"},
		{name: "with surge an old pod that is not ready goes at once", ds: surging(), node: node("n", false),
			pods: []podSpec{{"old", notReady, time.Hour}, {"h", pending, time.Minute}}, remove: "0"},
		{name: "with surge a second new pod is surplus", ds: surging(), node: node("n", false),
			pods: []podSpec{{"h", ready, time.Hour}, {"h", ready, time.Minute}}, remove: "1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var pods []*corev1.Pod
			index := map[*corev1.Pod]string{}
			for i, s := range c.pods {
				p := dpod(c.ds, "n", s.hash, s.s, s.age)
				pods = append(pods, p)
				index[p] = string(rune('0' + i))
			}
			p := planNode(c.ds, c.node, pods, "h", now, func(*corev1.Pod) bool { return c.mayDeleteFailed })
			var removed []string
			for _, r := range p.remove {
				removed = append(removed, index[r])
			}
			if p.create != c.create || strings.Join(removed, ",") != c.remove || len(p.failed) != c.failed || len(p.succeeded) != c.succeeded {
				t.Errorf("create %v remove %q failed %d succeeded %d, want %v %q %d %d", p.create, strings.Join(removed, ","), len(p.failed), len(p.succeeded),
					c.create, c.remove, c.failed, c.succeeded)
			}
		})
	}
}

func TestUnboundPodsForVanishedNodesAreDeleted(t *testing.T) {
	ds := newDS()
	gone := dpod(ds, "gone", "h", pending, time.Minute)
	gone.Spec.NodeName = ""
	boundGone := dpod(ds, "gone2", "h", ready, time.Minute)
	here := dpod(ds, "here", "h", pending, time.Minute)
	here.Spec.NodeName = ""
	byNode := map[string][]*corev1.Pod{"gone": {gone}, "gone2": {boundGone}, "here": {here}}
	got := unboundOrphans([]*corev1.Node{node("here", false)}, byNode)
	if len(got) != 1 || got[0] != gone {
		t.Errorf("orphans %v", podNames(got))
	}
}
