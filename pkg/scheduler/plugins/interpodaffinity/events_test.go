package interpodaffinity

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	pt "github.com/minik8s/minik8s/pkg/scheduler/plugins/plugintest"
)

func TestIsSchedulableAfterPodChange(t *testing.T) {
	withAffinity := pt.Pod("default", "p").RequiredAffinity(pt.Term(zone, app("db"))).Obj()
	withAnti := pt.Pod("default", "p").Label("app", "web").RequiredAntiAffinity(pt.Term(zone, app("db"))).Obj()
	plain := pt.Pod("default", "p").Label("app", "web").Obj()
	db := pt.Pod("default", "db").Label("app", "db").On("n1").Obj()
	other := pt.Pod("default", "db").Label("app", "other").On("n1").Obj()
	cases := []struct {
		name     string
		pod      *corev1.Pod
		old, new *corev1.Pod
		want     fw.QueueingHint
	}{
		{"an added pod that matches the pod's affinity may let it in", withAffinity, nil, db, fw.Queue},
		{"an added pod that does not match the pod's affinity cannot help", withAffinity, nil, other, fw.QueueSkip},
		{"an added pod that is not yet assigned cannot help", withAffinity, nil, pt.Pod("default", "db").Label("app", "db").Obj(), fw.QueueSkip},
		{"a pod relabelled to match the pod's affinity may let it in", withAffinity, other, db, fw.Queue},
		{"a pod relabelled but matching before and after changes nothing", withAffinity, db, db, fw.QueueSkip},
		{"a pod relabelled so that it no longer matches the pod's anti-affinity may let it in", withAnti, db, other, fw.Queue},
		{"a pod relabelled to match the pod's anti-affinity cannot help", withAnti, other, db, fw.QueueSkip},
		{"a deleted pod that matched the pod's anti-affinity may let it in", withAnti, db, nil, fw.Queue},
		{"a deleted pod that did not match the pod's anti-affinity cannot help", withAnti, other, nil, fw.QueueSkip},
		{"a deleted pod whose own anti-affinity repelled the pod may let it in", plain,
			pt.Pod("default", "lonely").RequiredAntiAffinity(pt.Term(hostname, app("web"))).On("n1").Obj(), nil, fw.Queue},
		{"a deleted pod whose own anti-affinity concerns other pods cannot help", plain,
			pt.Pod("default", "lonely").RequiredAntiAffinity(pt.Term(hostname, app("api"))).On("n1").Obj(), nil, fw.QueueSkip},
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
			got, err := isSchedulableAfterPodChange(c.pod, oldObj, newObj)
			if err != nil || got != c.want {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestIsSchedulableAfterNodeChange(t *testing.T) {
	withAffinity := pt.Pod("default", "p").RequiredAffinity(pt.Term(zone, app("db"))).Obj()
	withAnti := pt.Pod("default", "p").RequiredAntiAffinity(pt.Term(zone, app("db"))).Obj()
	plain := pt.Pod("default", "p").Obj()
	inA := pt.Node("n", map[string]string{zone: "a"})
	inB := pt.Node("n", map[string]string{zone: "b"})
	noZone := pt.Node("n", nil)
	relabelled := pt.Node("n", map[string]string{zone: "a", "disk": "ssd"})
	cases := []struct {
		name     string
		pod      *corev1.Pod
		old, new *corev1.Node
		want     fw.QueueingHint
	}{
		{"an added node with the affinity topology key may take the pod", withAffinity, nil, inA, fw.Queue},
		{"an added node without the affinity topology key cannot take the pod", withAffinity, nil, noZone, fw.QueueSkip},
		{"a node that gains the affinity topology key may take the pod", withAffinity, noZone, inA, fw.Queue},
		{"a node moved to another domain of the affinity key may take the pod", withAffinity, inA, inB, fw.Queue},
		{"a label change unrelated to the affinity key changes nothing", withAffinity, inA, relabelled, fw.QueueSkip},
		{"any added node may take a pod with anti-affinity", withAnti, nil, noZone, fw.Queue},
		{"a node that loses the anti-affinity topology key may take the pod", withAnti, inA, noZone, fw.Queue},
		{"a node that gains the anti-affinity topology key cannot help", withAnti, noZone, inA, fw.QueueSkip},
		{"a node moved to another domain of the anti-affinity key may take the pod", withAnti, inA, inB, fw.Queue},
		{"an added node may take a pod kept away only by existing pods' anti-affinity", plain, nil, noZone, fw.Queue},
		{"a relabelled node may take a pod kept away only by existing pods' anti-affinity", plain, inA, relabelled, fw.Queue},
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
			got, err := isSchedulableAfterNodeChange(c.pod, oldObj, newObj)
			if err != nil || got != c.want {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}
