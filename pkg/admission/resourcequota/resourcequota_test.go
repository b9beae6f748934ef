package resourcequota

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

func quotaOf(hard, used corev1.ResourceList, scopes ...corev1.ResourceQuotaScope) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "ns", ResourceVersion: "1"},
		Spec: corev1.ResourceQuotaSpec{Hard: hard, Scopes: scopes}, Status: corev1.ResourceQuotaStatus{Hard: hard, Used: used}}
}

func pod(req, lim corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}}}}
}

// recorder is a StatusWriter that keeps what was charged.
type recorder struct{ charged []*corev1.ResourceQuota }

func (r *recorder) UpdateQuotaStatus(_ context.Context, q *corev1.ResourceQuota) error {
	r.charged = append(r.charged, q)
	return nil
}

func TestWritesAreCheckedAgainstQuotaWithUpstreamsMessages(t *testing.T) {
	cases := []struct {
		name     string
		quota    *corev1.ResourceQuota
		pod      *corev1.Pod
		want     string // "" when admitted
		wantUsed corev1.ResourceList
	}{
		{"a pod within quota is admitted and charged", quotaOf(list("pods", "2", "requests.cpu", "1"), list("pods", "1", "requests.cpu", "500m")),
			pod(list("cpu", "200m"), nil), "", list("pods", "2", "requests.cpu", "700m")},
		{"a pod over the pod count is refused", quotaOf(list("pods", "1"), list("pods", "1")), pod(nil, nil),
			`pods "p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`, nil},
		{"a pod over the cpu request is refused", quotaOf(list("requests.cpu", "1"), list("requests.cpu", "900m")), pod(list("cpu", "200m"), nil),
			`pods "p" is forbidden: exceeded quota: q, requested: requests.cpu=200m, used: requests.cpu=900m, limited: requests.cpu=1`, nil},
		{"a pod without the limits a quota tracks is refused", quotaOf(list("limits.cpu", "2", "limits.memory", "1Gi"), list("limits.cpu", "0", "limits.memory", "0")), pod(nil, nil),
			`pods "p" is forbidden: failed quota: q: must specify limits.cpu for: c; limits.memory for: c`, nil},
		{"a quota without usage yet refuses", quotaOf(list("pods", "2"), nil), pod(nil, nil),
			`pods "p" is forbidden: status unknown for quota: q, resources: pods`, nil},
		{"a BestEffort quota ignores a pod with requests", quotaOf(list("pods", "0"), list("pods", "0"), corev1.ResourceQuotaScopeBestEffort),
			pod(list("cpu", "100m"), nil), "", nil},
		{"a BestEffort quota counts a pod without requests", quotaOf(list("pods", "0"), list("pods", "0"), corev1.ResourceQuotaScopeBestEffort),
			pod(nil, nil), `pods "p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=0, limited: pods=0`, nil},
		{"a Terminating quota ignores a pod without a deadline", quotaOf(list("pods", "0"), list("pods", "0"), corev1.ResourceQuotaScopeTerminating), pod(nil, nil), "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			p := New(admissiontest.New().Add("resourcequotas", c.quota), rec)
			a := &admission.Attributes{Operation: admission.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "pods"},
				Namespace: "ns", Name: "p", Object: c.pod}
			err := p.Validate(context.Background(), a)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || err.Error() != c.want):
				t.Fatalf("got %v\nwant %s", err, c.want)
			}
			if c.wantUsed != nil {
				if len(rec.charged) != 1 {
					t.Fatalf("charged %d quotas", len(rec.charged))
				}
				for k, v := range c.wantUsed {
					if got := rec.charged[0].Status.Used[k]; got.Cmp(v) != 0 {
						t.Errorf("used %s = %s, want %s", k, got.String(), v.String())
					}
				}
			}
		})
	}
}

func TestAServiceUpdateIsChargedOnlyItsGrowth(t *testing.T) {
	q := quotaOf(list("services.nodeports", "1"), list("services.nodeports", "1"))
	p := New(admissiontest.New().Add("resourcequotas", q), &recorder{})
	old := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", ResourceVersion: "5"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}}
	same := old.DeepCopy()
	same.Labels = map[string]string{"a": "b"}
	a := &admission.Attributes{Operation: admission.Update, Resource: schema.GroupVersionResource{Version: "v1", Resource: "services"},
		Namespace: "ns", Name: "s", Object: same, OldObject: old}
	if err := p.Validate(context.Background(), a); err != nil {
		t.Errorf("an update that adds no node port was refused: %v", err)
	}
	more := old.DeepCopy()
	more.Spec.Ports = append(more.Spec.Ports, corev1.ServicePort{Port: 81})
	a.Object = more
	if err := p.Validate(context.Background(), a); !apierrors.IsForbidden(err) {
		t.Errorf("an update that adds a node port over quota: %v", err)
	}
}

func TestADryRunIsCheckedButNotCharged(t *testing.T) {
	rec := &recorder{}
	p := New(admissiontest.New().Add("resourcequotas", quotaOf(list("pods", "2"), list("pods", "0"))), rec)
	a := &admission.Attributes{Operation: admission.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespace: "ns", Name: "p", Object: pod(nil, nil), DryRun: true}
	if err := p.Validate(context.Background(), a); err != nil || len(rec.charged) != 0 {
		t.Errorf("err %v, charged %d", err, len(rec.charged))
	}
}
