package resourcequota

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func list(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func podOf(name string, phase corev1.PodPhase, cpu string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Status: corev1.PodStatus{Phase: phase},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
	if cpu != "" {
		p.Spec.Containers[0].Resources.Requests = list("cpu", cpu)
	}
	return p
}

func TestUsedCountsTheNamespacesObjects(t *testing.T) {
	pods := []runtime.Object{podOf("a", corev1.PodRunning, "100m"), podOf("b", corev1.PodRunning, ""), podOf("done", corev1.PodSucceeded, "1")}
	cases := []struct {
		name    string
		quota   *corev1.ResourceQuota
		objects map[schema.GroupResource][]runtime.Object
		want    corev1.ResourceList
	}{
		{"pods and their requests, a finished pod only in count/pods",
			&corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: list("pods", "10", "requests.cpu", "2", "count/pods", "10")}},
			map[schema.GroupResource][]runtime.Object{{Resource: "pods"}: pods},
			list("pods", "2", "requests.cpu", "100m", "count/pods", "3")},
		{"a BestEffort quota counts only pods without requests",
			&corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: list("pods", "10"), Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}}},
			map[schema.GroupResource][]runtime.Object{{Resource: "pods"}: pods},
			list("pods", "1")},
		{"a limit nothing uses reads zero", &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: list("services", "3")}},
			map[schema.GroupResource][]runtime.Object{{Resource: "services"}: nil}, list("services", "0")},
		{"a resource that could not be listed keeps the status' usage",
			&corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: list("count/widgets.example.com", "3")}, Status: corev1.ResourceQuotaStatus{Used: list("count/widgets.example.com", "2")}},
			nil, list("count/widgets.example.com", "2")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Used(c.quota, c.objects, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !quotav1.Equals(got, c.want) {
				t.Errorf("used %v, want %v", got, c.want)
			}
		})
	}
}

func TestResourcesNamesWhatAQuotaCounts(t *testing.T) {
	got := Resources(list("requests.cpu", "1", "count/deployments.apps", "2", "secrets", "3"))
	want := map[schema.GroupResource]bool{{Resource: "pods"}: true, {Resource: "secrets"}: true, {Group: "apps", Resource: "deployments"}: true}
	if len(got) != len(want) {
		t.Fatalf("resources %v", got)
	}
	for _, gr := range got {
		if !want[gr] {
			t.Errorf("unexpected %v", gr)
		}
	}
}

func TestSyncWritesHardAndUsedToTheStatus(t *testing.T) {
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "ns"}, Spec: corev1.ResourceQuotaSpec{Hard: list("pods", "5")}}
	client := fake.NewSimpleClientset(q, podOf("a", corev1.PodRunning, ""))
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Quotas: f.Core().V1().ResourceQuotas(), Pods: f.Core().V1().Pods(), Services: f.Core().V1().Services(),
		Claims: f.Core().V1().PersistentVolumeClaims(), SyncPeriod: time.Minute, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	if err := c.sync(ctx, "ns/q"); err != nil {
		t.Fatal(err)
	}
	got, err := client.CoreV1().ResourceQuotas("ns").Get(ctx, "q", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !quotav1.Equals(got.Status.Hard, list("pods", "5")) || !quotav1.Equals(got.Status.Used, list("pods", "1")) {
		t.Errorf("status %+v", got.Status)
	}
	if NeedsSync(got) {
		t.Error("a synced quota still needs a sync")
	}
}
