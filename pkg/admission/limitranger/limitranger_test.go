package limitranger

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/admissiontest"
)

func list(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func podWith(req, lim corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}}}}
}

func rangeOf(items ...corev1.LimitRangeItem) *corev1.LimitRange {
	return &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr", Namespace: "ns"}, Spec: corev1.LimitRangeSpec{Limits: items}}
}

func attrs(op admission.Operation, obj, old *corev1.Pod) *admission.Attributes {
	a := &admission.Attributes{Operation: op, Resource: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, Namespace: "ns", Name: "p", Object: obj}
	if old != nil {
		a.OldObject = old
	}
	return a
}

func TestAPodGetsTheDefaultsItDoesNotSet(t *testing.T) {
	lr := rangeOf(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: list("cpu", "500m", "memory", "256Mi"), DefaultRequest: list("cpu", "100m", "memory", "128Mi")})
	p := New(admissiontest.New().Add("limitranges", lr))
	cases := []struct {
		name           string
		pod            *corev1.Pod
		wantReq        corev1.ResourceList
		wantLim        corev1.ResourceList
		wantAnnotation string
	}{
		{"a pod without resources gets both defaults", podWith(nil, nil), list("cpu", "100m", "memory", "128Mi"), list("cpu", "500m", "memory", "256Mi"),
			"LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c"},
		{"a pod with its own cpu keeps it and gets memory", podWith(list("cpu", "200m"), list("cpu", "300m")), list("cpu", "200m", "memory", "128Mi"), list("cpu", "300m", "memory", "256Mi"),
			"LimitRanger plugin set: memory request for container c; memory limit for container c"},
		{"a pod with everything set is left alone", podWith(list("cpu", "1", "memory", "1Gi"), list("cpu", "1", "memory", "1Gi")), list("cpu", "1", "memory", "1Gi"), list("cpu", "1", "memory", "1Gi"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := p.Admit(context.Background(), attrs(admission.Create, c.pod, nil)); err != nil {
				t.Fatal(err)
			}
			got := c.pod.Spec.Containers[0].Resources
			for k, v := range c.wantReq {
				if q := got.Requests[k]; q.Cmp(v) != 0 {
					t.Errorf("request %s = %s, want %s", k, q.String(), v.String())
				}
			}
			for k, v := range c.wantLim {
				if q := got.Limits[k]; q.Cmp(v) != 0 {
					t.Errorf("limit %s = %s, want %s", k, q.String(), v.String())
				}
			}
			if a := c.pod.Annotations[Annotation]; a != c.wantAnnotation {
				t.Errorf("annotation = %q, want %q", a, c.wantAnnotation)
			}
		})
	}
}

func TestAnUpdatedPodIsNeitherDefaultedNorChecked(t *testing.T) {
	lr := rangeOf(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: list("cpu", "1"), Default: list("cpu", "1")})
	p := New(admissiontest.New().Add("limitranges", lr))
	pod := podWith(list("cpu", "2"), list("cpu", "2"))
	if err := p.Admit(context.Background(), attrs(admission.Update, pod, pod.DeepCopy())); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(context.Background(), attrs(admission.Update, pod, pod.DeepCopy())); err != nil {
		t.Errorf("update refused: %v", err)
	}
}

func TestPodsOutsideTheRangeAreRefusedWithUpstreamsMessages(t *testing.T) {
	cases := []struct {
		name string
		item corev1.LimitRangeItem
		pod  *corev1.Pod
		want string // "" when admitted
	}{
		{"a container over the max limit", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: list("cpu", "500m")},
			podWith(list("cpu", "100m"), list("cpu", "1")), `pods "p" is forbidden: maximum cpu usage per Container is 500m, but limit is 1`},
		{"a container without a limit under a max", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: list("memory", "1Gi")},
			podWith(nil, nil), `pods "p" is forbidden: maximum memory usage per Container is 1Gi. No limit is specified`},
		{"a container under the min request", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: list("cpu", "200m")},
			podWith(list("cpu", "100m"), nil), `pods "p" is forbidden: minimum cpu usage per Container is 200m, but request is 100m`},
		{"a container without a request over a min", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: list("cpu", "200m")},
			podWith(nil, nil), `pods "p" is forbidden: minimum cpu usage per Container is 200m.  No request is specified`},
		{"a container over the limit to request ratio", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: list("cpu", "2")},
			podWith(list("cpu", "100m"), list("cpu", "500m")), `pods "p" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000`},
		{"a pod whose containers together exceed the pod max", corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: list("cpu", "1")},
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "a", Resources: corev1.ResourceRequirements{Limits: list("cpu", "600m")}},
				{Name: "b", Resources: corev1.ResourceRequirements{Limits: list("cpu", "600m")}}}}},
			`pods "p" is forbidden: maximum cpu usage per Pod is 1, but limit is 1200m`},
		{"two violations are listed together", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: list("cpu", "500m", "memory", "1Gi")},
			podWith(nil, list("cpu", "1", "memory", "2Gi")), `pods "p" is forbidden: [maximum cpu usage per Container is 500m, but limit is 1, maximum memory usage per Container is 1Gi, but limit is 2Gi]`},
		{"a pod inside every bound", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: list("cpu", "100m"), Max: list("cpu", "1")},
			podWith(list("cpu", "200m"), list("cpu", "500m")), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := New(admissiontest.New().Add("limitranges", rangeOf(c.item)))
			err := p.Validate(context.Background(), attrs(admission.Create, c.pod, nil))
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || err.Error() != c.want):
				t.Errorf("got %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestAClaimOutsideTheStorageRangeIsRefused(t *testing.T) {
	lr := rangeOf(corev1.LimitRangeItem{Type: corev1.LimitTypePersistentVolumeClaim, Min: list("storage", "1Gi"), Max: list("storage", "2Gi")})
	p := New(admissiontest.New().Add("limitranges", lr))
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"},
		Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: list("storage", "5Gi")}}}
	a := &admission.Attributes{Operation: admission.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, Namespace: "ns", Name: "c", Object: pvc}
	err := p.Validate(context.Background(), a)
	if err == nil || !strings.Contains(err.Error(), "maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi") {
		t.Errorf("got %v", err)
	}
}
