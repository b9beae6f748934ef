package clusterroleaggregation

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

func role(name string, labels map[string]string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Rules: rules}
}

func aggregated(name string, labels map[string]string, selectors ...map[string]string) *rbacv1.ClusterRole {
	r := role(name, labels)
	r.AggregationRule = &rbacv1.AggregationRule{}
	for _, s := range selectors {
		r.AggregationRule.ClusterRoleSelectors = append(r.AggregationRule.ClusterRoleSelectors, metav1.LabelSelector{MatchLabels: s})
	}
	return r
}

func get(res ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: res}
}

func TestAggregate(t *testing.T) {
	toView := map[string]string{"view": "true"}
	toEdit := map[string]string{"edit": "true"}
	tests := []struct {
		name  string
		role  *rbacv1.ClusterRole
		roles []*rbacv1.ClusterRole
		want  []rbacv1.PolicyRule
	}{
		{"the rules of the matching roles are gathered in name order",
			aggregated("view", nil, toView),
			[]*rbacv1.ClusterRole{role("z", toView, get("secrets")), role("a", toView, get("pods")), role("other", nil, get("nodes"))},
			[]rbacv1.PolicyRule{get("pods"), get("secrets")}},
		{"a rule two roles share is gathered once",
			aggregated("view", nil, toView),
			[]*rbacv1.ClusterRole{role("a", toView, get("pods")), role("b", toView, get("pods"), get("services"))},
			[]rbacv1.PolicyRule{get("pods"), get("services")}},
		{"each selector adds its roles in turn",
			aggregated("edit", nil, toEdit, toView),
			[]*rbacv1.ClusterRole{role("a", toView, get("pods")), role("b", toEdit, get("secrets"))},
			[]rbacv1.PolicyRule{get("secrets"), get("pods")}},
		{"an aggregated role that matches itself does not gather its own rules",
			aggregated("self", toView, toView),
			[]*rbacv1.ClusterRole{role("self", toView, get("stale")), role("a", toView, get("pods"))},
			[]rbacv1.PolicyRule{get("pods")}},
		{"nothing matching gathers no rules",
			aggregated("view", nil, toView), []*rbacv1.ClusterRole{role("a", nil, get("pods"))}, []rbacv1.PolicyRule{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Aggregate(tt.role, append(tt.roles, tt.role))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// fixture is a controller on a fake clientset holding objs, with its cache filled.
func fixture(t *testing.T, objs ...runtime.Object) (*Controller, *fake.Clientset) {
	client := fake.NewClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	inf := factory.Rbac().V1().ClusterRoles()
	c := New(client, inf, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, o := range objs {
		if err := inf.Informer().GetIndexer().Add(o); err != nil {
			t.Fatal(err)
		}
	}
	client.ClearActions()
	return c, client
}

func TestSyncAppliesChangedRulesOnly(t *testing.T) {
	toView := map[string]string{"view": "true"}
	view := aggregated("view", nil, toView)
	c, client := fixture(t, view, role("a", toView, get("pods")))
	if err := c.sync(context.Background(), "view"); err != nil {
		t.Fatal(err)
	}
	actions := client.Actions()
	if len(actions) != 1 {
		t.Fatalf("actions %v, want one apply", actions)
	}
	p, ok := actions[0].(clienttesting.PatchAction)
	if !ok || p.GetPatchType() != types.ApplyPatchType || p.GetName() != "view" {
		t.Fatalf("action %#v is not an apply of view", actions[0])
	}

	current := view.DeepCopy()
	current.Rules = []rbacv1.PolicyRule{get("pods")}
	c, client = fixture(t, current, role("a", toView, get("pods")))
	if err := c.sync(context.Background(), "view"); err != nil {
		t.Fatal(err)
	}
	if len(client.Actions()) != 0 {
		t.Errorf("rules already current were written again: %v", client.Actions())
	}
	if err := c.sync(context.Background(), "gone"); err != nil {
		t.Errorf("a deleted role: %v", err)
	}
}
