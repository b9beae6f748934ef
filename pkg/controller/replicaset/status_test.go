package replicaset

import (
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCalculateStatus(t *testing.T) {
	three := int32(3)
	rs := func(minReady int32, conds ...appsv1.ReplicaSetCondition) *appsv1.ReplicaSet {
		return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Generation: 4},
			Spec: appsv1.ReplicaSetSpec{Replicas: &three, MinReadySeconds: minReady,
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}}}},
			Status: appsv1.ReplicaSetStatus{Conditions: conds}}
	}
	labelled := func(s podSpec, l map[string]string) *corev1.Pod { p := s.pod(); p.Labels = l; return p }
	full := map[string]string{"app": "web", "tier": "front", "extra": "x"}
	partial := map[string]string{"app": "web"}
	pods := []*corev1.Pod{
		labelled(podSpec{name: "a", readyAgo: time.Hour}, full),
		labelled(podSpec{name: "b", readyAgo: 5 * time.Second}, full),
		labelled(podSpec{name: "c"}, partial),
	}
	failure := appsv1.ReplicaSetCondition{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "old"}
	cases := []struct {
		name                         string
		rs                           *appsv1.ReplicaSet
		pods                         []*corev1.Pod
		err                          error
		replicas, full, ready, avail int32
		wantReason                   string // "" when no ReplicaFailure condition
	}{
		{"counts pods, fully labelled ones and ready ones; all ready are available without minReadySeconds", rs(0), pods, nil, 3, 2, 2, 2, ""},
		{"a pod ready for less than minReadySeconds is not yet available", rs(10), pods, nil, 3, 2, 2, 1, ""},
		{"a failed create with too few pods says FailedCreate", rs(0), pods[:1], errors.New("quota"), 1, 1, 1, 1, "FailedCreate"},
		{"a failed delete with too many pods says FailedDelete", rs(0), append(pods, podSpec{name: "d"}.pod()), errors.New("no"), 4, 2, 2, 2, "FailedDelete"},
		{"an existing failure condition is kept while failures go on", rs(0, failure), pods[:1], errors.New("quota"), 1, 1, 1, 1, "FailedCreate"},
		{"a success removes the failure condition", rs(0, failure), pods, nil, 3, 2, 2, 2, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := calculateStatus(c.rs, c.pods, c.err, now)
			if s.Replicas != c.replicas || s.FullyLabeledReplicas != c.full || s.ReadyReplicas != c.ready || s.AvailableReplicas != c.avail {
				t.Errorf("got %d/%d/%d/%d", s.Replicas, s.FullyLabeledReplicas, s.ReadyReplicas, s.AvailableReplicas)
			}
			cond := condition(s, appsv1.ReplicaSetReplicaFailure)
			switch {
			case c.wantReason == "" && cond != nil:
				t.Errorf("unexpected condition %+v", cond)
			case c.wantReason != "" && (cond == nil || cond.Reason != c.wantReason):
				t.Errorf("condition %+v, want reason %s", cond, c.wantReason)
			}
			if s.ObservedGeneration != c.rs.Status.ObservedGeneration {
				t.Error("calculateStatus changed observedGeneration; updateStatus sets it")
			}
		})
	}
}

func TestStatusCurrentNeedsTheGenerationObserved(t *testing.T) {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Generation: 2}, Status: appsv1.ReplicaSetStatus{Replicas: 1, ObservedGeneration: 1}}
	if statusCurrent(rs, appsv1.ReplicaSetStatus{Replicas: 1}) {
		t.Error("an unobserved generation counted as current")
	}
	rs.Status.ObservedGeneration = 2
	if !statusCurrent(rs, appsv1.ReplicaSetStatus{Replicas: 1}) {
		t.Error("an identical status is not current")
	}
}
