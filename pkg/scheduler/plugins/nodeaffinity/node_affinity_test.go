package nodeaffinity

import (
	"context"
	"reflect"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	schedconfig "k8s.io/kube-scheduler/config/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func labelled(name string, labels map[string]string) *fw.NodeInfo {
	ni := fw.NewNodeInfo()
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}})
	return ni
}

func req(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func term(exprs ...corev1.NodeSelectorRequirement) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: exprs}
}

func fieldTerm(fields ...corev1.NodeSelectorRequirement) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchFields: fields}
}

func podRequiring(selector map[string]string, terms ...corev1.NodeSelectorTerm) *corev1.Pod {
	p := &corev1.Pod{Spec: corev1.PodSpec{NodeSelector: selector}}
	if terms != nil {
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms}}}
	}
	return p
}

func statusString(s *fw.Status) string {
	if s.IsSuccess() {
		return "Success"
	}
	return s.String()
}

func TestFilter(t *testing.T) {
	mismatch := "UnschedulableAndUnresolvable: " + ErrReasonPod
	foo := map[string]string{"foo": "bar"}
	cases := []struct {
		name   string
		pod    *corev1.Pod
		labels map[string]string
		args   *schedconfig.NodeAffinityArgs
		want   string
	}{
		{name: "a pod without selector or affinity skips the plugin", pod: podRequiring(nil), labels: foo, want: "Skip: "},
		{name: "a nodeSelector the node's labels match fits", pod: podRequiring(foo), labels: map[string]string{"foo": "bar", "baz": "blah"}, want: "Success"},
		{name: "a nodeSelector the node's labels miss does not", pod: podRequiring(map[string]string{"foo": "bar"}), labels: map[string]string{"foo": "other"}, want: mismatch},
		{name: "an In requirement matches", pod: podRequiring(nil, term(req("foo", corev1.NodeSelectorOpIn, "value1", "bar"))), labels: foo, want: "Success"},
		{name: "a NotIn requirement excludes", pod: podRequiring(nil, term(req("foo", corev1.NodeSelectorOpNotIn, "bar"))), labels: foo, want: mismatch},
		{name: "an Exists requirement matches any value", pod: podRequiring(nil, term(req("foo", corev1.NodeSelectorOpExists))), labels: foo, want: "Success"},
		{name: "a DoesNotExist requirement excludes", pod: podRequiring(nil, term(req("foo", corev1.NodeSelectorOpDoesNotExist))), labels: foo, want: mismatch},
		{name: "a Gt requirement compares numbers", pod: podRequiring(nil, term(req("cores", corev1.NodeSelectorOpGt, "4"))), labels: map[string]string{"cores": "8"}, want: "Success"},
		{name: "requirements in one term are ANDed", pod: podRequiring(nil, term(req("foo", corev1.NodeSelectorOpIn, "bar"), req("baz", corev1.NodeSelectorOpExists))),
			labels: foo, want: mismatch},
		{name: "terms are ORed", pod: podRequiring(nil, term(req("baz", corev1.NodeSelectorOpExists)), term(req("foo", corev1.NodeSelectorOpIn, "bar"))),
			labels: foo, want: "Success"},
		{name: "an empty term matches nothing", pod: podRequiring(nil, corev1.NodeSelectorTerm{}), labels: foo, want: mismatch},
		{name: "nodeSelector and required affinity must both match", pod: podRequiring(map[string]string{"zone": "a"}, term(req("foo", corev1.NodeSelectorOpIn, "bar"))),
			labels: foo, want: mismatch},
		{name: "a matchFields term matches the node's name", pod: podRequiring(nil, fieldTerm(req("metadata.name", corev1.NodeSelectorOpIn, "node"))), labels: nil, want: "Success"},
		{name: "the scheduler's added affinity is enforced first", pod: podRequiring(foo), labels: foo,
			args: &schedconfig.NodeAffinityArgs{AddedAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{term(req("pool", corev1.NodeSelectorOpIn, "gpu"))}}}},
			want: "UnschedulableAndUnresolvable: node(s) didn't match scheduler-enforced node affinity"},
		{name: "the added affinity applies to pods without any", pod: podRequiring(nil), labels: map[string]string{"pool": "gpu"},
			args: &schedconfig.NodeAffinityArgs{AddedAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{term(req("pool", corev1.NodeSelectorOpIn, "gpu"))}}}},
			want: "Success"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args runtime.Object
			if c.args != nil {
				args = c.args
			}
			p, err := New(context.Background(), args, nil)
			if err != nil {
				t.Fatal(err)
			}
			pl := p.(*NodeAffinity)
			state := fw.NewCycleState()
			_, st := pl.PreFilter(context.Background(), state, c.pod, nil)
			if st.IsSkip() {
				if got := statusString(st); got != c.want {
					t.Fatalf("PreFilter: got %q, want %q", got, c.want)
				}
				return
			}
			if got := statusString(pl.Filter(context.Background(), state, c.pod, labelled("node", c.labels))); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestPreFilterNarrowsToNamedNodes(t *testing.T) {
	name := func(op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
		return req("metadata.name", op, values...)
	}
	cases := []struct {
		name   string
		pod    *corev1.Pod
		want   []string
		status string
	}{
		{"a term naming nodes narrows to them", podRequiring(nil, fieldTerm(name(corev1.NodeSelectorOpIn, "node1", "node2"))), []string{"node1", "node2"}, "Success"},
		{"terms naming nodes narrow to their union", podRequiring(nil, fieldTerm(name(corev1.NodeSelectorOpIn, "node1")), fieldTerm(name(corev1.NodeSelectorOpIn, "node2"))),
			[]string{"node1", "node2"}, "Success"},
		{"requirements in one term narrow to their intersection",
			podRequiring(nil, fieldTerm(name(corev1.NodeSelectorOpIn, "node1", "node2"), name(corev1.NodeSelectorOpIn, "node2", "node3"))), []string{"node2"}, "Success"},
		{"a term without names admits every node", podRequiring(nil, fieldTerm(name(corev1.NodeSelectorOpIn, "node1")), term(req("foo", corev1.NodeSelectorOpExists))),
			nil, "Success"},
		{"a NotIn name does not narrow", podRequiring(nil, fieldTerm(name(corev1.NodeSelectorOpNotIn, "node1"))), nil, "Success"},
		{"disjoint names in one term conflict",
			podRequiring(nil, fieldTerm(name(corev1.NodeSelectorOpIn, "node1"), name(corev1.NodeSelectorOpIn, "node2"))), nil,
			"UnschedulableAndUnresolvable: pod affinity terms conflict"},
		{"a nodeSelector alone does not narrow", podRequiring(map[string]string{"foo": "bar"}), nil, "Success"},
	}
	pl := &NodeAffinity{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, st := pl.PreFilter(context.Background(), fw.NewCycleState(), c.pod, nil)
			if got := statusString(st); got != c.status {
				t.Fatalf("status %q, want %q", got, c.status)
			}
			var got []string
			if !res.AllNodes() {
				for n := range res.NodeNames {
					got = append(got, n)
				}
				sort.Strings(got)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("narrowed to %v, want %v", got, c.want)
			}
		})
	}
}

func TestScore(t *testing.T) {
	preferred := func(weight int32, t corev1.NodeSelectorTerm) corev1.PreferredSchedulingTerm {
		return corev1.PreferredSchedulingTerm{Weight: weight, Preference: t}
	}
	podPreferring := func(terms ...corev1.PreferredSchedulingTerm) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: terms}}}}
	}
	nodes := []*fw.NodeInfo{
		labelled("n1", map[string]string{"foo": "bar"}),
		labelled("n2", map[string]string{"key": "value"}),
		labelled("n3", map[string]string{"foo": "bar", "key": "value", "az": "az1"}),
	}
	cases := []struct {
		name string
		pod  *corev1.Pod
		args *schedconfig.NodeAffinityArgs
		skip bool
		want []int64
	}{
		{name: "a pod without preferences skips scoring", pod: &corev1.Pod{}, skip: true},
		{name: "the matching weights add up and the best node scores the maximum",
			pod: podPreferring(preferred(2, term(req("foo", corev1.NodeSelectorOpIn, "bar"))), preferred(4, term(req("key", corev1.NodeSelectorOpIn, "value")))),
			// 2, 4 and 6 normalize to 33, 66 and 100.
			want: []int64{33, 66, 100}},
		{name: "no matching node scores zero everywhere", pod: podPreferring(preferred(5, term(req("gpu", corev1.NodeSelectorOpExists)))),
			want: []int64{0, 0, 0}},
		{name: "the scheduler's added preferences add to the pod's",
			pod: podPreferring(preferred(2, term(req("foo", corev1.NodeSelectorOpIn, "bar")))),
			args: &schedconfig.NodeAffinityArgs{AddedAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{
				preferred(6, term(req("key", corev1.NodeSelectorOpExists)))}}},
			// 2, 6 and 8: 25, 75, 100.
			want: []int64{25, 75, 100}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args runtime.Object
			if c.args != nil {
				args = c.args
			}
			p, err := New(context.Background(), args, nil)
			if err != nil {
				t.Fatal(err)
			}
			pl := p.(*NodeAffinity)
			state := fw.NewCycleState()
			st := pl.PreScore(context.Background(), state, c.pod, nodes)
			if st.IsSkip() != c.skip {
				t.Fatalf("PreScore %v, want skip %v", st, c.skip)
			}
			if c.skip {
				return
			}
			var scores fw.NodeScoreList
			for _, ni := range nodes {
				s, _ := pl.Score(context.Background(), state, c.pod, ni)
				scores = append(scores, fw.NodeScore{Name: ni.Node().Name, Score: s})
			}
			pl.NormalizeScore(context.Background(), state, c.pod, scores)
			for i := range scores {
				if scores[i].Score != c.want[i] {
					t.Fatalf("got %v, want %v", scores, c.want)
				}
			}
		})
	}
}
