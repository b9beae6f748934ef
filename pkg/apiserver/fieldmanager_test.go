package apiserver

import (
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// What admission adds to a created pod (its service account and token volume,
// its priority and preemption policy) belongs to no manager, as upstream: the
// creator's entry is recorded before admission runs.
func TestCreatorDoesNotOwnWhatAdmissionAdds(t *testing.T) {
	name := uniqueName("owned")
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	got := &corev1.Pod{}
	call(t, http.MethodPost, podPath+"?fieldManager=creator", pod).must(t, http.StatusCreated).into(t, got)
	if got.Spec.ServiceAccountName != "default" || len(got.Spec.Volumes) == 0 || got.Spec.Priority == nil || got.Spec.PreemptionPolicy == nil {
		t.Fatalf("admission did not run: %+v", got.Spec)
	}
	if len(got.ManagedFields) != 1 || got.ManagedFields[0].Manager != "creator" || got.ManagedFields[0].FieldsV1 == nil {
		t.Fatalf("managed fields %+v", got.ManagedFields)
	}
	fields := string(got.ManagedFields[0].FieldsV1.Raw)
	if !strings.Contains(fields, `"f:containers"`) {
		t.Errorf("the creator does not own its containers: %s", fields)
	}
	for _, f := range []string{"f:serviceAccountName", "f:serviceAccount", "f:volumes", "f:priority", "f:preemptionPolicy", "f:tolerations", "f:volumeMounts"} {
		if strings.Contains(fields, `"`+f+`"`) {
			t.Errorf("the creator owns %s, which admission set: %s", f, fields)
		}
	}
}
