package interpodaffinity

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedconfig "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"

	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

func TestScore(t *testing.T) {
	nss := []*corev1.Namespace{namespace("default", nil), namespace("team-a", map[string]string{"team": "a"})}
	cases := []struct {
		name  string
		args  *schedconfig.InterPodAffinityArgs
		pod   *corev1.Pod
		pods  []*corev1.Pod
		nodes []*corev1.Node
		// want nil: PreScore skips.
		want map[string]int64
	}{
		{
			name:  "a pod without terms skips scoring when no existing pod has affinity terms",
			pod:   pt.Pod("default", "p").Label("app", "web").Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "db").Label("app", "db").On("n1").Obj()},
			nodes: threeNodes(),
		},
		{
			name:  "preferred affinity scores the zone of matching pods highest",
			pod:   pt.Pod("default", "p").PreferredAffinity(5, pt.Term(zone, app("db"))).Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "db").Label("app", "db").On("n3").Obj()},
			nodes: threeNodes(),
			want:  map[string]int64{"n1": 0, "n2": 0, "n3": 100},
		},
		{
			name: "preferred affinity weights add up per domain and scale between the lowest and the highest",
			pod: pt.Pod("default", "p").
				PreferredAffinity(6, pt.Term(zone, app("db"))).PreferredAffinity(2, pt.Term(hostname, app("cache"))).Obj(),
			pods: []*corev1.Pod{
				pt.Pod("default", "db").Label("app", "db").On("n1").Obj(),
				pt.Pod("default", "cache").Label("app", "cache").On("n3").Obj(),
			},
			nodes: append(threeNodes(), pt.Node("n4", map[string]string{zone: "b"})),
			want:  map[string]int64{"n1": 100, "n2": 100, "n3": 33, "n4": 0},
		},
		{
			name:  "preferred anti-affinity scores the zone of matching pods lowest",
			pod:   pt.Pod("default", "p").PreferredAntiAffinity(10, pt.Term(zone, app("db"))).Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "db").Label("app", "db").On("n1").Obj()},
			nodes: threeNodes(),
			want:  map[string]int64{"n1": 0, "n2": 0, "n3": 100},
		},
		{
			name:  "preferred affinity with a namespace selector counts pods of the selected namespaces only",
			pod:   pt.Pod("default", "p").PreferredAffinity(5, nsSelectorTerm(hostname, app("db"), map[string]string{"team": "a"})).Obj(),
			pods:  []*corev1.Pod{pt.Pod("team-a", "db").Label("app", "db").On("n2").Obj(), pt.Pod("default", "db").Label("app", "db").On("n1").Obj()},
			nodes: threeNodes(),
			want:  map[string]int64{"n1": 0, "n2": 100, "n3": 0},
		},
		{
			name:  "an existing pod's required affinity to the incoming pod attracts it with hardPodAffinityWeight",
			pod:   pt.Pod("default", "p").Label("app", "web").Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "sidecar").RequiredAffinity(pt.Term(zone, app("web"))).On("n3").Obj()},
			nodes: threeNodes(),
			want:  map[string]int64{"n1": 0, "n2": 0, "n3": 100},
		},
		{
			name:  "with hardPodAffinityWeight 0 an existing pod's required affinity does not score",
			args:  &schedconfig.InterPodAffinityArgs{HardPodAffinityWeight: ptr.To[int32](0)},
			pod:   pt.Pod("default", "p").Label("app", "web").Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "sidecar").RequiredAffinity(pt.Term(zone, app("web"))).On("n3").Obj()},
			nodes: threeNodes(),
		},
		{
			name: "existing pods' preferred affinity and anti-affinity to the incoming pod score their domains",
			pod:  pt.Pod("default", "p").Label("app", "web").Obj(),
			pods: []*corev1.Pod{
				pt.Pod("default", "friend").PreferredAffinity(4, pt.Term(hostname, app("web"))).On("n1").Obj(),
				pt.Pod("default", "foe").PreferredAntiAffinity(4, pt.Term(hostname, app("web"))).On("n2").Obj(),
			},
			nodes: threeNodes(),
			want:  map[string]int64{"n1": 100, "n2": 0, "n3": 50},
		},
		{
			name: "existing pods' preferred terms are ignored when configured so and the incoming pod has none",
			args: &schedconfig.InterPodAffinityArgs{IgnorePreferredTermsOfExistingPods: true},
			pod:  pt.Pod("default", "p").Label("app", "web").Obj(),
			pods: []*corev1.Pod{
				pt.Pod("default", "friend").PreferredAffinity(4, pt.Term(hostname, app("web"))).On("n1").Obj(),
			},
			nodes: threeNodes(),
		},
		{
			name: "existing pods' preferred terms still count when configured to be ignored but the incoming pod has preferred terms",
			args: &schedconfig.InterPodAffinityArgs{IgnorePreferredTermsOfExistingPods: true},
			pod:  pt.Pod("default", "p").Label("app", "web").PreferredAntiAffinity(1, pt.Term(hostname, app("none"))).Obj(),
			pods: []*corev1.Pod{
				pt.Pod("default", "friend").PreferredAffinity(4, pt.Term(hostname, app("web"))).On("n1").Obj(),
			},
			nodes: threeNodes(),
			want:  map[string]int64{"n1": 100, "n2": 0, "n3": 0},
		},
		{
			name:  "domains on nodes without the topology key score nothing",
			pod:   pt.Pod("default", "p").PreferredAffinity(5, pt.Term(zone, app("db"))).Obj(),
			pods:  []*corev1.Pod{pt.Pod("default", "db").Label("app", "db").On("no-zone").Obj()},
			nodes: append(threeNodes(), pt.Node("no-zone", nil)),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl, h := newPlugin(t, argsOrNil(c.args), c.nodes, c.pods, nss...)
			got := scoreAll(t, pl, h, c.pod)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
