package interpodaffinity

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

const hostname = corev1.LabelHostname

var (
	affinityFail     = fw.NewStatus(fw.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch).String()
	antiFail         = fw.NewStatus(fw.Unschedulable, ErrReasonAntiAffinityRulesNotMatch).String()
	existingAntiFail = fw.NewStatus(fw.Unschedulable, ErrReasonExistingAntiAffinityRulesNotMatch).String()
	skip             = fw.NewStatus(fw.Skip).String()
)

func app(v string) map[string]string { return map[string]string{"app": v} }

// threeNodes are n1 and n2 in zone a, n3 in zone b.
func threeNodes() []*corev1.Node {
	return []*corev1.Node{
		pt.Node("n1", map[string]string{zone: "a"}),
		pt.Node("n2", map[string]string{zone: "a"}),
		pt.Node("n3", map[string]string{zone: "b"}),
	}
}

func nsSelectorTerm(key string, matchLabels, nsLabels map[string]string) corev1.PodAffinityTerm {
	t := pt.Term(key, matchLabels)
	t.NamespaceSelector = &metav1.LabelSelector{MatchLabels: nsLabels}
	return t
}

func TestFilter(t *testing.T) {
	nss := []*corev1.Namespace{
		namespace("default", nil),
		namespace("team-a", map[string]string{"team": "a"}),
		namespace("team-b", map[string]string{"team": "b"}),
	}
	cases := []struct {
		name  string
		pod   *corev1.Pod
		pods  []*corev1.Pod
		nodes []*corev1.Node
		// want is each node's status string; nodes not listed must pass.
		want map[string]string
	}{
		{
			name:  "a pod with no affinity terms and no existing anti-affinity skips the filter",
			pod:   pt.Pod("default", "p").Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "db").Label("app", "db").On("n1").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n1": skip, "n2": skip, "n3": skip},
		},
		{
			name:  "required affinity on hostname is met only on the node that holds a matching pod",
			pod:   pt.Pod("default", "p").RequiredAffinity(pt.Term(hostname, app("db"))).Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "db").Label("app", "db").On("n1").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n2": affinityFail, "n3": affinityFail},
		},
		{
			name:  "required affinity on zone is met on every node of the zone that holds a matching pod",
			pod:   pt.Pod("default", "p").RequiredAffinity(pt.Term(zone, app("db"))).Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "db").Label("app", "db").On("n2").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n3": affinityFail},
		},
		{
			name:  "a matching pod in another namespace does not satisfy affinity limited to the pod's own namespace",
			pod:   pt.Pod("default", "p").RequiredAffinity(pt.Term(zone, app("db"))).Obj(),
			pods:  []*corev1.Pod{pt.Pod("team-a", "db").Label("app", "db").On("n1").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n1": affinityFail, "n2": affinityFail, "n3": affinityFail},
		},
		{
			name: "all affinity terms must be met by the same existing pod",
			pod: pt.Pod("default", "p").
				RequiredAffinity(pt.Term(zone, app("db"))).
				RequiredAffinity(pt.Term(zone, map[string]string{"tier": "data"})).Obj(),
			pods: []*corev1.Pod{
				pt.Pod("default", "db").Label("app", "db").On("n1").Obj(),
				pt.Pod("default", "cache").Label("tier", "data").On("n2").Obj(),
			},
			nodes: threeNodes(),
			want:  map[string]string{"n1": affinityFail, "n2": affinityFail, "n3": affinityFail},
		},
		{
			name:  "the first pod of a group with affinity to itself may go to any node with the topology key when nothing matches yet",
			pod:   pt.Pod("default", "web-0").Label("app", "web").RequiredAffinity(pt.Term(zone, app("web"))).Obj(),
			nodes: append(threeNodes(), pt.Node("no-zone", nil)),
			want:  map[string]string{"no-zone": affinityFail},
		},
		{
			name:  "once a pod of the group runs, the next one with affinity to itself must join its zone",
			pod:   pt.Pod("default", "web-1").Label("app", "web").RequiredAffinity(pt.Term(zone, app("web"))).Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "web-0").Label("app", "web").On("n3").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n1": affinityFail, "n2": affinityFail},
		},
		{
			name:  "a pod whose affinity does not match itself cannot go anywhere while no pod matches",
			pod:   pt.Pod("default", "p").Label("app", "web").RequiredAffinity(pt.Term(zone, app("db"))).Obj(),
			nodes: threeNodes(),
			want:  map[string]string{"n1": affinityFail, "n2": affinityFail, "n3": affinityFail},
		},
		{
			name:  "required anti-affinity on zone keeps the pod out of the zone of a matching pod",
			pod:   pt.Pod("default", "p").RequiredAntiAffinity(pt.Term(zone, app("db"))).Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "db").Label("app", "db").On("n1").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n1": antiFail, "n2": antiFail},
		},
		{
			name:  "required anti-affinity does not apply to a node without the topology key",
			pod:   pt.Pod("default", "p").RequiredAntiAffinity(pt.Term(zone, app("db"))).Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "db").Label("app", "db").On("no-zone").Obj()},
			nodes: append(threeNodes(), pt.Node("no-zone", nil)),
			want:  map[string]string{},
		},
		{
			name:  "an existing pod's anti-affinity keeps away an incoming pod without terms of its own (symmetry)",
			pod:   pt.Pod("default", "p").Label("app", "web").Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "lonely").RequiredAntiAffinity(pt.Term(hostname, app("web"))).On("n2").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n2": existingAntiFail},
		},
		{
			name:  "an existing pod's anti-affinity that the incoming pod does not match changes nothing",
			pod:   pt.Pod("default", "p").Label("app", "api").Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "lonely").RequiredAntiAffinity(pt.Term(hostname, app("web"))).On("n2").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n1": skip, "n2": skip, "n3": skip},
		},
		{
			name: "the pod's own anti-affinity is checked before existing pods' anti-affinity",
			pod:  pt.Pod("default", "p").Label("app", "web").RequiredAntiAffinity(pt.Term(zone, app("db"))).Obj(),
			pods: []*corev1.Pod{
				pt.Pod("default", "db").Label("app", "db").RequiredAntiAffinity(pt.Term(zone, app("web"))).On("n1").Obj(),
			},
			nodes: threeNodes(),
			want:  map[string]string{"n1": antiFail, "n2": antiFail},
		},
		{
			name: "affinity and anti-affinity met together: near the database, away from other web pods",
			pod: pt.Pod("default", "web-1").Label("app", "web").
				RequiredAffinity(pt.Term(zone, app("db"))).RequiredAntiAffinity(pt.Term(hostname, app("web"))).Obj(),
			pods: []*corev1.Pod{
				pt.Pod("default", "db").Label("app", "db").On("n1").Obj(),
				pt.Pod("default", "web-0").Label("app", "web").On("n1").Obj(),
			},
			nodes: threeNodes(),
			want:  map[string]string{"n1": antiFail, "n3": affinityFail},
		},
		{
			name:  "affinity with a namespace selector is met by a pod in a namespace with those labels",
			pod:   pt.Pod("default", "p").RequiredAffinity(nsSelectorTerm(zone, app("db"), map[string]string{"team": "a"})).Obj(),
			pods:  []*corev1.Pod{pt.Pod("team-a", "db").Label("app", "db").On("n3").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n1": affinityFail, "n2": affinityFail},
		},
		{
			name:  "affinity with a namespace selector is not met by a matching pod in a namespace without those labels",
			pod:   pt.Pod("default", "p").RequiredAffinity(nsSelectorTerm(zone, app("db"), map[string]string{"team": "a"})).Obj(),
			pods:  []*corev1.Pod{pt.Pod("team-b", "db").Label("app", "db").On("n3").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n1": affinityFail, "n2": affinityFail, "n3": affinityFail},
		},
		{
			name:  "anti-affinity with an empty namespace selector matches pods of every namespace",
			pod:   pt.Pod("default", "p").RequiredAntiAffinity(nsSelectorTerm(zone, app("db"), nil)).Obj(),
			pods:  []*corev1.Pod{pt.Pod("team-b", "db").Label("app", "db").On("n3").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n3": antiFail},
		},
		{
			name: "namespaces listed and namespaces selected add up",
			pod: pt.Pod("default", "p").RequiredAntiAffinity(func() corev1.PodAffinityTerm {
				t := nsSelectorTerm(hostname, app("db"), map[string]string{"team": "a"})
				t.Namespaces = []string{"team-b"}
				return t
			}()).Obj(),
			pods: []*corev1.Pod{
				pt.Pod("team-a", "db").Label("app", "db").On("n1").Obj(),
				pt.Pod("team-b", "db").Label("app", "db").On("n2").Obj(),
				pt.Pod("default", "db").Label("app", "db").On("n3").Obj(),
			},
			nodes: threeNodes(),
			want:  map[string]string{"n1": antiFail, "n2": antiFail},
		},
		{
			name:  "an existing pod's anti-affinity with a namespace selector applies to an incoming pod whose namespace has those labels",
			pod:   pt.Pod("team-a", "p").Label("app", "web").Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "lonely").RequiredAntiAffinity(nsSelectorTerm(zone, app("web"), map[string]string{"team": "a"})).On("n3").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n3": existingAntiFail},
		},
		{
			name:  "an existing pod's anti-affinity with a namespace selector spares an incoming pod from other namespaces",
			pod:   pt.Pod("team-b", "p").Label("app", "web").Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "lonely").RequiredAntiAffinity(nsSelectorTerm(zone, app("web"), map[string]string{"team": "a"})).On("n3").Obj()},
			nodes: threeNodes(),
			want:  map[string]string{"n1": skip, "n2": skip, "n3": skip},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl, h := newPlugin(t, nil, c.nodes, c.pods, nss...)
			_, got := filterAll(t, pl, h, c.pod)
			for node, st := range got {
				if g, w := statusString(st), c.want[node]; g != w {
					t.Errorf("node %s: got %q, want %q", node, g, w)
				}
			}
		})
	}
}

func TestPreFilterRejectsAnUnparsableSelector(t *testing.T) {
	term := corev1.PodAffinityTerm{TopologyKey: zone, LabelSelector: &metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}}}
	pod := pt.Pod("default", "p").RequiredAffinity(term).Obj()
	pl, h := newPlugin(t, nil, threeNodes(), nil)
	_, st := pl.PreFilter(context.Background(), fw.NewCycleState(), pod, h.Snapshot.List())
	if st.Code() != fw.UnschedulableAndUnresolvable || !strings.HasPrefix(st.Message(), "parsing pod: ") {
		t.Fatalf("got %v, want UnschedulableAndUnresolvable parsing pod", st)
	}
}

// Preemption replays the removal of victims through RemovePod and their return
// through AddPod; Filter must follow.
func TestAddPodAndRemovePodUpdateTheCounts(t *testing.T) {
	db := pt.Pod("default", "db").Label("app", "db").On("n1").Obj()
	lonely := pt.Pod("default", "lonely").RequiredAntiAffinity(pt.Term(zone, app("web"))).On("n3").Obj()
	pod := pt.Pod("default", "web").Label("app", "web").
		RequiredAffinity(pt.Term(zone, app("db"))).RequiredAntiAffinity(pt.Term(hostname, app("db"))).Obj()
	pl, h := newPlugin(t, nil, threeNodes(), []*corev1.Pod{db, lonely})
	ctx := context.Background()
	state, got := filterAll(t, pl, h, pod)
	want := map[string]string{"n1": antiFail, "n3": affinityFail}
	for n, st := range got {
		if statusString(st) != want[n] {
			t.Fatalf("before: node %s: got %q, want %q", n, statusString(st), want[n])
		}
	}
	n1, _ := h.Snapshot.Get("n1")
	n3, _ := h.Snapshot.Get("n3")
	dbInfo, lonelyInfo := fw.NewPodInfo(db), fw.NewPodInfo(lonely)

	removed := state.Clone()
	if st := pl.RemovePod(ctx, removed, pod, dbInfo, n1); !st.IsSuccess() {
		t.Fatal(st)
	}
	// Without the database there is nothing to be near, and web does not match
	// its own affinity: no node fits.
	for _, name := range []string{"n1", "n2"} {
		ni, _ := h.Snapshot.Get(name)
		if g := statusString(pl.Filter(ctx, removed, pod, ni)); g != affinityFail {
			t.Errorf("after removing db, node %s: got %q, want %q", name, g, affinityFail)
		}
	}
	if st := pl.AddPod(ctx, removed, pod, dbInfo, n3); !st.IsSuccess() {
		t.Fatal(st)
	}
	// The database now on n3: web's own hostname anti-affinity avoids that node.
	if g := statusString(pl.Filter(ctx, removed, pod, n3)); g != antiFail {
		t.Errorf("db added on n3: got %q, want %q", g, antiFail)
	}
	if st := pl.RemovePod(ctx, removed, pod, lonelyInfo, n3); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := pl.RemovePod(ctx, removed, pod, dbInfo, n3); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := pl.AddPod(ctx, removed, pod, dbInfo, n1); !st.IsSuccess() {
		t.Fatal(st)
	}
	n2, _ := h.Snapshot.Get("n2")
	if g := statusString(pl.Filter(ctx, removed, pod, n2)); g != "" {
		t.Errorf("db back on n1: n2 got %q, want success", g)
	}
	// The original state is untouched by changes to its clone.
	if g := statusString(pl.Filter(ctx, state, pod, n3)); g != affinityFail {
		t.Errorf("original state changed: n3 got %q", g)
	}
}
