package main

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podTemplates make pod i of a run of n pods on nodes nodes.
var podTemplates = map[string]func(i, n, nodes int) *corev1.Pod{
	// basic: one container with small requests.
	"basic": func(i, _, _ int) *corev1.Pod { return basePod(i, map[string]string{"app": "basic"}) },
	// spread: every pod spread evenly over the zones (maxSkew 1, DoNotSchedule).
	"spread": func(i, _, _ int) *corev1.Pod {
		p := basePod(i, map[string]string{"app": "spread"})
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "spread"}},
		}}
		return p
	},
	// antiaffinity: groups of nodes/5 pods, no two of a group on one node.
	"antiaffinity": func(i, _, nodes int) *corev1.Pod {
		size := nodes / 5
		if size < 1 {
			size = 1
		}
		group := "g" + strconv.Itoa(i/size)
		p := basePod(i, map[string]string{"app": "anti", "group": group})
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				TopologyKey:   corev1.LabelHostname,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"group": group}},
			}},
		}}
		return p
	},
}

func basePod(i int, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%d", i), Labels: labels},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: new(int64),
			Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}}}},
		},
	}
}
