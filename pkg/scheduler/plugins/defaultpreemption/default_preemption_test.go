package defaultpreemption

import (
	"context"
	"errors"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func TestPostFilter(t *testing.T) {
	keep := (*fw.PostFilterResult)(nil)
	clear := &fw.PostFilterResult{}
	nominate := func(n string) *fw.PostFilterResult { return &fw.PostFilterResult{NominatedNodeName: n} }
	cases := []struct {
		name        string
		nodes       []*corev1.Node
		pods        []*corev1.Pod
		preemptor   *corev1.Pod
		opts        envOptions
		wantResult  *fw.PostFilterResult
		wantCode    fw.Code
		wantMsg     string
		wantEvicted []string
		wantCleared []string
		wantEvents  []string
	}{
		{
			name:        "a pod that fits nowhere preempts the lower-priority pod holding the cpu it needs",
			nodes:       []*corev1.Node{node("n1", "2")},
			pods:        []*corev1.Pod{pod("low", 1, "2", on("n1", 5))},
			preemptor:   pod("high", 10, "2"),
			wantResult:  nominate("n1"),
			wantEvicted: []string{"low@n1"},
			wantEvents:  []string{"Normal Preempted Preempted by pod uid-high on node n1"},
		},
		{
			name:       "a pod with preemptionPolicy Never preempts nothing",
			nodes:      []*corev1.Node{node("n1", "2")},
			pods:       []*corev1.Pod{pod("low", 1, "2", on("n1", 5))},
			preemptor:  pod("high", 10, "2", preemptNever),
			wantResult: keep,
			wantCode:   fw.Unschedulable,
			wantMsg:    "preemption: not eligible due to preemptionPolicy=Never.",
		},
		{
			name:  "with nothing of lower priority anywhere every node says it has no victims, and a nomination is cleared",
			nodes: []*corev1.Node{node("n1", "1"), node("n2", "1"), node("n3", "1")},
			pods: []*corev1.Pod{pod("a", 10, "1", on("n1", 5)), pod("b", 10, "1", on("n2", 5)),
				pod("c", 20, "1", on("n3", 5))},
			preemptor:  pod("p", 10, "1"),
			wantResult: clear,
			wantCode:   fw.Unschedulable,
			wantMsg:    "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
		},
		{
			name:       "with nothing of lower priority anywhere, nodes the filters ruled out for good are of no help",
			nodes:      []*corev1.Node{node("n1", "1"), node("n2", "1", tainted), node("n3", "1", tainted)},
			pods:       []*corev1.Pod{pod("a", 10, "1", on("n1", 5))},
			preemptor:  pod("p", 10, "1", nominatedTo("n1")),
			wantResult: clear,
			wantCode:   fw.Unschedulable,
			wantMsg:    "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
		},
		{
			name:  "nodes the filters ruled out for good are no candidates, however low the pods on them",
			nodes: []*corev1.Node{node("n1", "1"), node("n2", "1", tainted), node("n3", "1", tainted)},
			pods: []*corev1.Pod{pod("a", 10, "1", on("n1", 5)), pod("b", 1, "1", on("n2", 5)),
				pod("c", 1, "1", on("n3", 5))},
			preemptor:  pod("p", 10, "1"),
			wantResult: clear,
			wantCode:   fw.Unschedulable,
			wantMsg:    "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
		},
		{
			name:  "a node where removing every lower-priority pod still leaves too little room is no candidate",
			nodes: []*corev1.Node{node("n1", "2")},
			pods: []*corev1.Pod{pod("mid", 20, "1500m", on("n1", 5)),
				pod("low", 1, "500m", on("n1", 5))},
			preemptor:  pod("p", 10, "1"),
			wantResult: clear,
			wantCode:   fw.Unschedulable,
			wantMsg:    "preemption: 0/1 nodes are available: 1 Insufficient cpu.",
		},
		{
			name:  "only as many victims as needed go, the least important first",
			nodes: []*corev1.Node{node("n1", "3")},
			pods: []*corev1.Pod{pod("p5", 5, "1", on("n1", 5)), pod("p3", 3, "1", on("n1", 5)),
				pod("p1", 1, "1", on("n1", 5))},
			preemptor:   pod("p", 10, "1"),
			wantResult:  nominate("n1"),
			wantEvicted: []string{"p1@n1"},
			wantEvents:  []string{"Normal Preempted Preempted by pod uid-p on node n1"},
		},
		{
			name:        "of two pods of equal priority the one started last goes",
			nodes:       []*corev1.Node{node("n1", "2")},
			pods:        []*corev1.Pod{pod("old", 1, "1", on("n1", 60)), pod("young", 1, "1", on("n1", 1))},
			preemptor:   pod("p", 10, "1"),
			wantResult:  nominate("n1"),
			wantEvicted: []string{"young@n1"},
			wantEvents:  []string{"Normal Preempted Preempted by pod uid-p on node n1"},
		},
		{
			name:  "without a budget the least important pod goes",
			nodes: []*corev1.Node{node("n1", "2")},
			pods: []*corev1.Pod{pod("a", 1, "1", on("n1", 5), labelled("app", "a")),
				pod("b", 2, "1", on("n1", 5), labelled("app", "b"))},
			preemptor:   pod("p", 10, "1"),
			wantResult:  nominate("n1"),
			wantEvicted: []string{"a@n1"},
			wantEvents:  []string{"Normal Preempted Preempted by pod uid-p on node n1"},
		},
		{
			name:  "a pod a PodDisruptionBudget protects is kept when another victim will do",
			nodes: []*corev1.Node{node("n1", "2")},
			pods: []*corev1.Pod{pod("a", 1, "1", on("n1", 5), labelled("app", "a")),
				pod("b", 2, "1", on("n1", 5), labelled("app", "b"))},
			preemptor:   pod("p", 10, "1"),
			opts:        envOptions{pdbs: []*policyv1.PodDisruptionBudget{pdb("a", 0, map[string]string{"app": "a"})}},
			wantResult:  nominate("n1"),
			wantEvicted: []string{"b@n1"},
			wantEvents:  []string{"Normal Preempted Preempted by pod uid-p on node n1"},
		},
		{
			name:        "the node whose victims matter least is chosen",
			nodes:       []*corev1.Node{node("n1", "1"), node("n2", "1")},
			pods:        []*corev1.Pod{pod("x", 5, "1", on("n1", 5)), pod("y", 2, "1", on("n2", 5))},
			preemptor:   pod("p", 10, "1"),
			wantResult:  nominate("n2"),
			wantEvicted: []string{"y@n2"},
			wantEvents:  []string{"Normal Preempted Preempted by pod uid-p on node n2"},
		},
		{
			name:  "a node where no budget is violated wins over one with less important victims",
			nodes: []*corev1.Node{node("n1", "1"), node("n2", "1")},
			pods: []*corev1.Pod{pod("a", 1, "1", on("n1", 5), labelled("app", "a")),
				pod("b", 5, "1", on("n2", 5))},
			preemptor:   pod("p", 10, "1"),
			opts:        envOptions{pdbs: []*policyv1.PodDisruptionBudget{pdb("a", 0, map[string]string{"app": "a"})}},
			wantResult:  nominate("n2"),
			wantEvicted: []string{"b@n2"},
			wantEvents:  []string{"Normal Preempted Preempted by pod uid-p on node n2"},
		},
		{
			name:       "a pod waits while a pod it preempted is still terminating on its nominated node",
			nodes:      []*corev1.Node{node("n1", "2")},
			pods:       []*corev1.Pod{pod("low", 1, "2", on("n1", 5), terminatingByScheduler)},
			preemptor:  pod("high", 10, "2", nominatedTo("n1")),
			wantResult: keep,
			wantCode:   fw.Unschedulable,
			wantMsg:    "preemption: not eligible due to a terminating pod on the nominated node.",
		},
		{
			name:  "a pod whose nominated node is now ruled out for good preempts elsewhere",
			nodes: []*corev1.Node{node("n1", "2", tainted), node("n2", "2")},
			pods: []*corev1.Pod{pod("low", 1, "2", on("n1", 5), terminatingByScheduler),
				pod("other", 1, "2", on("n2", 5))},
			preemptor:   pod("high", 10, "2", nominatedTo("n1")),
			wantResult:  nominate("n2"),
			wantEvicted: []string{"other@n2"},
			wantEvents:  []string{"Normal Preempted Preempted by pod uid-high on node n2"},
		},
		{
			name:       "a victim being deleted for another reason is not deleted again",
			nodes:      []*corev1.Node{node("n1", "2")},
			pods:       []*corev1.Pod{pod("low", 1, "2", on("n1", 5), func(p *corev1.Pod) { p.DeletionTimestamp = p.Status.StartTime })},
			preemptor:  pod("high", 10, "2"),
			wantResult: nominate("n1"),
		},
		{
			name:  "lower-priority pods nominated to the chosen node lose their nomination, higher ones keep it",
			nodes: []*corev1.Node{node("n1", "2")},
			pods:  []*corev1.Pod{pod("low", 1, "2", on("n1", 5))},
			opts: envOptions{nominated: []*corev1.Pod{pod("waiting-low", 5, "0", nominatedTo("n1")),
				pod("waiting-high", 20, "0", nominatedTo("n1"))}},
			preemptor:   pod("p", 10, "2"),
			wantResult:  nominate("n1"),
			wantEvicted: []string{"low@n1"},
			wantCleared: []string{"waiting-low"},
			wantEvents:  []string{"Normal Preempted Preempted by pod uid-p on node n1"},
		},
		{
			name:       "an eviction the API refuses fails the preemption and keeps the nomination",
			nodes:      []*corev1.Node{node("n1", "2")},
			pods:       []*corev1.Pod{pod("low", 1, "2", on("n1", 5))},
			preemptor:  pod("high", 10, "2"),
			opts:       envOptions{evictErr: errors.New("etcd is on fire")},
			wantResult: keep,
			wantCode:   fw.Error,
			wantMsg:    "preemption: etcd is on fire",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.nodes, c.pods, c.opts)
			res, st := e.postFilter(c.preemptor)
			if !reflect.DeepEqual(res, c.wantResult) {
				t.Errorf("result %+v, want %+v", res, c.wantResult)
			}
			if st.Code() != c.wantCode || st.Message() != c.wantMsg {
				t.Errorf("status %v %q, want %v %q", st.Code(), st.Message(), c.wantCode, c.wantMsg)
			}
			if !reflect.DeepEqual(e.evicted, c.wantEvicted) {
				t.Errorf("evicted %v, want %v", e.evicted, c.wantEvicted)
			}
			if !reflect.DeepEqual(e.cleared, c.wantCleared) {
				t.Errorf("cleared nominations of %v, want %v", e.cleared, c.wantCleared)
			}
			if got := e.recordedEvents(); !reflect.DeepEqual(got, c.wantEvents) {
				t.Errorf("events %q, want %q", got, c.wantEvents)
			}
		})
	}
}

func TestSelectVictimsCountsBudgetViolations(t *testing.T) {
	app := map[string]string{"app": "a"}
	cases := []struct {
		name           string
		nodeCPU        string
		pods           []*corev1.Pod
		preemptorCPU   string
		pdbs           []*policyv1.PodDisruptionBudget
		wantVictims    []string
		wantViolations int
	}{
		{
			name: "a victim a budget with no disruptions left protects is a violation", nodeCPU: "1", preemptorCPU: "1",
			pods: []*corev1.Pod{pod("a1", 1, "1", on("n1", 5), labelled("app", "a"))},
			pdbs: []*policyv1.PodDisruptionBudget{pdb("pdb", 0, app)}, wantVictims: []string{"a1"}, wantViolations: 1,
		},
		{
			name: "a budget with a disruption to spare is no violation", nodeCPU: "1", preemptorCPU: "1",
			pods: []*corev1.Pod{pod("a1", 1, "1", on("n1", 5), labelled("app", "a"))},
			pdbs: []*policyv1.PodDisruptionBudget{pdb("pdb", 1, app)}, wantVictims: []string{"a1"},
		},
		{
			name: "the first victim spends the budget and the second violates it", nodeCPU: "2", preemptorCPU: "2",
			pods: []*corev1.Pod{pod("a1", 2, "1", on("n1", 5), labelled("app", "a")), pod("a2", 1, "1", on("n1", 5), labelled("app", "a"))},
			pdbs: []*policyv1.PodDisruptionBudget{pdb("pdb", 1, app)}, wantVictims: []string{"a1", "a2"}, wantViolations: 1,
		},
		{
			name: "a pod the budget already counts as disrupted spends nothing", nodeCPU: "1", preemptorCPU: "1",
			pods: []*corev1.Pod{pod("a1", 1, "1", on("n1", 5), labelled("app", "a"))},
			pdbs: []*policyv1.PodDisruptionBudget{pdb("pdb", 0, app, "a1")}, wantVictims: []string{"a1"},
		},
		{
			name: "a budget in another namespace does not apply", nodeCPU: "1", preemptorCPU: "1",
			pods: []*corev1.Pod{pod("a1", 1, "1", on("n1", 5), labelled("app", "a"))},
			pdbs: []*policyv1.PodDisruptionBudget{func() *policyv1.PodDisruptionBudget {
				p := pdb("pdb", 0, app)
				p.Namespace = "elsewhere"
				return p
			}()},
			wantVictims: []string{"a1"},
		},
		{
			name: "a budget with an empty selector selects nothing", nodeCPU: "1", preemptorCPU: "1",
			pods: []*corev1.Pod{pod("a1", 1, "1", on("n1", 5), labelled("app", "a"))},
			pdbs: []*policyv1.PodDisruptionBudget{pdb("pdb", 0, nil)}, wantVictims: []string{"a1"},
		},
		{
			name: "protected victims are tried first and the rest come back in order of importance", nodeCPU: "3", preemptorCPU: "2",
			pods: []*corev1.Pod{pod("a1", 1, "1", on("n1", 5), labelled("app", "a")),
				pod("b3", 3, "1", on("n1", 5)), pod("b2", 2, "1", on("n1", 5))},
			pdbs: []*policyv1.PodDisruptionBudget{pdb("pdb", 0, app)}, wantVictims: []string{"b3", "b2"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, []*corev1.Node{node("n1", c.nodeCPU)}, c.pods, envOptions{pdbs: c.pdbs})
			p := pod("p", 10, c.preemptorCPU)
			state, _ := e.failedCycle(p)
			pdbs, err := e.pl.listPDBs()
			if err != nil {
				t.Fatal(err)
			}
			ni, _ := e.prof.SnapshotSharedLister().Get("n1")
			victims, violations, st := e.pl.selectVictimsOnNode(context.Background(), state.Clone(), p, ni.Clone(), pdbs)
			if !st.IsSuccess() {
				t.Fatalf("status %v", st)
			}
			var names []string
			for _, v := range victims {
				names = append(names, v.Name)
			}
			if !reflect.DeepEqual(names, c.wantVictims) || violations != c.wantViolations {
				t.Errorf("victims %v with %d violations, want %v with %d", names, violations, c.wantVictims, c.wantViolations)
			}
			if len(ni.Pods) != len(c.pods) {
				t.Errorf("the snapshot's node lost pods: %d left of %d", len(ni.Pods), len(c.pods))
			}
		})
	}
}

func TestDryRunSamplesFromTheOffset(t *testing.T) {
	var nodes []*corev1.Node
	var pods []*corev1.Pod
	for i := 0; i < 20; i++ {
		n := "n" + string(rune('a'+i))
		nodes = append(nodes, node(n, "1"))
		pods = append(pods, pod("low-"+n, 1, "1", on(n, 5)))
	}
	cases := []struct {
		name   string
		offset int32
		want   []string
	}{
		{"from offset zero the first five nodes are tried", 0, []string{"na", "nb", "nc", "nd", "ne"}},
		{"from an offset the nodes after it are tried", 7, []string{"nh", "ni", "nj", "nk", "nl"}},
		{"past the last node the search wraps to the first", 18, []string{"ns", "nt", "na", "nb", "nc"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Five candidates wanted: no percentage, an absolute five.
			e := newEnv(t, nodes, pods, envOptions{args: argsObj(0, 5)})
			e.pl.randomOffset = func(int32) int32 { return c.offset }
			p := pod("p", 10, "1")
			state, m := e.failedCycle(p)
			cands, _, err := e.pl.findCandidates(context.Background(), state, p, m.NodesWithCode(e.prof.SnapshotSharedLister(), fw.Unschedulable))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, cand := range cands {
				got = append(got, cand.node)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("candidates %v, want %v", got, c.want)
			}
		})
	}
}

func TestDryRunGoesOnUntilOneCandidateViolatesNoBudget(t *testing.T) {
	var nodes []*corev1.Node
	var pods []*corev1.Pod
	for i := 0; i < 20; i++ {
		n := "n" + string(rune('a'+i))
		nodes = append(nodes, node(n, "1"))
		mods := []func(*corev1.Pod){on(n, 5)}
		if i < 6 {
			mods = append(mods, labelled("app", "protected"))
		}
		pods = append(pods, pod("low-"+n, 1, "1", mods...))
	}
	e := newEnv(t, nodes, pods, envOptions{args: argsObj(0, 5),
		pdbs: []*policyv1.PodDisruptionBudget{pdb("protected", 0, map[string]string{"app": "protected"})}})
	p := pod("p", 10, "1")
	state, m := e.failedCycle(p)
	cands, _, err := e.pl.findCandidates(context.Background(), state, p, m.NodesWithCode(e.prof.SnapshotSharedLister(), fw.Unschedulable))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cands {
		got = append(got, c.node)
	}
	// Five violating candidates are not enough; the first clean one ends the
	// search and comes first.
	want := []string{"ng", "na", "nb", "nc", "nd", "ne"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("candidates %v, want %v", got, want)
	}
}
