package quota

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"
)

func list(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func TestUsageCountsWhatUpstreamsEvaluatorsCount(t *testing.T) {
	two := int64(2)
	cases := []struct {
		name string
		gr   schema.GroupResource
		obj  runtime.Object
		want corev1.ResourceList
	}{
		{"a running pod counts its requests and limits", schema.GroupResource{Resource: "pods"},
			&corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Resources: corev1.ResourceRequirements{Requests: list("cpu", "100m", "memory", "64Mi"), Limits: list("cpu", "200m")}}}}},
			list("count/pods", "1", "pods", "1", "cpu", "100m", "requests.cpu", "100m", "memory", "64Mi", "requests.memory", "64Mi", "limits.cpu", "200m")},
		{"a finished pod counts only as an object", schema.GroupResource{Resource: "pods"},
			&corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}, list("count/pods", "1")},
		{"a pod past its deletion grace period counts only as an object", schema.GroupResource{Resource: "pods"},
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &metav1.Time{Time: time.Unix(0, 0)}, DeletionGracePeriodSeconds: &two}}, list("count/pods", "1")},
		{"a NodePort service counts its ports", schema.GroupResource{Resource: "services"},
			&corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 1}, {Port: 2}}}},
			list("count/services", "1", "services", "1", "services.nodeports", "2")},
		{"a claim counts its storage and class", schema.GroupResource{Resource: "persistentvolumeclaims"},
			&corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr("gold"), Resources: corev1.VolumeResourceRequirements{Requests: list("storage", "1Gi")}}},
			list("count/persistentvolumeclaims", "1", "persistentvolumeclaims", "1", "requests.storage", "1Gi",
				"gold.storageclass.storage.k8s.io/requests.storage", "1Gi", "gold.storageclass.storage.k8s.io/persistentvolumeclaims", "1")},
		{"a deployment counts as an object", schema.GroupResource{Group: "apps", Resource: "deployments"},
			&metav1.PartialObjectMetadata{}, list("count/deployments.apps", "1")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Usage(c.gr, c.obj, time.Unix(100, 0))
			if err != nil {
				t.Fatal(err)
			}
			if !quotav1.Equals(got, c.want) {
				t.Errorf("usage %v, want %v", got, c.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestScopesSelectPods(t *testing.T) {
	deadline := int64(10)
	withRequests := &corev1.Pod{Spec: corev1.PodSpec{PriorityClassName: "high", Containers: []corev1.Container{{Resources: corev1.ResourceRequirements{Requests: list("cpu", "1")}}}}}
	bestEffort := &corev1.Pod{Spec: corev1.PodSpec{ActiveDeadlineSeconds: &deadline, Containers: []corev1.Container{{}}}}
	cases := []struct {
		name string
		sel  corev1.ScopedResourceSelectorRequirement
		pod  *corev1.Pod
		want bool
	}{
		{"BestEffort selects a pod without requests", corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopeBestEffort}, bestEffort, true},
		{"NotBestEffort selects a pod with requests", corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopeNotBestEffort}, withRequests, true},
		{"Terminating selects a pod with a deadline", corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopeTerminating}, bestEffort, true},
		{"NotTerminating refuses a pod with a deadline", corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopeNotTerminating}, bestEffort, false},
		{"PriorityClass In selects a pod of that class", corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpIn, Values: []string{"high"}}, withRequests, true},
		{"PriorityClass NotIn refuses a pod of that class", corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpNotIn, Values: []string{"high"}}, withRequests, false},
		{"PriorityClass Exists refuses a pod without a class", corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpExists}, bestEffort, false},
		{"PriorityClass DoesNotExist selects a pod without a class", corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpDoesNotExist}, bestEffort, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{ScopeSelector: &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{c.sel}}},
				Status: corev1.ResourceQuotaStatus{Hard: list("pods", "5")}}
			got, err := Matches(q, schema.GroupResource{Resource: "pods"}, c.pod)
			if err != nil || got != c.want {
				t.Errorf("Matches = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestAScopedQuotaNeverSelectsOtherKinds(t *testing.T) {
	q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}},
		Status: corev1.ResourceQuotaStatus{Hard: list("services", "5")}}
	if ok, _ := Matches(q, schema.GroupResource{Resource: "services"}, &corev1.Service{}); ok {
		t.Error("a BestEffort quota selected a service")
	}
}
