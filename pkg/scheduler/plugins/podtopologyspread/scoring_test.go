package podtopologyspread

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

func TestScore(t *testing.T) {
	threeWeb := []*corev1.Pod{web("w1", "a1"), web("w2", "a2"), web("w3", "b1")}
	cases := []struct {
		name     string
		pod      *corev1.Pod
		nodes    []*corev1.Node
		pods     []*corev1.Pod
		objs     []runtime.Object
		feasible []string
		// want nil: PreScore skips.
		want map[string]int64
	}{
		{
			name:  "a pod with only DoNotSchedule constraints skips scoring",
			pod:   webPod().Spread(1, zone, corev1.DoNotSchedule, app("web")).Obj(),
			nodes: fourNodes(),
			pods:  threeWeb,
		},
		{
			name:  "a pod without constraints that belongs to nothing skips scoring",
			pod:   webPod().Obj(),
			nodes: fourNodes(),
			pods:  threeWeb,
		},
		{
			name:  "the zone with fewer matching pods scores higher",
			pod:   webPod().Spread(1, zone, corev1.ScheduleAnyway, app("web")).Obj(),
			nodes: fourNodes(),
			pods:  threeWeb,
			want:  map[string]int64{"a1": 33, "a2": 33, "b1": 100, "b2": 100},
		},
		{
			name:  "on hostname each node's own matching pods count",
			pod:   webPod().Spread(1, hostname, corev1.ScheduleAnyway, app("web")).Obj(),
			nodes: fourNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "a1"), web("w3", "b1")},
			want:  map[string]int64{"a1": 0, "a2": 100, "b1": 50, "b2": 100},
		},
		{
			name:  "a larger maxSkew flattens the differences",
			pod:   webPod().Spread(3, hostname, corev1.ScheduleAnyway, app("web")).Obj(),
			nodes: fourNodes(),
			pods:  []*corev1.Pod{web("w1", "a1"), web("w2", "a1"), web("w3", "b1")},
			want:  map[string]int64{"a1": 33, "a2": 100, "b1": 66, "b2": 100},
		},
		{
			name:  "a feasible node without the topology key of the pod's own constraint scores 0",
			pod:   webPod().Spread(1, zone, corev1.ScheduleAnyway, app("web")).Obj(),
			nodes: append(fourNodes(), pt.Node("nozone", nil)),
			pods:  threeWeb,
			want:  map[string]int64{"a1": 33, "a2": 33, "b1": 100, "b2": 100, "nozone": 0},
		},
		{
			name:     "domains are counted among the feasible nodes only, matching pods on all nodes",
			pod:      webPod().Spread(1, zone, corev1.ScheduleAnyway, app("web")).Obj(),
			nodes:    append(fourNodes(), pt.Node("c1", map[string]string{zone: "c"})),
			pods:     threeWeb,
			feasible: []string{"a2", "b2"},
			want:     map[string]int64{"a2": 33, "b2": 100},
		},
		{
			name:  "system defaults spread a ReplicaSet's pods over hostnames and zones",
			pod:   webPod().OwnedBy("apps/v1", "ReplicaSet", "web-abc").Obj(),
			nodes: fourNodes(),
			pods:  threeWeb,
			objs:  []runtime.Object{replicaSet("default", "web-abc", app("web"))},
			want:  map[string]int64{"a1": 63, "a2": 63, "b1": 81, "b2": 100},
		},
		{
			name:  "system defaults select a Service's pods for a pod the Service selects",
			pod:   webPod().Obj(),
			nodes: fourNodes(),
			pods:  threeWeb,
			objs:  []runtime.Object{service("default", "web", app("web")), service("default", "db", app("db"))},
			want:  map[string]int64{"a1": 63, "a2": 63, "b1": 81, "b2": 100},
		},
		{
			name:  "with system defaults a node without a zone is scored on its hostname alone",
			pod:   webPod().OwnedBy("apps/v1", "ReplicaSet", "web-abc").Obj(),
			nodes: append(fourNodes(), pt.Node("nozone", nil)),
			pods:  threeWeb,
			objs:  []runtime.Object{replicaSet("default", "web-abc", app("web"))},
			want:  map[string]int64{"a1": 18, "a2": 18, "b1": 27, "b2": 45, "nozone": 100},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl, h := newPlugin(t, nil, c.nodes, c.pods, c.objs...)
			got := scoreAll(t, pl, h, c.pod, c.feasible...)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
