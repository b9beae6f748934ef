package lifecycle

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestActiveDeadline(t *testing.T) {
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	secs := func(n int64) *int64 { return &n }
	cases := []struct {
		name     string
		deadline *int64
		started  bool
		phase    corev1.PodPhase
		now      time.Time
		exceeded bool
		left     time.Duration
	}{
		{name: "a pod without a deadline never exceeds it", started: true, phase: corev1.PodRunning, now: start.Add(time.Hour)},
		{name: "a pod not started yet has no deadline running", deadline: secs(5), phase: corev1.PodPending, now: start.Add(time.Hour)},
		{name: "a running pod before its deadline is looked at again when it comes", deadline: secs(5), started: true,
			phase: corev1.PodRunning, now: start.Add(2 * time.Second), left: 3 * time.Second},
		{name: "a running pod at its deadline has exceeded it", deadline: secs(5), started: true, phase: corev1.PodRunning,
			now: start.Add(5 * time.Second), exceeded: true},
		{name: "a finished pod is left as it is", deadline: secs(5), started: true, phase: corev1.PodSucceeded, now: start.Add(time.Hour)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{ActiveDeadlineSeconds: c.deadline}, Status: corev1.PodStatus{Phase: c.phase}}
			if c.started {
				pod.Status.StartTime = &metav1.Time{Time: start}
			}
			exceeded, left := ActiveDeadline(pod, c.now)
			if exceeded != c.exceeded || left != c.left {
				t.Errorf("ActiveDeadline = %v, %v; want %v, %v", exceeded, left, c.exceeded, c.left)
			}
		})
	}
}

func TestAnEvictedPodFailsWithItsReason(t *testing.T) {
	p := pod(corev1.RestartPolicyAlways, nil, "app")
	rt := &Pod{Sandboxes: readySandbox(), Containers: []Container{running("app", 0)}}
	st := PodStatus(p, rt, StatusInputs{Now: time.Now(), Evicted: &Waiting{Reason: DeadlineExceededReason, Message: DeadlineExceededMessage}})
	if st.Phase != corev1.PodFailed || st.Reason != DeadlineExceededReason || st.Message != DeadlineExceededMessage {
		t.Errorf("status = %s %q %q, want Failed with the deadline's reason and message", st.Phase, st.Reason, st.Message)
	}
}
