package core

import (
	"errors"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var evictT0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func pdbWith(allowed, current, desired int32, observed, generation int64) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "budget", Namespace: "ns", Generation: generation},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed, CurrentHealthy: current, DesiredHealthy: desired, ObservedGeneration: observed}}
}

func TestSpendBudget(t *testing.T) {
	tooMany := pdbWith(1, 3, 2, 1, 1)
	tooMany.Status.DisruptedPods = map[string]metav1.Time{}
	for i := 0; i <= MaxDisruptedPods; i++ {
		tooMany.Status.DisruptedPods[string(rune('a'+i%26))+time.Duration(i).String()] = metav1.NewTime(evictT0)
	}
	cases := []struct {
		name     string
		pdb      *policyv1.PodDisruptionBudget
		dryRun   bool
		code     int32
		cause    string
		left     int32
		noUpdate bool
	}{
		{name: "a budget allowing a disruption spends one and records the pod", pdb: pdbWith(2, 4, 2, 1, 1), left: 1},
		{name: "spending the last disruption turns the condition to InsufficientPods", pdb: pdbWith(1, 3, 2, 1, 1), left: 0},
		{name: "a budget allowing none refuses with 429 and says why", pdb: pdbWith(0, 2, 2, 1, 1), code: http.StatusTooManyRequests,
			cause: "The disruption budget budget needs 2 healthy pods and has 2 currently"},
		{name: "a budget whose status predates its spec refuses with 429 until the controller caught up", pdb: pdbWith(5, 5, 0, 1, 2),
			code: http.StatusTooManyRequests, cause: "The disruption budget budget is still being processed by the server."},
		{name: "a negative allowance is refused with 403", pdb: pdbWith(-1, 0, 0, 1, 1), code: http.StatusForbidden},
		{name: "too many unconfirmed evictions are refused with 403", pdb: tooMany, code: http.StatusForbidden},
		{name: "a dry run checks but stores nothing", pdb: pdbWith(1, 3, 2, 1, 1), dryRun: true, noUpdate: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := SpendBudget(c.pdb, "web-1", evictT0, c.dryRun)
			if c.code != 0 {
				var se *apierrors.StatusError
				if !errors.As(err, &se) || se.ErrStatus.Code != c.code {
					t.Fatalf("err = %v, want %d", err, c.code)
				}
				if c.code == http.StatusTooManyRequests {
					if se.ErrStatus.Message != "Cannot evict pod as it would violate the pod's disruption budget." ||
						len(se.ErrStatus.Details.Causes) != 1 || se.ErrStatus.Details.Causes[0].Type != policyv1.DisruptionBudgetCause ||
						se.ErrStatus.Details.Causes[0].Message != c.cause {
						t.Errorf("status %+v", se.ErrStatus)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.noUpdate {
				if out != nil {
					t.Errorf("a dry run returned a budget to store")
				}
				return
			}
			if out.Status.DisruptionsAllowed != c.left || !out.Status.DisruptedPods["web-1"].Time.Equal(evictT0) {
				t.Errorf("status %+v", out.Status)
			}
			if c.left == 0 && (len(out.Status.Conditions) != 1 || out.Status.Conditions[0].Reason != policyv1.InsufficientPodsReason) {
				t.Errorf("conditions %+v", out.Status.Conditions)
			}
			if c.pdb.Status.DisruptionsAllowed == out.Status.DisruptionsAllowed {
				t.Error("the input budget was changed")
			}
		})
	}
}

func readyPodWithPhase(phase corev1.PodPhase, ready bool) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: map[string]string{"app": "web"}},
		Status: corev1.PodStatus{Phase: phase, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}}}
}

func TestWhichPodsSkipTheirBudget(t *testing.T) {
	deleting := readyPodWithPhase(corev1.PodRunning, true)
	deleting.DeletionTimestamp = &metav1.Time{Time: evictT0}
	cases := []struct {
		name       string
		pod        *corev1.Pod
		skips, pin bool
	}{
		{"a running pod asks its budget", readyPodWithPhase(corev1.PodRunning, true), false, true},
		{"a pending pod goes without asking, if it stays as it is", readyPodWithPhase(corev1.PodPending, false), true, true},
		{"a succeeded pod goes without asking", readyPodWithPhase(corev1.PodSucceeded, false), true, false},
		{"a failed pod goes without asking", readyPodWithPhase(corev1.PodFailed, false), true, false},
		{"a pod already being deleted goes without asking", deleting, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := EvictionSkipsBudget(c.pod); got != c.skips {
				t.Errorf("skips = %v", got)
			}
			if got := EvictionPinsVersion(c.pod); got != c.pin {
				t.Errorf("pins = %v", got)
			}
		})
	}
}

func TestUnhealthyPodMayGo(t *testing.T) {
	always := policyv1.AlwaysAllow
	ifHealthy := policyv1.IfHealthyBudget
	withPolicy := func(p *policyv1.UnhealthyPodEvictionPolicyType, current, desired int32) *policyv1.PodDisruptionBudget {
		pdb := pdbWith(0, current, desired, 1, 1)
		pdb.Spec.UnhealthyPodEvictionPolicy = p
		return pdb
	}
	cases := []struct {
		name string
		pdb  *policyv1.PodDisruptionBudget
		pod  *corev1.Pod
		want bool
	}{
		{"a Ready pod always spends the budget", withPolicy(&always, 5, 1), readyPodWithPhase(corev1.PodRunning, true), false},
		{"AlwaysAllow lets an unready pod go whatever the budget", withPolicy(&always, 0, 3), readyPodWithPhase(corev1.PodRunning, false), true},
		{"IfHealthyBudget lets an unready pod go while the budget is met", withPolicy(&ifHealthy, 3, 3), readyPodWithPhase(corev1.PodRunning, false), true},
		{"IfHealthyBudget keeps an unready pod while the budget is not met", withPolicy(&ifHealthy, 2, 3), readyPodWithPhase(corev1.PodRunning, false), false},
		{"no policy is IfHealthyBudget", withPolicy(nil, 3, 3), readyPodWithPhase(corev1.PodRunning, false), true},
		{"a budget wanting no healthy pod does not count as met", withPolicy(nil, 0, 0), readyPodWithPhase(corev1.PodRunning, false), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := UnhealthyPodMayGo(c.pdb, c.pod); got != c.want {
				t.Errorf("got %v", got)
			}
		})
	}
}

func TestBudgetsCovering(t *testing.T) {
	sel := func(name string, s *metav1.LabelSelector) *policyv1.PodDisruptionBudget {
		return &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: policyv1.PodDisruptionBudgetSpec{Selector: s}}
	}
	pdbs := []*policyv1.PodDisruptionBudget{
		sel("web", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}),
		sel("db", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}),
		sel("all", &metav1.LabelSelector{}),
		sel("none", nil),
	}
	got := BudgetsCovering(pdbs, readyPodWithPhase(corev1.PodRunning, true))
	if len(got) != 2 || got[0].Name != "all" || got[1].Name != "web" {
		t.Errorf("got %v", got)
	}
}

func TestEvictionDeleteOptions(t *testing.T) {
	all := []string{metav1.DryRunAll}
	ev := &policyv1.Eviction{}
	if o, err := EvictionDeleteOptions(ev, all); err != nil || len(o.DryRun) != 1 {
		t.Errorf("request dry run not carried: %+v %v", o, err)
	}
	grace := int64(0)
	ev.DeleteOptions = &metav1.DeleteOptions{GracePeriodSeconds: &grace}
	if o, err := EvictionDeleteOptions(ev, all); err != nil || len(o.DryRun) != 1 || *o.GracePeriodSeconds != 0 {
		t.Errorf("options not merged: %+v %v", o, err)
	}
	ev.DeleteOptions.DryRun = []string{"Other"}
	if _, err := EvictionDeleteOptions(ev, all); err == nil {
		t.Error("conflicting dry runs accepted")
	}
	if err := ValidateEviction(&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, "b"); !apierrors.IsBadRequest(err) {
		t.Errorf("name mismatch: %v", err)
	}
	yes := true
	if err := ValidateEviction(&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "a"},
		DeleteOptions: &metav1.DeleteOptions{IgnoreStoreReadErrorWithClusterBreakingPotential: &yes}}, "a"); !apierrors.IsInvalid(err) {
		t.Errorf("unsafe delete accepted: %v", err)
	}
}

func TestSetEvictionCondition(t *testing.T) {
	p := readyPodWithPhase(corev1.PodRunning, true)
	if !SetEvictionCondition(p, evictT0) {
		t.Fatal("no change")
	}
	c := p.Status.Conditions[1]
	if c.Type != corev1.DisruptionTarget || c.Reason != "EvictionByEvictionAPI" || c.Message != "Eviction API: evicting" || !c.LastTransitionTime.Time.Equal(evictT0) {
		t.Errorf("condition %+v", c)
	}
	if SetEvictionCondition(p, evictT0.Add(time.Minute)) {
		t.Error("set twice")
	}
}
