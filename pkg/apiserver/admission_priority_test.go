package apiserver

import (
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodPriorityFromItsClass(t *testing.T) {
	never := corev1.PreemptNever
	lower := corev1.PreemptLowerPriority
	high := uniqueName("high")
	call(t, http.MethodPost, "/apis/scheduling.k8s.io/v1/priorityclasses", &schedulingv1.PriorityClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: "scheduling.k8s.io/v1", Kind: "PriorityClass"},
		ObjectMeta: metav1.ObjectMeta{Name: high}, Value: 1000}).must(t, http.StatusCreated)
	polite := uniqueName("polite")
	call(t, http.MethodPost, "/apis/scheduling.k8s.io/v1/priorityclasses", &schedulingv1.PriorityClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: "scheduling.k8s.io/v1", Kind: "PriorityClass"},
		ObjectMeta: metav1.ObjectMeta{Name: polite}, Value: 500, PreemptionPolicy: &never}).must(t, http.StatusCreated)
	cases := []struct {
		name         string
		class        string
		priority     *int32
		policy       *corev1.PreemptionPolicy
		wantPriority int32
		wantPolicy   corev1.PreemptionPolicy
		wantErr      string
	}{
		{name: "a pod takes its class's value and preemption policy", class: high, wantPriority: 1000, wantPolicy: lower},
		{name: "a class that never preempts makes its pods never preempt", class: polite, wantPriority: 500, wantPolicy: never},
		{name: "a pod naming no class gets priority zero", wantPriority: 0, wantPolicy: lower},
		{name: "a built-in class is found", class: "system-cluster-critical", wantPriority: 2000000000, wantPolicy: lower},
		{name: "an unknown class is refused", class: "nonexistent",
			wantErr: "no PriorityClass with name nonexistent was found"},
		{name: "a priority that differs from the class's is refused", class: high, priority: ptrTo[int32](7),
			wantErr: "the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name"},
		{name: "a priority equal to the class's is accepted", class: high, priority: ptrTo[int32](1000), wantPriority: 1000, wantPolicy: lower},
		{name: "a preemption policy that differs from the class's is refused", class: polite, policy: &lower,
			wantErr: "the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := uniqueName("prio")
			pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: corev1.PodSpec{PriorityClassName: c.class, Priority: c.priority, PreemptionPolicy: c.policy,
					Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
			r := call(t, http.MethodPost, podPath, pod)
			if c.wantErr != "" {
				st := r.status(t, http.StatusForbidden, metav1.StatusReasonForbidden)
				if want := `pods "` + name + `" is forbidden: ` + c.wantErr; st.Message != want {
					t.Fatalf("message %q, want %q", st.Message, want)
				}
				return
			}
			got := &corev1.Pod{}
			r.must(t, http.StatusCreated).into(t, got)
			if got.Spec.Priority == nil || *got.Spec.Priority != c.wantPriority || got.Spec.PreemptionPolicy == nil || *got.Spec.PreemptionPolicy != c.wantPolicy {
				t.Fatalf("priority %v, policy %v; want %d, %s", got.Spec.Priority, got.Spec.PreemptionPolicy, c.wantPriority, c.wantPolicy)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
