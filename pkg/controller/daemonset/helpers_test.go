package daemonset

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// newDS is a defaulted RollingUpdate DaemonSet "agent" for nodes labelled role=agent.
func newDS() *appsv1.DaemonSet {
	one := intstr.FromInt32(1)
	zero := intstr.FromInt32(0)
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ns", UID: "agent-uid", Generation: 1,
			Annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: "1"}},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec: corev1.PodSpec{NodeSelector: map[string]string{"role": "agent"}, Containers: []corev1.Container{{Name: "c", Image: "agent:1"}}}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one, MaxSurge: &zero}},
			RevisionHistoryLimit: ptr(int32(10)),
		},
	}
}

func withBudget(ds *appsv1.DaemonSet, unavailable, surge string) *appsv1.DaemonSet {
	u, s := intstr.Parse(unavailable), intstr.Parse(surge)
	ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &u, MaxSurge: &s}
	return ds
}

// node is a Ready node labelled role=agent unless plain, with the given taints.
func node(name string, plain bool, taints ...corev1.Taint) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}, ResourceVersion: "1"},
		Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	if !plain {
		n.Labels["role"] = "agent"
	}
	return n
}

func taint(key string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Effect: effect}
}

type state int

const (
	ready state = iota
	pending
	notReady
	justReady
	failed
	succeeded
	terminating
)

var podCount int

// dpod is a daemon pod of ds on node, at revision hash, in state s, created age ago.
func dpod(ds *appsv1.DaemonSet, nodeName, hash string, s state, age time.Duration) *corev1.Pod {
	podCount++
	t := podTemplate(ds, nil, hash)
	pinToNode(&t.Spec, nodeName)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("agent-%s-%d", nodeName, podCount), Namespace: ds.Namespace,
		UID: types.UID(fmt.Sprintf("pod-%d", podCount)), ResourceVersion: "1", Labels: t.Labels,
		CreationTimestamp: metav1.NewTime(now.Add(-age)),
		OwnerReferences:   []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID, Controller: ptr(true)}}},
		Spec: t.Spec}
	p.Spec.NodeName = nodeName
	switch s {
	case pending:
		p.Status.Phase = corev1.PodPending
	case failed:
		p.Status.Phase = corev1.PodFailed
	case succeeded:
		p.Status.Phase = corev1.PodSucceeded
	default:
		p.Status.Phase = corev1.PodRunning
		status, since := corev1.ConditionTrue, now.Add(-time.Hour)
		switch s {
		case notReady:
			status = corev1.ConditionFalse
		case justReady:
			since = now.Add(-time.Second)
		case terminating:
			p.DeletionTimestamp = &metav1.Time{Time: now}
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(since)}}
	}
	return p
}

func podNames(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}
