package bootstrappolicy

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func TestEveryObjectIsMarkedAsABootstrapDefault(t *testing.T) {
	p := Default()
	var metas []metav1.ObjectMeta
	for _, r := range p.ClusterRoles {
		metas = append(metas, r.ObjectMeta)
	}
	for _, b := range p.ClusterRoleBindings {
		metas = append(metas, b.ObjectMeta)
	}
	for _, r := range p.Roles {
		metas = append(metas, r.ObjectMeta)
	}
	for _, b := range p.RoleBindings {
		metas = append(metas, b.ObjectMeta)
	}
	seen := map[string]bool{}
	for _, m := range metas {
		if m.Labels[BootstrappingLabel] != BootstrappingValue || m.Annotations[rbacv1.AutoUpdateAnnotationKey] != "true" {
			t.Errorf("%s/%s lacks the bootstrapping label or the autoupdate annotation", m.Namespace, m.Name)
		}
	}
	for _, r := range p.ClusterRoles {
		if seen[r.Name] {
			t.Errorf("cluster role %s twice", r.Name)
		}
		seen[r.Name] = true
	}
	for _, b := range p.ClusterRoleBindings {
		if !seen[b.RoleRef.Name] {
			t.Errorf("binding %s refers to a role the policy lacks: %s", b.Name, b.RoleRef.Name)
		}
	}
}

func TestUserFacingRolesAggregate(t *testing.T) {
	roles := map[string]rbacv1.ClusterRole{}
	for _, r := range ClusterRoles() {
		roles[r.Name] = r
	}
	// admin gathers edit, which gathers view: each picks up the next.
	chain := []struct{ role, picks string }{
		{"admin", "edit"}, {"admin", "system:aggregate-to-admin"},
		{"edit", "view"}, {"edit", "system:aggregate-to-edit"},
		{"view", "system:aggregate-to-view"},
	}
	for _, c := range chain {
		sel, err := metav1.LabelSelectorAsSelector(&roles[c.role].AggregationRule.ClusterRoleSelectors[0])
		if err != nil {
			t.Fatal(err)
		}
		if !sel.Matches(labels.Set(roles[c.picks].Labels)) {
			t.Errorf("%s does not aggregate %s", c.role, c.picks)
		}
	}
	if len(roles["admin"].Rules) != 0 {
		t.Error("admin is created with rules of its own; the aggregation controller fills them")
	}
}

func TestRulesAreSortedAndShareNoMemory(t *testing.T) {
	a, b := on(write, core, "pods"), on(write, core, "pods")
	if a.Verbs[0] != "create" || a.Verbs[1] != "delete" {
		t.Errorf("verbs not sorted: %v", a.Verbs)
	}
	a.Verbs[0] = "changed"
	if b.Verbs[0] != "create" || write[0] != "create" {
		t.Error("rules share their verb lists")
	}
}
