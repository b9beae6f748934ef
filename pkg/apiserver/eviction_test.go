package apiserver

import (
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// runningPod creates a pod bound to a node and makes it Running (Ready or not).
func runningPod(t *testing.T, ns, name string, ready bool) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "evict-" + name}},
		Spec:       corev1.PodSpec{NodeName: "n", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	call(t, "POST", "/api/v1/namespaces/"+ns+"/pods", pod).must(t, http.StatusCreated)
	got := &corev1.Pod{}
	call(t, "GET", "/api/v1/namespaces/"+ns+"/pods/"+name, nil).must(t, http.StatusOK).into(t, got)
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	got.Status.Phase = corev1.PodRunning
	got.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
	out := &corev1.Pod{}
	call(t, "PUT", "/api/v1/namespaces/"+ns+"/pods/"+name+"/status", got).must(t, http.StatusOK).into(t, out)
	return out
}

// budgetFor creates a budget selecting a pod's app label with the status given.
func budgetFor(t *testing.T, ns, name, app string, st policyv1.PodDisruptionBudgetStatus) {
	t.Helper()
	min := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{TypeMeta: metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &min, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}}}
	created := &policyv1.PodDisruptionBudget{}
	call(t, "POST", "/apis/policy/v1/namespaces/"+ns+"/poddisruptionbudgets", pdb).must(t, http.StatusCreated).into(t, created)
	created.Status = st
	if st.ObservedGeneration == 0 {
		created.Status.ObservedGeneration = created.Generation
	}
	call(t, "PUT", "/apis/policy/v1/namespaces/"+ns+"/poddisruptionbudgets/"+name+"/status", created).must(t, http.StatusOK)
}

func evict(t *testing.T, ns, name string, query string, opts *metav1.DeleteOptions) reply {
	t.Helper()
	ev := &policyv1.Eviction{TypeMeta: metav1.TypeMeta{APIVersion: "policy/v1", Kind: "Eviction"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, DeleteOptions: opts}
	return call(t, "POST", "/api/v1/namespaces/"+ns+"/pods/"+name+"/eviction"+query, ev)
}

func podGone(t *testing.T, ns, name string) bool {
	t.Helper()
	r := call(t, "GET", "/api/v1/namespaces/"+ns+"/pods/"+name, nil)
	if r.code == http.StatusNotFound {
		return true
	}
	p := &corev1.Pod{}
	r.into(t, p)
	return p.DeletionTimestamp != nil
}

func TestEvictionRespectsTheBudget(t *testing.T) {
	ns := "default"
	zero := int64(0)
	now := &metav1.DeleteOptions{GracePeriodSeconds: &zero}

	runningPod(t, ns, "guarded", true)
	budgetFor(t, ns, "guarded", "evict-guarded", policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 0, CurrentHealthy: 1, DesiredHealthy: 1, ExpectedPods: 1})
	st := evict(t, ns, "guarded", "", now).status(t, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests)
	if st.Message != "Cannot evict pod as it would violate the pod's disruption budget." || st.Details == nil ||
		len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != "DisruptionBudget" ||
		st.Details.Causes[0].Message != "The disruption budget guarded needs 1 healthy pods and has 1 currently" {
		t.Errorf("status %+v", st)
	}
	if podGone(t, ns, "guarded") {
		t.Fatal("a refused eviction deleted the pod")
	}

	runningPod(t, ns, "spare", true)
	budgetFor(t, ns, "spare", "evict-spare", policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1, CurrentHealthy: 2, DesiredHealthy: 1, ExpectedPods: 2})
	// A dry run answers as the eviction would, and changes nothing.
	evict(t, ns, "spare", "?dryRun=All", now).must(t, http.StatusCreated)
	if podGone(t, ns, "spare") {
		t.Fatal("a dry-run eviction deleted the pod")
	}
	ok := &metav1.Status{}
	evict(t, ns, "spare", "", now).must(t, http.StatusCreated).into(t, ok)
	if ok.Status != metav1.StatusSuccess {
		t.Errorf("reply %+v", ok)
	}
	if !podGone(t, ns, "spare") {
		t.Error("the allowed eviction did not delete the pod")
	}
	pdb := &policyv1.PodDisruptionBudget{}
	call(t, "GET", "/apis/policy/v1/namespaces/"+ns+"/poddisruptionbudgets/spare", nil).must(t, http.StatusOK).into(t, pdb)
	if pdb.Status.DisruptionsAllowed != 0 || pdb.Status.DisruptedPods["spare"].Time.IsZero() {
		t.Errorf("budget status after the eviction: %+v", pdb.Status)
	}
}

func TestEvictionOfAPodWhoseBudgetIsStaleIsRetryLater(t *testing.T) {
	ns := "default"
	runningPod(t, ns, "stale", true)
	budgetFor(t, ns, "stale", "evict-stale", policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 5, ObservedGeneration: -1})
	st := evict(t, ns, "stale", "", nil).status(t, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests)
	if st.Details.Causes[0].Message != "The disruption budget stale is still being processed by the server." {
		t.Errorf("status %+v", st)
	}
}

func TestEvictionOfAPodCoveredByTwoBudgetsFails(t *testing.T) {
	ns := "default"
	runningPod(t, ns, "twice", true)
	budgetFor(t, ns, "twice-a", "evict-twice", policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1})
	budgetFor(t, ns, "twice-b", "evict-twice", policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1})
	r := evict(t, ns, "twice", "", nil).must(t, http.StatusCreated)
	st := &metav1.Status{}
	r.into(t, st)
	if st.Status != metav1.StatusFailure || st.Code != http.StatusInternalServerError ||
		st.Message != "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." {
		t.Errorf("status %+v", st)
	}
}

func TestEvictionOfPodsOutsideABudget(t *testing.T) {
	ns := "default"
	zero := int64(0)
	// Not covered by any budget: deleted.
	runningPod(t, ns, "free", true)
	evict(t, ns, "free", "", &metav1.DeleteOptions{GracePeriodSeconds: &zero}).must(t, http.StatusCreated)
	if !podGone(t, ns, "free") {
		t.Error("an uncovered pod was not evicted")
	}
	// Not Ready, under a budget that is met: goes without spending it.
	runningPod(t, ns, "sick", false)
	budgetFor(t, ns, "sick", "evict-sick", policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 0, CurrentHealthy: 2, DesiredHealthy: 2})
	evict(t, ns, "sick", "", &metav1.DeleteOptions{GracePeriodSeconds: &zero}).must(t, http.StatusCreated)
	if !podGone(t, ns, "sick") {
		t.Error("an unready pod of a met budget was not evicted")
	}
	// Name in the body and the URL disagree.
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "other"}}
	call(t, "POST", "/api/v1/namespaces/"+ns+"/pods/free/eviction", ev).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	// No such pod.
	evict(t, ns, "nope", "", nil).status(t, http.StatusNotFound, metav1.StatusReasonNotFound)
}

func TestAnEvictedPodCarriesTheDisruptionTargetCondition(t *testing.T) {
	ns := "default"
	runningPod(t, ns, "marked", true)
	evict(t, ns, "marked", "", nil).must(t, http.StatusCreated)
	p := &corev1.Pod{}
	call(t, "GET", "/api/v1/namespaces/"+ns+"/pods/marked", nil).must(t, http.StatusOK).into(t, p)
	if p.DeletionTimestamp == nil {
		t.Fatal("not being deleted")
	}
	found := false
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == "EvictionByEvictionAPI" && c.Message == "Eviction API: evicting" {
			found = true
		}
	}
	if !found {
		t.Errorf("conditions %+v", p.Status.Conditions)
	}
}
