package daemonset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestShouldRun(t *testing.T) {
	affinity := func(ds *appsv1.DaemonSet, zone string) *appsv1.DaemonSet {
		ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{zone}}}}}}}}
		return ds
	}
	tolerating := func(ds *appsv1.DaemonSet, key string) *appsv1.DaemonSet {
		ds.Spec.Template.Spec.Tolerations = append(ds.Spec.Template.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists})
		return ds
	}
	hostNetwork := func(ds *appsv1.DaemonSet) *appsv1.DaemonSet {
		ds.Spec.Template.Spec.HostNetwork = true
		return ds
	}
	pinnedTo := func(ds *appsv1.DaemonSet, name string) *appsv1.DaemonSet {
		ds.Spec.Template.Spec.NodeName = name
		return ds
	}
	zoned := func(n *corev1.Node, zone string) *corev1.Node {
		n.Labels["zone"] = zone
		return n
	}
	cases := []struct {
		name      string
		ds        *appsv1.DaemonSet
		node      *corev1.Node
		run, keep bool
	}{
		{"a node matching the nodeSelector runs a pod", newDS(), node("n", false), true, true},
		{"a node the nodeSelector does not match runs none and keeps none", newDS(), node("n", true), false, false},
		{"required node affinity is honoured", affinity(newDS(), "a"), zoned(node("n", false), "a"), true, true},
		{"a node outside the required affinity runs none", affinity(newDS(), "a"), zoned(node("n", false), "b"), false, false},
		{"a template nodeName for another node excludes this one", pinnedTo(newDS(), "other"), node("n", false), false, false},
		{"an untolerated NoSchedule taint keeps new pods off but lets running ones stay", newDS(),
			node("n", false, taint("dedicated", corev1.TaintEffectNoSchedule)), false, true},
		{"an untolerated NoExecute taint evicts", newDS(), node("n", false, taint("dedicated", corev1.TaintEffectNoExecute)), false, false},
		{"a PreferNoSchedule taint does not matter", newDS(), node("n", false, taint("dedicated", corev1.TaintEffectPreferNoSchedule)), true, true},
		{"a tolerated taint does not matter", tolerating(newDS(), "dedicated"), node("n", false, taint("dedicated", corev1.TaintEffectNoExecute)), true, true},
		{"a not-ready node keeps its daemon pod and gets one", newDS(), node("n", false, taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)), true, true},
		{"an unreachable node keeps its daemon pod and gets one", newDS(), node("n", false, taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)), true, true},
		{"a cordoned node still gets a daemon pod", newDS(), node("n", false, taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)), true, true},
		{"memory pressure does not keep a daemon pod off", newDS(), node("n", false, taint(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule)), true, true},
		{"disk pressure does not keep a daemon pod off", newDS(), node("n", false, taint(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule)), true, true},
		{"PID pressure does not keep a daemon pod off", newDS(), node("n", false, taint(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule)), true, true},
		{"an unavailable network keeps an ordinary daemon pod off", newDS(),
			node("n", false, taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), false, true},
		{"an unavailable network does not keep a host-network daemon pod off", hostNetwork(newDS()),
			node("n", false, taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run, keep := shouldRun(c.node, c.ds)
			if run != c.run || keep != c.keep {
				t.Errorf("run %v keep %v, want %v %v", run, keep, c.run, c.keep)
			}
		})
	}
}

func TestDaemonTolerationsReplaceTheTemplatesOwnWithoutTolerationSeconds(t *testing.T) {
	spec := &corev1.PodSpec{Tolerations: []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
		{Key: "mine", Operator: corev1.TolerationOpExists},
	}}
	addDaemonTolerations(spec)
	if len(spec.Tolerations) != 7 {
		t.Fatalf("%d tolerations: %+v", len(spec.Tolerations), spec.Tolerations)
	}
	if spec.Tolerations[0].TolerationSeconds != nil || spec.Tolerations[1].Key != "mine" {
		t.Errorf("tolerations %+v", spec.Tolerations)
	}
	for _, tol := range spec.Tolerations {
		if tol.Key == corev1.TaintNodeNetworkUnavailable {
			t.Error("network-unavailable toleration without hostNetwork")
		}
	}
}

func TestPodsArePinnedByAffinityOnTheNodesNameAndFoundAgain(t *testing.T) {
	spec := &corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}}}},
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 1}},
	}}}
	pinToNode(spec, "n1")
	terms := spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 0 || len(terms[0].MatchFields) != 1 ||
		terms[0].MatchFields[0].Key != metav1.ObjectNameField || terms[0].MatchFields[0].Values[0] != "n1" ||
		len(spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 || spec.NodeName != "" {
		t.Errorf("affinity %+v", spec.Affinity.NodeAffinity)
	}
	pod := &corev1.Pod{Spec: *spec}
	if n, err := targetNode(pod); n != "n1" || err != nil {
		t.Errorf("target %q %v", n, err)
	}
	pod.Spec.NodeName = "bound"
	if n, _ := targetNode(pod); n != "bound" {
		t.Errorf("bound pod's target %q", n)
	}
	if _, err := targetNode(&corev1.Pod{}); err == nil {
		t.Error("a pod without affinity has a target")
	}
}

func TestPodTemplateCarriesTheHashGenerationAndTolerations(t *testing.T) {
	ds := newDS()
	tpl := podTemplate(ds, templateGeneration(ds), "abc")
	if tpl.Labels["controller-revision-hash"] != "abc" || tpl.Labels["pod-template-generation"] != "1" || len(tpl.Spec.Tolerations) != 6 {
		t.Errorf("template labels %v tolerations %d", tpl.Labels, len(tpl.Spec.Tolerations))
	}
	if ds.Spec.Template.Labels["controller-revision-hash"] != "" || len(ds.Spec.Template.Spec.Tolerations) != 0 {
		t.Error("the DaemonSet's template was changed")
	}
}
