package noderesources

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	schedconfig "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func statusString(s *fw.Status) string {
	if s.IsSuccess() {
		return "Success"
	}
	return s.Code().String() + ": " + strings.Join(s.Reasons(), ", ")
}

func TestFitFilter(t *testing.T) {
	node := func(pods ...*corev1.Pod) *fw.NodeInfo {
		return nodeInfo("node", res{cpu: 10, mem: 20, foo: 5, hugeMi: 4 << 20, storage: 20}, pods...)
	}
	cases := []struct {
		name string
		args *schedconfig.NodeResourcesFitArgs
		pod  *corev1.Pod
		node *fw.NodeInfo
		want string
	}{
		{name: "a pod that requests nothing fits a full node", pod: pod(), node: node(pod(res{cpu: 10, mem: 20})), want: "Success"},
		{name: "a pod that fits what is left fits", pod: pod(res{cpu: 1, mem: 1}), node: node(pod(res{cpu: 5, mem: 5})), want: "Success"},
		{name: "too little cpu left", pod: pod(res{cpu: 1, mem: 1}), node: node(pod(res{cpu: 10, mem: 5})),
			want: "Unschedulable: Insufficient cpu"},
		{name: "too little memory left", pod: pod(res{cpu: 1, mem: 1}), node: node(pod(res{cpu: 5, mem: 19}), pod(res{cpu: 1, mem: 1})),
			want: "Unschedulable: Insufficient memory"},
		{name: "too little cpu and memory are both reported, cpu first", pod: pod(res{cpu: 2, mem: 2}), node: node(pod(res{cpu: 9, mem: 19})),
			want: "Unschedulable: Insufficient cpu, Insufficient memory"},
		{name: "containers' requests add up", pod: pod(res{cpu: 3, mem: 1}, res{cpu: 3, mem: 1}), node: node(pod(res{cpu: 5, mem: 5})),
			want: "Unschedulable: Insufficient cpu"},
		{name: "an init container larger than the containers sets the request", pod: withInit(pod(res{cpu: 1, mem: 1}), false, res{cpu: 3, mem: 1}),
			node: node(pod(res{cpu: 8, mem: 5})), want: "Unschedulable: Insufficient cpu"},
		{name: "an init container smaller than the containers does not add", pod: withInit(pod(res{cpu: 2, mem: 1}), false, res{cpu: 1, mem: 1}),
			node: node(pod(res{cpu: 8, mem: 5})), want: "Success"},
		{name: "a sidecar runs beside the containers, so its request adds", pod: withInit(pod(res{cpu: 2, mem: 1}), true, res{cpu: 1, mem: 1}),
			node: node(pod(res{cpu: 8, mem: 5})), want: "Unschedulable: Insufficient cpu"},
		{name: "an init container after a sidecar runs beside it", pod: withInit(withInit(pod(res{cpu: 1}), true, res{cpu: 1}), false, res{cpu: 2}),
			node: node(pod(res{cpu: 8})), want: "Unschedulable: Insufficient cpu"},
		{name: "the pod overhead adds to the request", pod: withOverhead(pod(res{cpu: 2, mem: 1}), res{cpu: 1}),
			node: node(pod(res{cpu: 8, mem: 5})), want: "Unschedulable: Insufficient cpu"},
		{name: "ephemeral storage is checked", pod: pod(res{storage: 10}), node: node(pod(res{storage: 15})),
			want: "Unschedulable: Insufficient ephemeral-storage"},
		{name: "an extended resource left is checked", pod: pod(res{foo: 3}), node: node(pod(res{foo: 3})),
			want: "Unschedulable: Insufficient example.com/foo"},
		{name: "an extended resource the node does not have at all cannot be had by preemption", pod: pod(res{bar: 1}), node: node(),
			want: "UnschedulableAndUnresolvable: Insufficient example.org/bar"},
		{name: "hugepages are checked", pod: pod(res{hugeMi: 6 << 20}), node: node(),
			want: "UnschedulableAndUnresolvable: Insufficient hugepages-2Mi"},
		{name: "an ignored extended resource is not checked", args: &schedconfig.NodeResourcesFitArgs{IgnoredResources: []string{"example.com/foo"}},
			pod: pod(res{foo: 9}), node: node(), want: "Success"},
		{name: "an ignored resource group is not checked", args: &schedconfig.NodeResourcesFitArgs{IgnoredResourceGroups: []string{"example.org"}},
			pod: pod(res{bar: 9, foo: 9}), node: node(), want: "UnschedulableAndUnresolvable: Insufficient example.com/foo"},
		{name: "ignoring does not apply to native resources", args: &schedconfig.NodeResourcesFitArgs{IgnoredResources: []string{"hugepages-2Mi"}},
			pod: pod(res{hugeMi: 6 << 20}), node: node(), want: "UnschedulableAndUnresolvable: Insufficient hugepages-2Mi"},
		{name: "a request beyond the node's allocatable is unresolvable", pod: pod(res{cpu: 11}), node: node(),
			want: "UnschedulableAndUnresolvable: Insufficient cpu"},
		{name: "a full node is too many pods", pod: pod(), node: nodeInfo("node", res{pods: 1}, pod()), want: "Unschedulable: Too many pods"},
		{name: "too many pods comes before other reasons", pod: pod(res{cpu: 1}), node: nodeInfo("node", res{pods: 1, cpu: 1}, pod(res{cpu: 1})),
			want: "Unschedulable: Too many pods, Insufficient cpu"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args runtime.Object
			if c.args != nil {
				args = c.args
			}
			p, err := NewFit(context.Background(), args, nil)
			if err != nil {
				t.Fatal(err)
			}
			f := p.(*Fit)
			state := fw.NewCycleState()
			if _, st := f.PreFilter(context.Background(), state, c.pod, nil); !st.IsSuccess() {
				t.Fatal(st)
			}
			if got := statusString(f.Filter(context.Background(), state, c.pod, c.node)); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// scoreCase is one of upstream's scoring examples: the pod on each node, and the
// scores upstream computes.
type scoreCase struct {
	name      string
	pod       *corev1.Pod
	nodes     []*fw.NodeInfo
	resources []schedconfig.ResourceSpec
	want      []int64
}

func runFitScores(t *testing.T, strategy schedconfig.ScoringStrategy, cases []scoreCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := strategy
			st.Resources = c.resources
			if st.Resources == nil {
				st.Resources = defaultResources
			}
			p, err := NewFit(context.Background(), &schedconfig.NodeResourcesFitArgs{ScoringStrategy: &st}, nil)
			if err != nil {
				t.Fatal(err)
			}
			f := p.(*Fit)
			state := fw.NewCycleState()
			f.PreFilter(context.Background(), state, c.pod, nil)
			var got []int64
			for _, ni := range c.nodes {
				s, status := f.Score(context.Background(), state, c.pod, ni)
				if !status.IsSuccess() {
					t.Fatal(status)
				}
				got = append(got, s)
			}
			if !equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLeastAllocatedScores(t *testing.T) {
	runFitScores(t, schedconfig.ScoringStrategy{Type: schedconfig.LeastAllocated}, []scoreCase{
		{name: "nothing scheduled, nothing requested", pod: pod(),
			nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, mem: 10000}), nodeInfo("n2", res{cpu: 4000, mem: 10000})}, want: []int64{100, 100}},
		// cpu (4000-3000)*100/4000 = 25, memory (10000-5000)*100/10000 = 50: 37;
		// cpu (6000-3000)*100/6000 = 50, memory 50: 50.
		{name: "nothing scheduled, resources requested, differently sized nodes", pod: pod(res{cpu: 1000, mem: 2000}, res{cpu: 2000, mem: 3000}),
			nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, mem: 10000}), nodeInfo("n2", res{cpu: 6000, mem: 10000})}, want: []int64{37, 50}},
		// cpu 40, memory 100: 70; cpu 40, memory 75: 57.
		{name: "no resources requested, pods scheduled with resources", pod: pod(),
			nodes: []*fw.NodeInfo{
				nodeInfo("n1", res{cpu: 10000, mem: 20000}, pod(res{cpu: 3000, mem: 0}), pod(res{cpu: 3000, mem: 0})),
				nodeInfo("n2", res{cpu: 10000, mem: 20000}, pod(res{cpu: 3000, mem: 0}), pod(res{cpu: 3000, mem: 5000}))},
			want: []int64{70, 57}},
		// cpu 40, memory 75: 57; cpu 40, memory (50000-10000)*100/50000 = 80: 60.
		{name: "resources requested, pods scheduled with resources, differently sized nodes", pod: pod(res{cpu: 1000, mem: 2000}, res{cpu: 2000, mem: 3000}),
			nodes: []*fw.NodeInfo{
				nodeInfo("n1", res{cpu: 10000, mem: 20000}, pod(res{cpu: 3000, mem: 0})),
				nodeInfo("n2", res{cpu: 10000, mem: 50000}, pod(res{cpu: 3000, mem: 5000}))},
			want: []int64{57, 60}},
		// cpu over capacity scores 0: (0+100)/2 = 50 and (0+50)/2 = 25.
		{name: "requested resources exceed node capacity", pod: pod(res{cpu: 3000, mem: 0}),
			nodes: []*fw.NodeInfo{
				nodeInfo("n1", res{cpu: 4000, mem: 10000}, pod(res{cpu: 3000, mem: 0})),
				nodeInfo("n2", res{cpu: 4000, mem: 10000}, pod(res{cpu: 3000, mem: 5000}))},
			want: []int64{50, 25}},
		{name: "zero node resources", pod: pod(),
			nodes: []*fw.NodeInfo{nodeInfo("n1", nil, pod(res{cpu: 3000, mem: 0})), nodeInfo("n2", nil, pod(res{cpu: 3000, mem: 5000}))}, want: []int64{0, 0}},
		// (25*1 + 50*2)/3 = 41; (50*1 + 50*2)/3 = 50.
		{name: "different weights on cpu and memory", pod: pod(res{cpu: 1000, mem: 2000}, res{cpu: 2000, mem: 3000}),
			nodes:     []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, mem: 10000}), nodeInfo("n2", res{cpu: 6000, mem: 10000})},
			resources: []schedconfig.ResourceSpec{{Name: "memory", Weight: 2}, {Name: "cpu", Weight: 1}}, want: []int64{41, 50}},
		// The extended resource is left out where the pod does not request it.
		{name: "an extended resource the pod does not request is not scored", pod: pod(res{cpu: 1000, mem: 2000}, res{cpu: 2000, mem: 3000}),
			nodes:     []*fw.NodeInfo{nodeInfo("n1", res{cpu: 6000, mem: 10000}), nodeInfo("n2", res{cpu: 6000, mem: 10000, foo: 4})},
			resources: []schedconfig.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}, {Name: string(foo), Weight: 1}}, want: []int64{50, 50}},
		// foo: (4-2)/4 = 50 and (10-2)/10 = 80: (50+50+50)/3 = 50, (50+50+80)/3 = 60.
		{name: "an extended resource the pod requests is scored", pod: pod(res{cpu: 3000, mem: 5000, foo: 2}),
			nodes:     []*fw.NodeInfo{nodeInfo("n1", res{cpu: 6000, mem: 10000, foo: 4}), nodeInfo("n2", res{cpu: 6000, mem: 10000, foo: 10})},
			resources: []schedconfig.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}, {Name: string(foo), Weight: 1}}, want: []int64{50, 60}},
		{name: "a resource the node does not have is left out", pod: pod(res{cpu: 3000, mem: 4000}),
			nodes:     []*fw.NodeInfo{nodeInfo("n1", res{cpu: 6000, mem: 10000}), nodeInfo("n2", res{cpu: 6000, mem: 10000, foo: 4})},
			resources: []schedconfig.ResourceSpec{{Name: string(foo), Weight: 2}, {Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}}, want: []int64{55, 55}},
		// Containers without requests count as 100m and 200Mi when scoring: cpu
		// (1000-200)*100/1000 = 80, memory full: 0; (80+0)/2 = 40.
		{name: "containers without requests count at the defaults", pod: pod(res{}),
			nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 1000, mem: 2 * fw.DefaultMemoryRequest}, pod(res{}))}, want: []int64{40}},
	})
}

func TestMostAllocatedScores(t *testing.T) {
	runFitScores(t, schedconfig.ScoringStrategy{Type: schedconfig.MostAllocated}, []scoreCase{
		{name: "nothing scheduled, nothing requested", pod: pod(),
			nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, mem: 10000}), nodeInfo("n2", res{cpu: 4000, mem: 10000})}, want: []int64{0, 0}},
		// cpu 3000*100/4000 = 75, memory 50: 62; cpu 50, memory 50: 50.
		{name: "nothing scheduled, resources requested, differently sized nodes", pod: pod(res{cpu: 1000, mem: 2000}, res{cpu: 2000, mem: 3000}),
			nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, mem: 10000}), nodeInfo("n2", res{cpu: 6000, mem: 10000})}, want: []int64{62, 50}},
		// cpu 60, memory 25: 42; cpu 60, memory 50: 55.
		{name: "resources requested, pods scheduled with resources", pod: pod(res{cpu: 1000, mem: 2000}, res{cpu: 2000, mem: 3000}),
			nodes: []*fw.NodeInfo{
				nodeInfo("n1", res{cpu: 10000, mem: 20000}, pod(res{cpu: 3000, mem: 0})),
				nodeInfo("n2", res{cpu: 10000, mem: 20000}, pod(res{cpu: 3000, mem: 5000}))},
			want: []int64{42, 55}},
		// cpu over capacity counts as full: (100+0)/2... memory 0 requested: cpu 100, memory 0 → 50.
		{name: "requested resources exceed node capacity", pod: pod(res{cpu: 5000, mem: 0}),
			nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, mem: 10000})}, want: []int64{50}},
		// (75*1 + 50*2)/3 = 58.
		{name: "different weights on cpu and memory", pod: pod(res{cpu: 1000, mem: 2000}, res{cpu: 2000, mem: 3000}),
			nodes:     []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, mem: 10000})},
			resources: []schedconfig.ResourceSpec{{Name: "memory", Weight: 2}, {Name: "cpu", Weight: 1}}, want: []int64{58}},
	})
}

func TestRequestedToCapacityRatioScores(t *testing.T) {
	leastFirst := schedconfig.ScoringStrategy{Type: schedconfig.RequestedToCapacityRatio, RequestedToCapacityRatio: &schedconfig.RequestedToCapacityRatioParam{
		Shape: []schedconfig.UtilizationShapePoint{{Utilization: 0, Score: 10}, {Utilization: 100, Score: 0}}}}
	runFitScores(t, leastFirst, []scoreCase{
		{name: "nothing scheduled, nothing requested, least requested first", pod: pod(),
			nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, mem: 10000}, pod()), nodeInfo("n2", res{cpu: 4000, mem: 10000})}, want: []int64{100, 100}},
		// cpu 75% → 25, memory 50% → 50: round(37.5) = 38; cpu 50% and memory 50%: 50.
		{name: "resources requested, differently sized nodes, scores rounded", pod: pod(res{cpu: 1000, mem: 2000}, res{cpu: 2000, mem: 3000}),
			nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, mem: 10000}), nodeInfo("n2", res{cpu: 6000, mem: 10000})}, want: []int64{38, 50}},
		{name: "no resources requested, pods scheduled with resources", pod: pod(),
			nodes: []*fw.NodeInfo{
				nodeInfo("n1", res{cpu: 4000, mem: 10000}, pod(res{cpu: 3000, mem: 5000})),
				nodeInfo("n2", res{cpu: 6000, mem: 10000}, pod(res{cpu: 3000, mem: 5000}))},
			want: []int64{38, 50}},
	})
	binPacking := schedconfig.ScoringStrategy{Type: schedconfig.RequestedToCapacityRatio, RequestedToCapacityRatio: &schedconfig.RequestedToCapacityRatioParam{
		Shape: []schedconfig.UtilizationShapePoint{{Utilization: 0, Score: 0}, {Utilization: 100, Score: 10}}}}
	two := []schedconfig.ResourceSpec{{Name: string(foo), Weight: 3}, {Name: string(bar), Weight: 5}}
	runFitScores(t, binPacking, []scoreCase{
		{name: "an extended resource the pod does not request scores nothing", pod: pod(),
			nodes:     []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, foo: 8}), nodeInfo("n2", res{cpu: 4000, foo: 4})},
			resources: []schedconfig.ResourceSpec{{Name: string(foo), Weight: 1}}, want: []int64{0, 0}},
		// foo 2/8 → 25 and 2/4 → 50.
		{name: "bin packing on one extended resource", pod: pod(res{foo: 2}),
			nodes:     []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, foo: 8}), nodeInfo("n2", res{cpu: 4000, foo: 4})},
			resources: []schedconfig.ResourceSpec{{Name: string(foo), Weight: 1}}, want: []int64{25, 50}},
		// n1: foo 2/4 → 50, bar 2/8 → 25: (50*3 + 25*5)/8 = 34.4 → 34; n2: foo 2/8 → 25, bar 2/4 → 50: (75+250)/8 = 40.6 → 41.
		{name: "bin packing on two weighted extended resources", pod: pod(res{foo: 2, bar: 2}),
			nodes:     []*fw.NodeInfo{nodeInfo("n1", res{foo: 4, bar: 8}), nodeInfo("n2", res{foo: 8, bar: 4})},
			resources: two, want: []int64{34, 41}},
		// n1 foo 0/4 scores 0 and is left out of the average: bar (2+0)/8... bar 2/8 → 25.
		{name: "a resource scoring zero is left out of the average", pod: pod(res{bar: 2}, res{foo: 0}),
			nodes:     []*fw.NodeInfo{nodeInfo("n1", res{foo: 4, bar: 8})},
			resources: two, want: []int64{25}},
	})
}

func TestBalancedAllocationScores(t *testing.T) {
	cases := []struct {
		name      string
		pod       *corev1.Pod
		nodes     []*fw.NodeInfo
		resources []schedconfig.ResourceSpec
		skip      bool
		want      []int64
	}{
		{name: "a pod requesting nothing is not scored", pod: pod(), nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, mem: 10000})}, skip: true},
		// cpu 0.75, memory 0.5: 100*(1-0.125) = 87; both 0.5: 100.
		{name: "nothing scheduled, resources requested, differently sized nodes", pod: pod(res{cpu: 1000, mem: 2000}, res{cpu: 2000, mem: 3000}),
			nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 4000, mem: 10000}), nodeInfo("n2", res{cpu: 6000, mem: 10000})}, want: []int64{87, 100}},
		// cpu 0.6, memory 0.25: 82; cpu 0.6, memory 0.5: 95.
		{name: "resources requested, pods scheduled with resources", pod: pod(res{cpu: 1000, mem: 2000}, res{cpu: 2000, mem: 3000}),
			nodes: []*fw.NodeInfo{
				nodeInfo("n1", res{cpu: 10000, mem: 20000}, pod(res{cpu: 3000, mem: 0})),
				nodeInfo("n2", res{cpu: 10000, mem: 20000}, pod(res{cpu: 3000, mem: 5000}))},
			want: []int64{82, 95}},
		// Fractions cap at 1: cpu 1, memory 0.5: 75.
		{name: "requested resources exceed node capacity", pod: pod(res{cpu: 3000, mem: 5000}),
			nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 2000, mem: 10000})}, want: []int64{75}},
		// Containers without requests count as nothing here (no defaults).
		{name: "defaults do not apply to balanced allocation", pod: pod(res{cpu: 1000}, res{}),
			nodes: []*fw.NodeInfo{nodeInfo("n1", res{cpu: 2000, mem: 10000})}, want: []int64{75}},
		// cpu 0.5, memory 0.5, foo 2/4 = 0.5: 100; foo not requested on n2: only cpu and memory.
		{name: "three resources use the standard deviation", pod: pod(res{cpu: 1000, mem: 5000, foo: 1}),
			nodes:     []*fw.NodeInfo{nodeInfo("n1", res{cpu: 2000, mem: 10000, foo: 4})},
			resources: []schedconfig.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}, {Name: string(foo), Weight: 1}},
			// fractions 0.5, 0.5, 0.25: mean 0.4167, std 0.1179: 88.
			want: []int64{88}},
		{name: "an extended resource the pod does not request is left out", pod: pod(res{cpu: 1000, mem: 5000}),
			nodes:     []*fw.NodeInfo{nodeInfo("n1", res{cpu: 2000, mem: 10000, foo: 4})},
			resources: []schedconfig.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}, {Name: string(foo), Weight: 1}},
			want:      []int64{100}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args runtime.Object
			if c.resources != nil {
				args = &schedconfig.NodeResourcesBalancedAllocationArgs{Resources: c.resources}
			}
			p, err := NewBalancedAllocation(context.Background(), args, nil)
			if err != nil {
				t.Fatal(err)
			}
			b := p.(*BalancedAllocation)
			state := fw.NewCycleState()
			st := b.PreScore(context.Background(), state, c.pod, c.nodes)
			if st.IsSkip() != c.skip {
				t.Fatalf("PreScore %v, want skip %v", st, c.skip)
			}
			if c.skip {
				return
			}
			var got []int64
			for _, ni := range c.nodes {
				s, _ := b.Score(context.Background(), state, c.pod, ni)
				got = append(got, s)
			}
			if !equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestFitArgsValidation(t *testing.T) {
	cases := []struct {
		name string
		args *schedconfig.NodeResourcesFitArgs
		want string
	}{
		{"a negative weight", &schedconfig.NodeResourcesFitArgs{ScoringStrategy: &schedconfig.ScoringStrategy{Type: schedconfig.LeastAllocated,
			Resources: []schedconfig.ResourceSpec{{Name: "memory", Weight: -1}, {Name: "cpu", Weight: 1}}}},
			"scoringStrategy.resources[0].weight: Invalid value: -1: resource weight of memory should be in (0, 100]"},
		{"a zero weight", &schedconfig.NodeResourcesFitArgs{ScoringStrategy: &schedconfig.ScoringStrategy{Type: schedconfig.LeastAllocated,
			Resources: []schedconfig.ResourceSpec{{Name: "memory", Weight: 1}, {Name: "cpu", Weight: 0}}}},
			"scoringStrategy.resources[1].weight: Invalid value: 0"},
		{"a weight above 100", &schedconfig.NodeResourcesFitArgs{ScoringStrategy: &schedconfig.ScoringStrategy{Type: schedconfig.LeastAllocated,
			Resources: []schedconfig.ResourceSpec{{Name: "memory", Weight: 1}, {Name: "cpu", Weight: 101}}}},
			"scoringStrategy.resources[1].weight: Invalid value: 101"},
		{"a shape with points out of order", &schedconfig.NodeResourcesFitArgs{ScoringStrategy: &schedconfig.ScoringStrategy{Type: schedconfig.RequestedToCapacityRatio,
			Resources: defaultResources, RequestedToCapacityRatio: &schedconfig.RequestedToCapacityRatioParam{
				Shape: []schedconfig.UtilizationShapePoint{{Utilization: 50, Score: 1}, {Utilization: 10, Score: 2}}}}},
			"scoringStrategy.requestedToCapacityRatio.shape[1].utilization: Invalid value: 10: utilization values must be sorted in increasing order"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewFit(context.Background(), c.args, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}
