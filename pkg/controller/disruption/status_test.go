package disruption

import (
	"errors"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func ownedPod(name, owner string, ready bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "web"}}}
	if owner != "" {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: owner, UID: types.UID(owner), Controller: &yes}}
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}}
	return p
}

func budget(minAvailable, maxUnavailable *intstr.IntOrString) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "pdb", Namespace: "ns", Generation: 1},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: minAvailable, MaxUnavailable: maxUnavailable,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
}

func intOrStr(s string) *intstr.IntOrString { v := intstr.Parse(s); return &v }

// scales finds owners by name in a table.
func scales(table map[string]int32) ownerFinder {
	return func(ref *metav1.OwnerReference, _ string) (*owner, error) {
		s, ok := table[ref.Name]
		if !ok {
			return nil, nil
		}
		return &owner{uid: ref.UID, scale: s}, nil
	}
}

func TestExpectedPods(t *testing.T) {
	three := []*corev1.Pod{ownedPod("a", "rs", true), ownedPod("b", "rs", true), ownedPod("c", "rs", false)}
	cases := []struct {
		name              string
		pdb               *policyv1.PodDisruptionBudget
		pods              []*corev1.Pod
		owners            map[string]int32
		expected, desired int32
		unmanaged         []string
		wantErr           string
	}{
		{name: "an integer minAvailable counts the selected pods", pdb: budget(intOrStr("2"), nil), pods: three,
			expected: 3, desired: 2},
		{name: "a percentage minAvailable is taken of the controller's scale, rounded up", pdb: budget(intOrStr("50%"), nil), pods: three,
			owners: map[string]int32{"rs": 5}, expected: 5, desired: 3},
		{name: "an integer maxUnavailable is taken off the controller's scale", pdb: budget(nil, intOrStr("1")), pods: three,
			owners: map[string]int32{"rs": 4}, expected: 4, desired: 3},
		{name: "a percentage maxUnavailable rounds the unavailable pods up", pdb: budget(nil, intOrStr("30%")), pods: three,
			owners: map[string]int32{"rs": 4}, expected: 4, desired: 2},
		{name: "maxUnavailable beyond the scale asks for no healthy pod", pdb: budget(nil, intOrStr("10")), pods: three,
			owners: map[string]int32{"rs": 3}, expected: 3, desired: 0},
		{name: "the scales of distinct controllers add up", pdb: budget(nil, intOrStr("1")),
			pods:   []*corev1.Pod{ownedPod("a", "one", true), ownedPod("b", "two", true)},
			owners: map[string]int32{"one": 2, "two": 3}, expected: 5, desired: 4},
		{name: "pods without a controller are reported unmanaged", pdb: budget(nil, intOrStr("1")),
			pods:   []*corev1.Pod{ownedPod("a", "rs", true), ownedPod("loose", "", true)},
			owners: map[string]int32{"rs": 2}, expected: 2, desired: 1, unmanaged: []string{"loose"}},
		{name: "a pod whose controller cannot be found fails the computation", pdb: budget(intOrStr("50%"), nil), pods: three,
			owners: map[string]int32{}, wantErr: `found no controllers for pod "a"`},
		{name: "a budget with no pods expects none", pdb: budget(intOrStr("1"), nil), expected: 0, desired: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expected, desired, unmanaged, err := expectedPods(c.pdb, c.pods, scales(c.owners))
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || expected != c.expected || desired != c.desired || !reflect.DeepEqual(unmanaged, c.unmanaged) {
				t.Errorf("got expected %d desired %d unmanaged %v err %v, want %d %d %v", expected, desired, unmanaged, err, c.expected, c.desired, c.unmanaged)
			}
		})
	}
}

func TestAFinderErrorFailsTheComputation(t *testing.T) {
	boom := func(*metav1.OwnerReference, string) (*owner, error) {
		return nil, errors.New("apps/foos does not implement the scale subresource")
	}
	if _, _, _, err := expectedPods(budget(nil, intOrStr("1")), []*corev1.Pod{ownedPod("a", "x", true)}, boom); err == nil {
		t.Error("no error")
	}
}

func TestCountHealthy(t *testing.T) {
	deleting := ownedPod("deleting", "rs", true)
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	pods := []*corev1.Pod{ownedPod("ready", "rs", true), ownedPod("unready", "rs", false), deleting,
		ownedPod("evicted", "rs", true), ownedPod("evicted-long-ago", "rs", true)}
	disrupted := map[string]metav1.Time{"evicted": metav1.NewTime(t0.Add(-time.Minute)), "evicted-long-ago": metav1.NewTime(t0.Add(-3 * time.Minute))}
	// ready, and the pod whose approval expired without a deletion.
	if got := countHealthy(pods, disrupted, t0); got != 2 {
		t.Errorf("got %d healthy, want 2", got)
	}
}

func TestPruneDisrupted(t *testing.T) {
	deleting := ownedPod("deleting", "rs", true)
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	pods := []*corev1.Pod{ownedPod("waiting", "rs", true), ownedPod("late", "rs", true), deleting}
	approved := map[string]metav1.Time{
		"waiting": metav1.NewTime(t0.Add(-30 * time.Second)), "late": metav1.NewTime(t0.Add(-3 * time.Minute)),
		"deleting": metav1.NewTime(t0), "gone": metav1.NewTime(t0),
	}
	kept, expired, recheck := pruneDisrupted(pods, approved, t0)
	if len(kept) != 1 || kept["waiting"].Time.IsZero() {
		t.Errorf("kept %v", kept)
	}
	if len(expired) != 1 || expired[0].Name != "late" {
		t.Errorf("expired %v", expired)
	}
	if recheck == nil || !recheck.Equal(t0.Add(90*time.Second)) {
		t.Errorf("recheck %v", recheck)
	}
}

func TestWithStatus(t *testing.T) {
	cases := []struct {
		name                       string
		current, desired, expected int32
		wantAllowed                int32
		wantReason                 string
	}{
		{"one more healthy pod than desired allows one disruption", 3, 2, 3, 1, policyv1.SufficientPodsReason},
		{"as many healthy pods as desired allows none", 2, 2, 3, 0, policyv1.InsufficientPodsReason},
		{"fewer healthy pods than desired allows none", 1, 2, 3, 0, policyv1.InsufficientPodsReason},
		{"no expected pods allows none whatever the counts", 3, 0, 0, 0, policyv1.InsufficientPodsReason},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := withStatus(budget(intOrStr("2"), nil), c.current, c.desired, c.expected, nil)
			if out == nil {
				t.Fatal("no update")
			}
			st := out.Status
			if st.DisruptionsAllowed != c.wantAllowed || st.CurrentHealthy != c.current || st.DesiredHealthy != c.desired ||
				st.ExpectedPods != c.expected || st.ObservedGeneration != 1 {
				t.Errorf("status %+v", st)
			}
			if len(st.Conditions) != 1 || st.Conditions[0].Type != policyv1.DisruptionAllowedCondition || st.Conditions[0].Reason != c.wantReason {
				t.Errorf("conditions %+v", st.Conditions)
			}
			if again := withStatus(out, c.current, c.desired, c.expected, nil); again != nil {
				t.Errorf("an up-to-date status was written again: %+v", again.Status)
			}
		})
	}
}
