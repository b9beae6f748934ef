package podtopologyspread

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	schedconfig "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

var (
	spreadFail = fw.NewStatus(fw.Unschedulable, ErrReasonConstraintsNotMatch).String()
	labelFail  = fw.NewStatus(fw.UnschedulableAndUnresolvable, ErrReasonNodeLabelNotMatch).String()
	skip       = fw.NewStatus(fw.Skip).String()
)

// fourNodes are a1, a2 in zone a and b1, b2 in zone b.
func fourNodes() []*corev1.Node {
	return []*corev1.Node{
		pt.Node("a1", map[string]string{zone: "a"}),
		pt.Node("a2", map[string]string{zone: "a"}),
		pt.Node("b1", map[string]string{zone: "b"}),
		pt.Node("b2", map[string]string{zone: "b"}),
	}
}

func web(name, node string) *corev1.Pod {
	return pt.Pod("default", name).Label("app", "web").On(node).Obj()
}

func webPod() *pt.PodWrapper { return pt.Pod("default", "new").Label("app", "web") }

func TestFilter(t *testing.T) {
	zoneSpread := func(maxSkew int32) *pt.PodWrapper {
		return webPod().Spread(maxSkew, zone, corev1.DoNotSchedule, app("web"))
	}
	cases := []struct {
		name  string
		args  *schedconfig.PodTopologySpreadArgs
		pod   *corev1.Pod
		nodes []*corev1.Node
		pods  []*corev1.Pod
		objs  []runtime.Object
		// want: each node's status; unlisted nodes pass.
		want map[string]string
	}{
		{
			name:  "a pod without constraints that belongs to nothing skips the filter",
			pod:   webPod().Obj(),
			nodes: fourNodes(),
			want:  map[string]string{"a1": skip, "a2": skip, "b1": skip, "b2": skip},
		},
		{
			name:  "a pod with only ScheduleAnyway constraints skips the filter",
			pod:   webPod().Spread(1, zone, corev1.ScheduleAnyway, app("web")).Obj(),
			nodes: fourNodes(),
			want:  map[string]string{"a1": skip, "a2": skip, "b1": skip, "b2": skip},
		},
		{
			name:  "with maxSkew 1 the zone that already has more matching pods is refused",
			pod:   zoneSpread(1).Obj(),
			nodes: fourNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "a2"), web("w3", "b1")},
			want:  map[string]string{"a1": spreadFail, "a2": spreadFail},
		},
		{
			name:  "with maxSkew 2 one more pod in the fuller zone is fine",
			pod:   zoneSpread(2).Obj(),
			nodes: fourNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "a2"), web("w3", "b1")},
			want:  map[string]string{},
		},
		{
			name:  "an incoming pod that its own selector does not match adds nothing to the skew",
			pod:   pt.Pod("default", "new").Label("app", "other").Spread(1, zone, corev1.DoNotSchedule, app("web")).Obj(),
			nodes: fourNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "b1"), web("w3", "b2")},
			want:  map[string]string{},
		},
		{
			name:  "a node without the topology key is refused as unresolvable",
			pod:   zoneSpread(1).Obj(),
			nodes: append(fourNodes(), pt.Node("nozone", nil)),
			want:  map[string]string{"nozone": labelFail},
		},
		{
			name:  "pods on a node without the topology key are not counted",
			pod:   zoneSpread(1).Obj(),
			nodes: append(fourNodes(), pt.Node("nozone", nil)),
			pods:  []*corev1.Pod{web("w1", "nozone"), web("w2", "nozone"), web("w3", "b1")},
			want:  map[string]string{"nozone": labelFail, "b1": spreadFail, "b2": spreadFail},
		},
		{
			name: "with fewer domains than minDomains the least loaded domain counts as zero",
			pod: webPod().SpreadConstraint(corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: zone, WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: app("web")}, MinDomains: ptr.To[int32](3)}).Obj(),
			nodes: fourNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "b1")},
			want:  map[string]string{"a1": spreadFail, "a2": spreadFail, "b1": spreadFail, "b2": spreadFail},
		},
		{
			name: "with as many domains as minDomains the least loaded domain counts as it is",
			pod: webPod().SpreadConstraint(corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: zone, WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: app("web")}, MinDomains: ptr.To[int32](2)}).Obj(),
			nodes: fourNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "b1")},
			want:  map[string]string{},
		},
		{
			name:  "with nodeAffinityPolicy Honor (the default) nodes the pod's node selector excludes make no domain",
			pod:   zoneSpread(1).NodeSelector(map[string]string{"disk": "ssd"}).Obj(),
			nodes: ssdNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "b1"), web("w3", "b1")},
			want:  map[string]string{"b1": spreadFail, "b2": spreadFail},
		},
		{
			name: "with nodeAffinityPolicy Ignore every node counts, so the empty zone c sets the minimum",
			pod: webPod().SpreadConstraint(corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: zone, WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: app("web")}, NodeAffinityPolicy: ptr.To(corev1.NodeInclusionPolicyIgnore)}).
				NodeSelector(map[string]string{"disk": "ssd"}).Obj(),
			nodes: ssdNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "b1"), web("w3", "b1")},
			want:  map[string]string{"a1": spreadFail, "b1": spreadFail, "b2": spreadFail},
		},
		{
			name:  "with nodeTaintsPolicy Ignore (the default) a tainted empty zone sets the minimum",
			pod:   zoneSpread(1).Obj(),
			nodes: append(fourNodes(), tainted(pt.Node("c1", map[string]string{zone: "c"}))),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "b1")},
			want:  map[string]string{"a1": spreadFail, "a2": spreadFail, "b1": spreadFail, "b2": spreadFail},
		},
		{
			name: "with nodeTaintsPolicy Honor a tainted zone the pod does not tolerate makes no domain",
			pod: webPod().SpreadConstraint(corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: zone, WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: app("web")}, NodeTaintsPolicy: ptr.To(corev1.NodeInclusionPolicyHonor)}).Obj(),
			nodes: append(fourNodes(), tainted(pt.Node("c1", map[string]string{zone: "c"}))),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "b1")},
			want:  map[string]string{"c1": ""},
		},
		{
			name:  "pods of other namespaces and pods being deleted are not counted",
			pod:   zoneSpread(1).Obj(),
			nodes: fourNodes(),
			pods: []*corev1.Pod{web("w1", "b1"), pt.Pod("other", "w2").Label("app", "web").On("a1").Obj(),
				pt.Pod("default", "w3").Label("app", "web").On("a2").Terminating().Obj()},
			want: map[string]string{"b1": spreadFail, "b2": spreadFail},
		},
		{
			name: "matchLabelKeys narrow the selector to pods with the incoming pod's values",
			pod: webPod().Label("version", "v2").SpreadConstraint(corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: zone,
				WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: &metav1.LabelSelector{MatchLabels: app("web")},
				MatchLabelKeys: []string{"version"}}).Obj(),
			nodes: fourNodes(),
			pods: []*corev1.Pod{
				pt.Pod("default", "old1").Label("app", "web").Label("version", "v1").On("b1").Obj(),
				pt.Pod("default", "old2").Label("app", "web").Label("version", "v1").On("b2").Obj(),
				pt.Pod("default", "new1").Label("app", "web").Label("version", "v2").On("a1").Obj(),
			},
			want: map[string]string{"a1": spreadFail, "a2": spreadFail},
		},
		{
			name:  "with constraints on hostname and zone a node must satisfy both",
			pod:   zoneSpread(1).Spread(1, hostname, corev1.DoNotSchedule, app("web")).Obj(),
			nodes: fourNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "b1")},
			want:  map[string]string{"a1": spreadFail, "b1": spreadFail},
		},
		{
			name:  "with constraints on hostname and zone a node lacking either key is unresolvable",
			pod:   zoneSpread(1).Spread(1, hostname, corev1.DoNotSchedule, app("web")).Obj(),
			nodes: append(fourNodes(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "bare", Labels: map[string]string{zone: "a"}}}),
			want:  map[string]string{"bare": labelFail},
		},
		{
			name: "List defaulting gives a pod owned by a ReplicaSet the default DoNotSchedule constraints, selecting its siblings",
			args: &schedconfig.PodTopologySpreadArgs{DefaultingType: schedconfig.ListDefaulting, DefaultConstraints: []corev1.TopologySpreadConstraint{
				{MaxSkew: 1, TopologyKey: zone, WhenUnsatisfiable: corev1.DoNotSchedule}}},
			pod:   webPod().OwnedBy("apps/v1", "ReplicaSet", "web-abc").Obj(),
			nodes: fourNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "a2"), web("w3", "b1")},
			objs:  []runtime.Object{replicaSet("default", "web-abc", app("web"))},
			want:  map[string]string{"a1": spreadFail, "a2": spreadFail},
		},
		{
			name: "List defaulting gives nothing to a pod whose ReplicaSet is not known",
			args: &schedconfig.PodTopologySpreadArgs{DefaultingType: schedconfig.ListDefaulting, DefaultConstraints: []corev1.TopologySpreadConstraint{
				{MaxSkew: 1, TopologyKey: zone, WhenUnsatisfiable: corev1.DoNotSchedule}}},
			pod:   webPod().OwnedBy("apps/v1", "ReplicaSet", "gone").Obj(),
			nodes: fourNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "a2"), web("w3", "b1")},
			want:  map[string]string{"a1": skip, "a2": skip, "b1": skip, "b2": skip},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl, h := newPlugin(t, c.args, c.nodes, c.pods, c.objs...)
			_, got := filterAll(t, pl, h, c.pod)
			for node, g := range got {
				if w := c.want[node]; g != w {
					t.Errorf("node %s: got %q, want %q", node, g, w)
				}
			}
		})
	}
}

// ssdNodes: a1 (zone a) and b1 (zone b) have SSDs, b2 (zone b) and c1 (zone c)
// do not.
func ssdNodes() []*corev1.Node {
	return []*corev1.Node{
		pt.Node("a1", map[string]string{zone: "a", "disk": "ssd"}),
		pt.Node("b1", map[string]string{zone: "b", "disk": "ssd"}),
		pt.Node("b2", map[string]string{zone: "b"}),
		pt.Node("c1", map[string]string{zone: "c"}),
	}
}

func tainted(n *corev1.Node) *corev1.Node {
	n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
	return n
}

// Preemption replays victims' removal through RemovePod; Filter must follow,
// and a clone of the state must not share counts with the original.
func TestRemovePodAndAddPodUpdateTheSkew(t *testing.T) {
	pods := []*corev1.Pod{web("w1", "a1"), web("w2", "a2"), web("w3", "b1")}
	pod := webPod().Spread(1, zone, corev1.DoNotSchedule, app("web")).Obj()
	pl, h := newPlugin(t, nil, fourNodes(), pods)
	ctx := context.Background()
	state, got := filterAll(t, pl, h, pod)
	if got["a1"] != spreadFail || got["b1"] != "" {
		t.Fatalf("before: %v", got)
	}
	a1, _ := h.Snapshot.Get("a1")
	b1, _ := h.Snapshot.Get("b1")
	clone := state.Clone()
	if st := pl.RemovePod(ctx, clone, pod, fw.NewPodInfo(pods[0]), a1); !st.IsSuccess() {
		t.Fatal(st)
	}
	if g := statusString(pl.Filter(ctx, clone, pod, a1)); g != "" {
		t.Errorf("after removing w1 from zone a, a1: got %q, want success", g)
	}
	if st := pl.AddPod(ctx, clone, pod, fw.NewPodInfo(web("w4", "b1")), b1); !st.IsSuccess() {
		t.Fatal(st)
	}
	if g := statusString(pl.Filter(ctx, clone, pod, b1)); g != spreadFail {
		t.Errorf("after adding w4 to zone b, b1: got %q, want %q", g, spreadFail)
	}
	if g := statusString(pl.Filter(ctx, state, pod, a1)); g != spreadFail {
		t.Errorf("the original state changed with its clone: a1 got %q", g)
	}
	other := pt.Pod("other", "x").Label("app", "web").On("b1").Obj()
	if st := pl.AddPod(ctx, state, pod, fw.NewPodInfo(other), b1); !st.IsSuccess() {
		t.Fatal(st)
	}
	if g := statusString(pl.Filter(ctx, state, pod, b1)); g != "" {
		t.Errorf("a pod of another namespace counted: b1 got %q", g)
	}
}
