package rbac

import (
	"context"
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func problems(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

func TestRoleRules(t *testing.T) {
	tests := []struct {
		name  string
		rules []rbacv1.PolicyRule
		want  []string
	}{
		{"a resource rule with groups, resources and verbs is valid",
			[]rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}}, []string{}},
		{"a rule needs verbs, groups and resources",
			[]rbacv1.PolicyRule{{}}, []string{"FieldValueRequired rules[0].verbs", "FieldValueRequired rules[0].apiGroups", "FieldValueRequired rules[0].resources"}},
		{"a namespaced role cannot grant non-resource URLs",
			[]rbacv1.PolicyRule{{NonResourceURLs: []string{"/healthz"}, Verbs: []string{"get"}}}, []string{"FieldValueInvalid rules[0].nonResourceURLs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "default"}, Rules: tt.rules}
			if got := problems(Roles().Strategy.Validate(context.Background(), role)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	cluster := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "system:x"}, Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/healthz"}, Verbs: []string{"get"}}}}
	if errs := ClusterRoles().Strategy.Validate(context.Background(), cluster); len(errs) != 0 {
		t.Errorf("a cluster role granting a URL: %v", errs)
	}
	if msgs := ClusterRoles().ValidName("system:node", false); len(msgs) != 0 {
		t.Errorf("colons refused in RBAC names: %v", msgs)
	}
}

func TestBindings(t *testing.T) {
	b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "rb", Namespace: "default"},
		RoleRef:  rbacv1.RoleRef{Kind: "Role", Name: "r"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "jane"}, {Kind: "ServiceAccount", Name: "default", Namespace: "default"}, {Kind: "Group", Name: "devs"}}}
	r := RoleBindings()
	r.Strategy.Default(b)
	if errs := r.Strategy.Validate(context.Background(), b); len(errs) != 0 {
		t.Fatalf("refused: %v", errs)
	}
	if b.RoleRef.APIGroup != group || b.Subjects[0].APIGroup != group || b.Subjects[1].APIGroup != "" {
		t.Errorf("defaults %+v", b)
	}
	cells, _ := r.Table.Row(b)
	if !reflect.DeepEqual(cells[3:], []interface{}{"jane", "devs", "default/default"}) || cells[1] != "Role/r" {
		t.Errorf("cells %v", cells)
	}
	rebound := b.DeepCopy()
	rebound.RoleRef.Name = "other"
	if got := problems(r.Strategy.ValidateUpdate(context.Background(), rebound, b)); !reflect.DeepEqual(got, []string{"FieldValueInvalid roleRef"}) {
		t.Errorf("changing the role: %v", got)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "crb"}, RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "r"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "sa"}}}
	ClusterRoleBindings().Strategy.Default(crb)
	want := []string{"FieldValueNotSupported roleRef.kind", "FieldValueRequired subjects[0].namespace"}
	if got := problems(ClusterRoleBindings().Strategy.Validate(context.Background(), crb)); !reflect.DeepEqual(got, want) {
		t.Errorf("a cluster binding of a Role to a namespaceless account: %v, want %v", got, want)
	}
}
