package nodelifecycle

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

func cond(t corev1.NodeConditionType, s corev1.ConditionStatus) corev1.NodeCondition {
	return corev1.NodeCondition{Type: t, Status: s}
}

func keys(taints []corev1.Taint) []string {
	var out []string
	for _, t := range taints {
		out = append(out, t.Key+":"+string(t.Effect))
	}
	return out
}

func TestNoScheduleChanges(t *testing.T) {
	cases := []struct {
		name          string
		conds         []corev1.NodeCondition
		unschedulable bool
		taints        []corev1.Taint
		add, remove   []string
	}{
		{name: "a Ready node with no pressure needs no taint"},
		{name: "a node whose Ready is False gets the not-ready taint", conds: []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionFalse)},
			add: []string{"node.kubernetes.io/not-ready:NoSchedule"}},
		{name: "a node whose Ready is Unknown gets the unreachable taint", conds: []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionUnknown)},
			add: []string{"node.kubernetes.io/unreachable:NoSchedule"}},
		{name: "pressure conditions and a broken network each get their taint",
			conds: []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue), cond(corev1.NodeMemoryPressure, corev1.ConditionTrue),
				cond(corev1.NodeDiskPressure, corev1.ConditionTrue), cond(corev1.NodePIDPressure, corev1.ConditionTrue), cond(corev1.NodeNetworkUnavailable, corev1.ConditionTrue)},
			add: []string{"node.kubernetes.io/memory-pressure:NoSchedule", "node.kubernetes.io/disk-pressure:NoSchedule",
				"node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/network-unavailable:NoSchedule"}},
		{name: "a cordoned node gets the unschedulable taint", unschedulable: true, add: []string{"node.kubernetes.io/unschedulable:NoSchedule"}},
		{name: "the not-ready taint of a node that turned Ready is removed",
			conds:  []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue)},
			taints: []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}},
			remove: []string{"node.kubernetes.io/not-ready:NoSchedule"}},
		{name: "a user's own taints and NoExecute taints are left alone",
			taints: []corev1.Taint{{Key: "dedicated", Effect: corev1.TaintEffectNoSchedule}, {Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}}},
		{name: "an uncordoned node loses the unschedulable taint",
			taints: []corev1.Taint{{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}},
			remove: []string{"node.kubernetes.io/unschedulable:NoSchedule"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := &corev1.Node{Spec: corev1.NodeSpec{Unschedulable: c.unschedulable, Taints: c.taints}, Status: corev1.NodeStatus{Conditions: c.conds}}
			add, remove := noScheduleChanges(n)
			if !reflect.DeepEqual(keys(add), c.add) || !reflect.DeepEqual(keys(remove), c.remove) {
				t.Errorf("add %v remove %v, want add %v remove %v", keys(add), keys(remove), c.add, c.remove)
			}
		})
	}
}

func TestApplyTaints(t *testing.T) {
	old := metav1.NewTime(t0.Add(-time.Hour))
	user := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	stamped := unreachableNoExecute
	stamped.TimeAdded = &old
	cases := []struct {
		name        string
		taints      []corev1.Taint
		add, remove []corev1.Taint
		want        []string
		changed     bool
		keptTime    bool
	}{
		{name: "adding a missing taint appends it", taints: []corev1.Taint{user}, add: []corev1.Taint{unreachableNoExecute},
			want: []string{"dedicated:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"}, changed: true},
		{name: "a taint already there keeps the time it was added", taints: []corev1.Taint{stamped}, add: []corev1.Taint{unreachableNoExecute},
			want: []string{"node.kubernetes.io/unreachable:NoExecute"}, keptTime: true},
		{name: "swapping unreachable for not-ready removes one and adds the other", taints: []corev1.Taint{stamped, user},
			add: []corev1.Taint{notReadyNoExecute}, remove: []corev1.Taint{unreachableNoExecute},
			want: []string{"dedicated:NoSchedule", "node.kubernetes.io/not-ready:NoExecute"}, changed: true},
		{name: "removing a taint that is not there changes nothing", taints: []corev1.Taint{user}, remove: []corev1.Taint{notReadyNoExecute},
			want: []string{"dedicated:NoSchedule"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, changed := applyTaints(c.taints, c.add, c.remove, t0)
			if !reflect.DeepEqual(keys(got), c.want) || changed != c.changed {
				t.Errorf("got %v changed=%v, want %v changed=%v", keys(got), changed, c.want, c.changed)
			}
			for _, g := range got {
				if g.Key == corev1.TaintNodeUnreachable && c.keptTime && !g.TimeAdded.Equal(&old) {
					t.Errorf("timeAdded changed to %v", g.TimeAdded)
				}
				if (g.Key == corev1.TaintNodeNotReady || g.Key == corev1.TaintNodeUnreachable) && c.changed && g.TimeAdded == nil {
					t.Errorf("added taint %s has no timeAdded", g.Key)
				}
			}
		})
	}
}

func readyConds(ready, notReady int) []*corev1.NodeCondition {
	var out []*corev1.NodeCondition
	for i := 0; i < ready; i++ {
		c := cond(corev1.NodeReady, corev1.ConditionTrue)
		out = append(out, &c)
	}
	for i := 0; i < notReady; i++ {
		c := cond(corev1.NodeReady, corev1.ConditionUnknown)
		out = append(out, &c)
	}
	return out
}

func TestZoneState(t *testing.T) {
	cases := []struct {
		name            string
		ready, notReady int
		want            ZoneState
	}{
		{"a zone with every node Ready is normal", 3, 0, stateNormal},
		{"a zone with no Ready node is fully disrupted", 0, 2, stateFullDisruption},
		{"two not-Ready nodes never make a partial disruption", 0 + 1, 2, stateNormal},
		{"three of five nodes not Ready is a partial disruption at 55%", 2, 3, statePartialDisruption},
		{"three of ten nodes not Ready stays normal", 7, 3, stateNormal},
		{"a node without a Ready condition counts as not Ready", 2, 3, statePartialDisruption},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conds := readyConds(c.ready, c.notReady)
			if c.name == "a node without a Ready condition counts as not Ready" {
				conds[len(conds)-1] = nil
			}
			n, got := zoneState(conds, DefaultUnhealthyZoneThreshold)
			if got != c.want || n != c.notReady {
				t.Errorf("got %s with %d not ready, want %s with %d", got, n, c.want, c.notReady)
			}
		})
	}
}

func TestEvictionRateByZoneState(t *testing.T) {
	r := evictionRates{Normal: 0.1, Secondary: 0.01, LargeCluster: 50}
	cases := []struct {
		name  string
		state ZoneState
		size  int
		want  float32
	}{
		{"a normal zone taints at the normal rate", stateNormal, 10, 0.1},
		{"a fully disrupted zone keeps the normal rate", stateFullDisruption, 10, 0.1},
		{"a small partially disrupted zone stops tainting", statePartialDisruption, 50, 0},
		{"a large partially disrupted zone taints at the secondary rate", statePartialDisruption, 51, 0.01},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.rateFor(c.state, c.size); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestPlanDisruption(t *testing.T) {
	F, N, P, I := stateFullDisruption, stateNormal, statePartialDisruption, stateInitial
	cases := []struct {
		name     string
		old, cur map[string]ZoneState
		want     disruptionMode
		wantOld  map[string]ZoneState
	}{
		{"no zones is nothing to do", map[string]ZoneState{}, map[string]ZoneState{}, modeUnchanged, map[string]ZoneState{}},
		{"every zone losing all its nodes stops evictions", map[string]ZoneState{"a": N, "b": N}, map[string]ZoneState{"a": F, "b": F}, modeEnterFull,
			map[string]ZoneState{"a": N, "b": N}},
		{"a first pass with every node down stops evictions", map[string]ZoneState{}, map[string]ZoneState{"a": F}, modeEnterFull, map[string]ZoneState{"a": I}},
		{"staying fully disrupted is nothing to do", map[string]ZoneState{"a": F}, map[string]ZoneState{"a": F}, modeUnchanged, map[string]ZoneState{"a": F}},
		{"one zone coming back ends the full disruption", map[string]ZoneState{"a": F, "b": F}, map[string]ZoneState{"a": F, "b": N}, modeExitFull,
			map[string]ZoneState{"a": F, "b": F}},
		{"one zone down among healthy ones is handled per zone", map[string]ZoneState{"a": N, "b": N}, map[string]ZoneState{"a": F, "b": N}, modePerZone,
			map[string]ZoneState{"a": N, "b": N}},
		{"a vanished zone is forgotten and a new one starts Initial", map[string]ZoneState{"gone": P, "a": N}, map[string]ZoneState{"a": N, "new": N}, modePerZone,
			map[string]ZoneState{"a": N, "new": I}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := planDisruption(c.old, c.cur); got != c.want {
				t.Errorf("mode = %v, want %v", got, c.want)
			}
			if !reflect.DeepEqual(c.old, c.wantOld) {
				t.Errorf("old states = %v, want %v", c.old, c.wantOld)
			}
		})
	}
}

func TestZoneTainterLetsNodesThroughAtItsRate(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	z := newZoneTainter(0.1, clk)
	for _, n := range []string{"a", "b", "c"} {
		z.add(n)
	}
	if z.add("a") {
		t.Error("a queued node was queued twice")
	}
	var tainted []string
	try := func() {
		z.try(func(name string) (bool, time.Duration) { tainted = append(tainted, name); return true, 0 })
	}
	try()
	if !reflect.DeepEqual(tainted, []string{"a"}) {
		t.Fatalf("first pass tainted %v, want the burst of one", tainted)
	}
	clk.Step(5 * time.Second)
	try()
	if len(tainted) != 1 {
		t.Fatalf("tainted %v after 5s at 0.1/s", tainted)
	}
	clk.Step(5 * time.Second)
	try()
	if !reflect.DeepEqual(tainted, []string{"a", "b"}) {
		t.Fatalf("tainted %v after 10s", tainted)
	}
	if z.add("a") {
		t.Error("a handled node was queued again before it was removed")
	}
	if !z.remove("a") || !z.add("a") {
		t.Error("a removed node could not be queued again")
	}
	z.setRate(0)
	clk.Step(time.Hour)
	try()
	if len(tainted) != 2 {
		t.Errorf("a stopped zone tainted %v", tainted)
	}
}

func TestZoneTainterRetriesAFailedNodeLater(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	z := newZoneTainter(1000, clk)
	z.add("a")
	fail := true
	calls := 0
	try := func() {
		z.try(func(string) (bool, time.Duration) { calls++; return !fail, time.Second })
	}
	try()
	if calls != 1 || !reflect.DeepEqual(z.queued(), []string{"a"}) {
		t.Fatalf("calls %d queue %v", calls, z.queued())
	}
	try()
	if calls != 1 {
		t.Fatalf("retried before its time: %d calls", calls)
	}
	clk.Step(2 * time.Second)
	fail = false
	try()
	if calls != 2 || len(z.queued()) != 0 {
		t.Errorf("calls %d queue %v", calls, z.queued())
	}
}
