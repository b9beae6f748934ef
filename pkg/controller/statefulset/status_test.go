package statefulset

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestComputeStatus(t *testing.T) {
	cases := []struct {
		name                                         string
		set                                          *appsv1.StatefulSet
		pods                                         []state
		revs                                         []string
		updateDeletions                              int
		replicas, ready, available, current, updated int32
		currentRevision                              string
	}{
		{name: "pods mid-rollout count at their revisions", set: newSet(3), pods: []state{ready, ready, ready}, revs: []string{"r1", "r1", "r2"},
			replicas: 3, ready: 3, available: 3, current: 2, updated: 1, currentRevision: "r1"},
		{name: "a pod deleted for the update is no longer current", set: newSet(3), pods: []state{ready, ready, ready}, revs: []string{"r1", "r1", "r1"},
			updateDeletions: 1, replicas: 3, ready: 3, available: 3, current: 2, currentRevision: "r1"},
		{name: "a finished rolling update makes the update revision current", set: newSet(2), pods: []state{ready, ready}, revs: []string{"r2", "r2"},
			replicas: 2, ready: 2, available: 2, current: 2, updated: 2, currentRevision: "r2"},
		{name: "an update with a pod not ready is not finished", set: newSet(2), pods: []state{ready, notReady}, revs: []string{"r2", "r2"},
			replicas: 2, ready: 1, available: 1, updated: 2, currentRevision: "r1"},
		{name: "a pod ready for less than minReadySeconds is ready but not available", set: func() *appsv1.StatefulSet {
			s := newSet(1)
			s.Spec.MinReadySeconds = 30
			return s
		}(), pods: []state{justReady}, revs: []string{"r1"}, replicas: 1, ready: 1, current: 1, currentRevision: "r1"},
		{name: "a terminating pod counts as a replica but at no revision", set: newSet(2), pods: []state{ready, terminating}, revs: []string{"r1", "r1"},
			replicas: 2, ready: 2, available: 2, current: 1, currentRevision: "r1"},
		{name: "a pending pod counts as a replica only", set: newSet(2), pods: []state{pending}, revs: []string{"r1"},
			replicas: 1, current: 1, currentRevision: "r1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var pods []*corev1.Pod
			for i, s := range c.pods {
				pods = append(pods, pod(c.set, i, c.revs[i], s))
			}
			s := computeStatus(c.set, pods, "r1", "r2", 0, c.updateDeletions, now)
			if s.Replicas != c.replicas || s.ReadyReplicas != c.ready || s.AvailableReplicas != c.available || s.CurrentReplicas != c.current ||
				s.UpdatedReplicas != c.updated || s.CurrentRevision != c.currentRevision || s.UpdateRevision != "r2" || s.ObservedGeneration != 1 {
				t.Errorf("status %+v", s)
			}
		})
	}
}

func TestNextAvailableIsTheEarliestReadyPodsMinReadySecondsAway(t *testing.T) {
	set := newSet(2)
	set.Spec.MinReadySeconds = 10
	pods := []*corev1.Pod{pod(set, 0, "r", justReady), pod(set, 1, "r", ready)}
	if d, ok := nextAvailable(set, pods, now); !ok || d != 9*time.Second {
		t.Errorf("%v %v, want 9s", d, ok)
	}
	if _, ok := nextAvailable(set, pods[1:], now); ok {
		t.Error("a pod available long ago still has a wait")
	}
}
