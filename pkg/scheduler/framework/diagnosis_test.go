package framework

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFitErrorMessage(t *testing.T) {
	insufficient := NewStatus(Unschedulable, "Insufficient cpu")
	cases := []struct {
		name       string
		statuses   map[string]*Status
		absent     *Status
		numNodes   int
		postFilter string
		want       string
	}{
		{name: "reasons are counted over the nodes", numNodes: 3,
			statuses: map[string]*Status{"a": insufficient, "b": insufficient, "c": NewStatus(UnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: gpu}")},
			want:     "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu."},
		{name: "nodes without a status of their own count with the absent status", numNodes: 3,
			statuses: map[string]*Status{"a": NewStatus(UnschedulableAndUnresolvable, "No preemption victims found for incoming pod")},
			absent:   NewStatus(UnschedulableAndUnresolvable, "Preemption is not helpful for scheduling"),
			want:     "0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."},
		{name: "the PostFilter message follows with its own full stop", numNodes: 1,
			statuses: map[string]*Status{"a": insufficient}, postFilter: "preemption: not eligible due to preemptionPolicy=Never.",
			want: "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewNodeToStatus()
			if c.absent != nil {
				m.AbsentStatus = c.absent
			}
			for n, s := range c.statuses {
				m.Set(n, s)
			}
			e := &FitError{NumAllNodes: c.numNodes, Diagnosis: Diagnosis{NodeToStatus: m, PostFilterMsg: c.postFilter}}
			if got := e.Error(); got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

type listOf []*NodeInfo

func (l listOf) List() []*NodeInfo                                 { return l }
func (l listOf) HavePodsWithAffinityList() []*NodeInfo             { return nil }
func (l listOf) HavePodsWithRequiredAntiAffinityList() []*NodeInfo { return nil }
func (l listOf) Get(string) (*NodeInfo, error)                     { return nil, nil }
func (l listOf) NumNodes() int                                     { return len(l) }

func TestNodesWithCodeAndTheirCount(t *testing.T) {
	var nodes listOf
	for _, n := range []string{"a", "b", "c", "d"} {
		ni := NewNodeInfo()
		ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}})
		nodes = append(nodes, ni)
	}
	cases := []struct {
		name   string
		set    map[string]Code
		absent Code
		want   []string
	}{
		{name: "recorded nodes with the code, in list order", set: map[string]Code{"d": Unschedulable, "b": Unschedulable, "c": UnschedulableAndUnresolvable},
			absent: UnschedulableAndUnresolvable, want: []string{"b", "d"}},
		{name: "every node when the absent status has the code and none is recorded", absent: Unschedulable,
			want: []string{"a", "b", "c", "d"}},
		{name: "absent nodes and recorded ones with the code", set: map[string]Code{"a": UnschedulableAndUnresolvable, "c": Unschedulable},
			absent: Unschedulable, want: []string{"b", "c", "d"}},
		{name: "none when nothing has the code", absent: UnschedulableAndUnresolvable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewNodeToStatus()
			m.AbsentStatus = NewStatus(c.absent)
			for n, code := range c.set {
				m.Set(n, NewStatus(code))
			}
			var got []string
			for _, ni := range m.NodesWithCode(nodes, Unschedulable) {
				got = append(got, ni.Node().Name)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			if n := m.CountWithCode(len(nodes), Unschedulable); n != len(c.want) {
				t.Fatalf("counted %d, want %d", n, len(c.want))
			}
		})
	}
}
