package tainttoleration

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func nodeWithTaints(name string, taints ...corev1.Taint) *fw.NodeInfo {
	ni := fw.NewNodeInfo()
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Taints: taints}})
	return ni
}

func podTolerating(tols ...corev1.Toleration) *corev1.Pod {
	return &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tols}}
}

func taint(key, value string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Value: value, Effect: effect}
}

func tolEqual(key, value string, effect corev1.TaintEffect) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpEqual, Value: value, Effect: effect}
}

func statusString(s *fw.Status) string {
	if s.IsSuccess() {
		return "Success"
	}
	return s.String()
}

func TestFilter(t *testing.T) {
	cases := []struct {
		name string
		pod  *corev1.Pod
		node *fw.NodeInfo
		want string
	}{
		{"a pod without tolerations fits a node without taints", podTolerating(), nodeWithTaints("n"), "Success"},
		{"a pod without tolerations does not fit a NoSchedule taint", podTolerating(), nodeWithTaints("n", taint("dedicated", "user1", corev1.TaintEffectNoSchedule)),
			"UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: user1}"},
		{"an equal toleration of the taint fits", podTolerating(tolEqual("dedicated", "user1", corev1.TaintEffectNoSchedule)),
			nodeWithTaints("n", taint("dedicated", "user1", corev1.TaintEffectNoSchedule)), "Success"},
		{"a toleration of another value does not", podTolerating(tolEqual("dedicated", "user2", corev1.TaintEffectNoSchedule)),
			nodeWithTaints("n", taint("dedicated", "user1", corev1.TaintEffectNoSchedule)),
			"UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: user1}"},
		{"an Exists toleration of the key fits any value", podTolerating(corev1.Toleration{Key: "foo", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}),
			nodeWithTaints("n", taint("foo", "bar", corev1.TaintEffectNoSchedule)), "Success"},
		{"a toleration without effect tolerates every effect", podTolerating(tolEqual("foo", "bar", "")),
			nodeWithTaints("n", taint("foo", "bar", corev1.TaintEffectNoSchedule), taint("foo", "bar", corev1.TaintEffectNoExecute)), "Success"},
		{"a NoExecute taint keeps pods out too", podTolerating(tolEqual("foo", "bar", corev1.TaintEffectNoSchedule)),
			nodeWithTaints("n", taint("foo", "bar", corev1.TaintEffectNoExecute)), "UnschedulableAndUnresolvable: node(s) had untolerated taint {foo: bar}"},
		{"a PreferNoSchedule taint does not filter", podTolerating(), nodeWithTaints("n", taint("foo", "bar", corev1.TaintEffectPreferNoSchedule)), "Success"},
		{"a taint without value is shown with an empty value", podTolerating(),
			nodeWithTaints("n", taint("node.kubernetes.io/unreachable", "", corev1.TaintEffectNoExecute)),
			"UnschedulableAndUnresolvable: node(s) had untolerated taint {node.kubernetes.io/unreachable: }"},
		{"the first untolerated taint is the one reported", podTolerating(tolEqual("a", "1", corev1.TaintEffectNoSchedule)),
			nodeWithTaints("n", taint("a", "1", corev1.TaintEffectNoSchedule), taint("b", "2", corev1.TaintEffectNoSchedule), taint("c", "3", corev1.TaintEffectNoSchedule)),
			"UnschedulableAndUnresolvable: node(s) had untolerated taint {b: 2}"},
	}
	pl := &TaintToleration{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := statusString(pl.Filter(context.Background(), fw.NewCycleState(), c.pod, c.node)); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestScore(t *testing.T) {
	prefer := corev1.TaintEffectPreferNoSchedule
	cases := []struct {
		name  string
		pod   *corev1.Pod
		nodes []*fw.NodeInfo
		want  []int64
	}{
		{"nodes without taints all score the maximum", podTolerating(), []*fw.NodeInfo{nodeWithTaints("n1"), nodeWithTaints("n2")}, []int64{100, 100}},
		{"a tolerated PreferNoSchedule taint costs nothing", podTolerating(tolEqual("foo", "bar", prefer)),
			[]*fw.NodeInfo{nodeWithTaints("n1", taint("foo", "bar", prefer)), nodeWithTaints("n2", taint("foo", "blah", prefer))}, []int64{100, 0}},
		{"more untolerated taints score lower", podTolerating(tolEqual("cpu-type", "arm64", prefer), tolEqual("disk-type", "ssd", prefer)),
			[]*fw.NodeInfo{
				nodeWithTaints("n1"),
				nodeWithTaints("n2", taint("cpu-type", "arm64", prefer), taint("disk-type", "hdd", prefer)),
				nodeWithTaints("n3", taint("cpu-type", "x86", prefer), taint("disk-type", "hdd", prefer)),
			}, []int64{100, 50, 0}},
		{"a NoSchedule toleration does not tolerate a PreferNoSchedule taint", podTolerating(tolEqual("cpu-type", "arm64", corev1.TaintEffectNoSchedule)),
			[]*fw.NodeInfo{nodeWithTaints("n1"), nodeWithTaints("n2", taint("cpu-type", "arm64", prefer))}, []int64{100, 0}},
		{"only PreferNoSchedule taints count", podTolerating(),
			[]*fw.NodeInfo{nodeWithTaints("n1", taint("a", "1", corev1.TaintEffectNoSchedule)), nodeWithTaints("n2", taint("a", "1", prefer))}, []int64{100, 0}},
	}
	pl := &TaintToleration{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			state := fw.NewCycleState()
			if st := pl.PreScore(context.Background(), state, c.pod, c.nodes); !st.IsSuccess() {
				t.Fatal(st)
			}
			var scores fw.NodeScoreList
			for _, ni := range c.nodes {
				s, st := pl.Score(context.Background(), state, c.pod, ni)
				if !st.IsSuccess() {
					t.Fatal(st)
				}
				scores = append(scores, fw.NodeScore{Name: ni.Node().Name, Score: s})
			}
			pl.NormalizeScore(context.Background(), state, c.pod, scores)
			for i, s := range scores {
				if s.Score != c.want[i] {
					t.Fatalf("got %v, want %v", scores, c.want)
				}
			}
		})
	}
}

func TestQueueingHint(t *testing.T) {
	pod := podTolerating(tolEqual("foo", "bar", corev1.TaintEffectNoSchedule))
	node := func(taints ...corev1.Taint) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{Taints: taints}}
	}
	cases := []struct {
		name string
		node *corev1.Node
		want fw.QueueingHint
	}{
		{"a node whose taints the pod tolerates may help", node(taint("foo", "bar", corev1.TaintEffectNoSchedule)), fw.Queue},
		{"a node with an untolerated taint does not", node(taint("foo", "baz", corev1.TaintEffectNoSchedule)), fw.QueueSkip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, _ := isSchedulableAfterNodeChange(pod, nil, c.node); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
