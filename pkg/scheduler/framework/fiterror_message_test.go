package framework

import "testing"

func TestFitErrorMessagesReadAsUpstreams(t *testing.T) {
	taint := NewStatus(UnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: gpu}")
	cases := []struct {
		name string
		err  FitError
		want string
	}{
		{
			name: "reasons are counted over nodes and sorted as strings",
			err: FitError{NumAllNodes: 3, Diagnosis: Diagnosis{NodeToStatus: statuses(map[string]*Status{
				"a": NewStatus(Unschedulable, "Insufficient cpu"), "b": taint, "c": taint})}},
			want: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}.",
		},
		{
			name: "one node may give several reasons, each counted",
			err: FitError{NumAllNodes: 2, Diagnosis: Diagnosis{NodeToStatus: statuses(map[string]*Status{
				"a": NewStatus(Unschedulable, "Insufficient cpu", "Insufficient memory"), "b": NewStatus(Unschedulable, "Insufficient cpu")})}},
			want: "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu.",
		},
		{
			name: "preemption's message follows, with a single full stop as v1.34 writes it",
			err: FitError{NumAllNodes: 1, Diagnosis: Diagnosis{NodeToStatus: statuses(map[string]*Status{"a": NewStatus(Unschedulable, "Insufficient cpu")}),
				PostFilterMsg: "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."}},
			want: "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
		},
		{
			name: "a PreFilter rejection replaces the per-node reasons",
			err:  FitError{NumAllNodes: 4, Diagnosis: Diagnosis{NodeToStatus: NewNodeToStatus(), PreFilterMsg: `persistentvolumeclaim "data" not found`}},
			want: `0/4 nodes are available: persistentvolumeclaim "data" not found.`,
		},
		{
			name: "nodes a PreFilter left out share its status",
			err: func() FitError {
				m := statuses(map[string]*Status{"a": NewStatus(Unschedulable, "Insufficient cpu")})
				m.AbsentStatus = NewStatus(UnschedulableAndUnresolvable, "node(s) didn't satisfy plugin(s) [NodeAffinity]")
				return FitError{NumAllNodes: 3, Diagnosis: Diagnosis{NodeToStatus: m}}
			}(),
			want: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.err.Error(); got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func statuses(m map[string]*Status) *NodeToStatus {
	n := NewNodeToStatus()
	for k, v := range m {
		n.Set(k, v)
	}
	return n
}
