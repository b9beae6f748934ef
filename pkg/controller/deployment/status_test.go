package deployment

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func progressingReason(s appsv1.DeploymentStatus) string {
	if c := getCondition(s, appsv1.DeploymentProgressing); c != nil {
		return string(c.Status) + "/" + c.Reason
	}
	return ""
}

func TestRolloutStatus(t *testing.T) {
	progressingSince := func(d *appsv1.Deployment, reason string, ago time.Duration) *appsv1.Deployment {
		c := newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reason, "", now.Add(-ago))
		d.Status.Conditions = []appsv1.DeploymentCondition{c}
		return d
	}
	cases := []struct {
		name          string
		d             *appsv1.Deployment
		newRS         *appsv1.ReplicaSet
		old           []*appsv1.ReplicaSet
		wantProgress  string
		wantAvailable string
	}{
		{"a finished rollout is NewReplicaSetAvailable and Available",
			progressingSince(deploy("web", 3, "1", "0"), ReplicaSetUpdatedReason, time.Minute), set("new", 3, 3, 0), nil,
			"True/NewReplicaSetAvailable", "True/MinimumReplicasAvailable"},
		{"a rollout that moved is ReplicaSetUpdated",
			progressingSince(deploy("web", 3, "1", "0"), NewReplicaSetReason, time.Minute), set("new", 1, 0, 0), []*appsv1.ReplicaSet{set("old", 3, 3, time.Hour)},
			"True/ReplicaSetUpdated", "True/MinimumReplicasAvailable"},
		{"a rollout stuck past its deadline is ProgressDeadlineExceeded",
			func() *appsv1.Deployment {
				d := progressingSince(deploy("web", 3, "1", "0"), ReplicaSetUpdatedReason, 11*time.Minute)
				d.Status.UpdatedReplicas, d.Status.Replicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 1, 4, 3, 3
				return d
			}(), set("new", 1, 0, 0), []*appsv1.ReplicaSet{set("old", 3, 3, time.Hour)},
			"False/ProgressDeadlineExceeded", "True/MinimumReplicasAvailable"},
		{"too few available pods is MinimumReplicasUnavailable",
			deploy("web", 3, "1", "0"), set("new", 3, 1, 0), nil, "True/ReplicaSetUpdated", "False/MinimumReplicasUnavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			all := append(append([]*appsv1.ReplicaSet(nil), c.old...), c.newRS)
			s := rolloutStatus(all, c.newRS, c.d, now)
			if got := progressingReason(s); got != c.wantProgress {
				t.Errorf("Progressing %s, want %s", got, c.wantProgress)
			}
			a := getCondition(s, appsv1.DeploymentAvailable)
			if got := string(a.Status) + "/" + a.Reason; got != c.wantAvailable {
				t.Errorf("Available %s, want %s", got, c.wantAvailable)
			}
		})
	}
}

func TestRolloutStatusMessagesNameTheReplicaSet(t *testing.T) {
	d := deploy("web", 1, "1", "0")
	s := rolloutStatus([]*appsv1.ReplicaSet{set("web-abc", 1, 1, 0)}, set("web-abc", 1, 1, 0), d, now)
	if c := getCondition(s, appsv1.DeploymentProgressing); c.Message != `ReplicaSet "web-abc" has successfully progressed.` {
		t.Errorf("message %q", c.Message)
	}
}

func TestCalculateStatusCounts(t *testing.T) {
	d := deploy("web", 4, "1", "1")
	d.Status.CollisionCount = ptr(int32(2))
	newRS := set("new", 2, 1, 0)
	old := set("old", 3, 3, time.Hour)
	s := calculateStatus([]*appsv1.ReplicaSet{old, newRS}, newRS, d, now)
	if s.Replicas != 5 || s.UpdatedReplicas != 2 || s.ReadyReplicas != 4 || s.AvailableReplicas != 4 || s.UnavailableReplicas != 1 ||
		s.ObservedGeneration != 1 || *s.CollisionCount != 2 {
		t.Errorf("got %+v", s)
	}
}

func TestReplicaFailureComesFromTheNewSetFirst(t *testing.T) {
	failing := func(name, msg string) *appsv1.ReplicaSet {
		rs := set(name, 1, 0, 0)
		rs.Status.Conditions = []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: msg}}
		return rs
	}
	newRS, old := failing("new", "quota on new"), failing("old", "quota on old")
	if c := replicaFailure([]*appsv1.ReplicaSet{old, newRS}, newRS); c == nil || c.Message != "quota on new" {
		t.Errorf("got %+v", c)
	}
	if c := replicaFailure([]*appsv1.ReplicaSet{old, set("new", 1, 1, 0)}, set("new", 1, 1, 0)); c == nil || c.Message != "quota on old" {
		t.Errorf("got %+v", c)
	}
}

func TestPausedCondition(t *testing.T) {
	d := deploy("web", 1, "1", "0")
	d.Spec.Paused = true
	if !pausedCondition(d, now) || progressingReason(d.Status) != "Unknown/DeploymentPaused" {
		t.Fatalf("paused: %s", progressingReason(d.Status))
	}
	if pausedCondition(d, now) {
		t.Error("a second pass changed it again")
	}
	d.Spec.Paused = false
	if !pausedCondition(d, now) || progressingReason(d.Status) != "Unknown/DeploymentResumed" {
		t.Errorf("resumed: %s", progressingReason(d.Status))
	}
	timed := deploy("web", 1, "1", "0")
	timed.Spec.Paused = true
	timed.Status.Conditions = []appsv1.DeploymentCondition{newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, TimedOutReason, "", now)}
	if pausedCondition(timed, now) {
		t.Error("a timed-out deployment was marked paused")
	}
}

func TestStuckRecheckWaitsForTheDeadline(t *testing.T) {
	d := deploy("web", 3, "1", "0")
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue,
		Reason: ReplicaSetUpdatedReason, LastUpdateTime: metav1.NewTime(now.Add(-time.Minute))}}
	s := appsv1.DeploymentStatus{}
	if after, ok := stuckRecheck(d, &s, now); !ok || after != 9*time.Minute+time.Second {
		t.Errorf("got %s, %v", after, ok)
	}
	d.Spec.ProgressDeadlineSeconds = nil
	if _, ok := stuckRecheck(d, &s, now); ok {
		t.Error("recheck without a deadline")
	}
}
