package podtopologyspread

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedconfig "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

func TestIsSchedulableAfterPodChange(t *testing.T) {
	pl, _ := newPlugin(t, &schedconfig.PodTopologySpreadArgs{DefaultingType: schedconfig.ListDefaulting}, nil, nil)
	pending := webPod().Spread(1, zone, corev1.DoNotSchedule, app("web")).Obj()
	honorTaints := webPod().SpreadConstraint(corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: zone, WhenUnsatisfiable: corev1.DoNotSchedule,
		NodeTaintsPolicy: ptr.To(corev1.NodeInclusionPolicyHonor)}).Obj()
	tolerating := honorTaints.DeepCopy()
	tolerating.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}
	db := pt.Pod("default", "db").Label("app", "db").On("a1").Obj()
	cases := []struct {
		name     string
		pod      *corev1.Pod
		old, new *corev1.Pod
		want     fw.QueueingHint
	}{
		{"an assigned matching pod added may change the skew", pending, nil, web("w", "a1"), fw.Queue},
		{"an assigned pod that does not match added changes nothing", pending, nil, db, fw.QueueSkip},
		{"a pod of another namespace changes nothing", pending, nil, pt.Pod("other", "w").Label("app", "web").On("a1").Obj(), fw.QueueSkip},
		{"an unassigned pod changes nothing", pending, nil, pt.Pod("default", "w").Label("app", "web").Obj(), fw.QueueSkip},
		{"a matching pod deleted may make room", pending, web("w", "a1"), nil, fw.Queue},
		{"a pod relabelled into the selector may change the skew", pending, db, pt.Pod("default", "db").Label("app", "web").On("a1").Obj(), fw.Queue},
		{"a pod updated without a label change changes nothing", pending, web("w", "a1"), web("w", "a1"), fw.QueueSkip},
		{"new tolerations of the pending pod matter with nodeTaintsPolicy Honor", honorTaints, honorTaints, tolerating, fw.Queue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var oldObj, newObj interface{}
			if c.old != nil {
				oldObj = c.old
			}
			if c.new != nil {
				newObj = c.new
			}
			got, err := pl.isSchedulableAfterPodChange(c.pod, oldObj, newObj)
			if err != nil || got != c.want {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestIsSchedulableAfterNodeChange(t *testing.T) {
	pl, _ := newPlugin(t, &schedconfig.PodTopologySpreadArgs{DefaultingType: schedconfig.ListDefaulting}, nil, nil)
	pending := webPod().Spread(1, zone, corev1.DoNotSchedule, app("web")).Obj()
	inA := pt.Node("n", map[string]string{zone: "a"})
	inB := pt.Node("n", map[string]string{zone: "b"})
	noZone := pt.Node("n", nil)
	cases := []struct {
		name     string
		old, new *corev1.Node
		want     fw.QueueingHint
	}{
		{"a node added with the topology key may be a new domain", nil, inA, fw.Queue},
		{"a node added without the topology key cannot take the pod", nil, noZone, fw.QueueSkip},
		{"a node deleted with the topology key may change the minimum", inA, nil, fw.Queue},
		{"a node that gains the topology key may take the pod", noZone, inA, fw.Queue},
		{"a node moved to another zone may take the pod", inA, inB, fw.Queue},
		{"a node retainted may change the domains", inA, tainted(pt.Node("n", map[string]string{zone: "a"})), fw.Queue},
		{"a node relabelled without touching the key changes nothing", inA, pt.Node("n", map[string]string{zone: "a", "x": "y"}), fw.QueueSkip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var oldObj, newObj interface{}
			if c.old != nil {
				oldObj = c.old
			}
			if c.new != nil {
				newObj = c.new
			}
			got, err := pl.isSchedulableAfterNodeChange(pending, oldObj, newObj)
			if err != nil || got != c.want {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}
