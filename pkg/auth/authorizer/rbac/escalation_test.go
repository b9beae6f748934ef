package rbac

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/auth"
)

// guardFixture: carol administers namespace "team" (she holds what admin
// holds there); dave may bind the "view" role and escalate the "custom" role.
func guardFixture() *Guard {
	a := New()
	a.Update(clusterRole("admin", rule(l("get", "list", "watch", "create", "update", "patch", "delete"), l("", "rbac.authorization.k8s.io"), l("pods", "configmaps", "roles", "rolebindings"))))
	a.Update(clusterRole("view", rule(l("get", "list"), l(""), l("pods", "configmaps"))))
	a.Update(clusterRole("secrets", rule(l("get"), l(""), l("secrets"))))
	a.Update(clusterRole("binder", rule(l("bind"), l("rbac.authorization.k8s.io"), l("clusterroles")), rbacv1.PolicyRule{
		Verbs: l("bind"), APIGroups: l("rbac.authorization.k8s.io"), Resources: l("clusterroles"), ResourceNames: l("view")}))
	a.Update(clusterRole("escalator", rbacv1.PolicyRule{Verbs: l("escalate"), APIGroups: l("rbac.authorization.k8s.io"),
		Resources: l("roles"), ResourceNames: l("custom")}))
	a.Update(roleBinding("team", "carol-admin", "ClusterRole", "admin", userSubject("carol")))
	a.Update(roleBinding("team", "dave-binds", "ClusterRole", "binder", userSubject("dave")))
	a.Update(roleBinding("team", "dave-escalates", "ClusterRole", "escalator", userSubject("dave")))
	return &Guard{Authorizer: a, RBAC: a}
}

var (
	carol = &auth.User{Name: "carol", Groups: []string{auth.GroupAuthenticated}}
	dave  = &auth.User{Name: "dave", Groups: []string{auth.GroupAuthenticated}}
	root  = &auth.User{Name: "root", Groups: []string{auth.GroupMasters, auth.GroupAuthenticated}}
)

func TestGuard(t *testing.T) {
	secretsRole := role("team", "custom", rule(l("get"), l(""), l("secrets")), rule(l("list"), l(""), l("secrets")))
	aggregated := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "agg"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"a": "b"}}}}}
	ownedBySomething := role("team", "pods", rule(l("get"), l(""), l("pods")))
	withOwner := ownedBySomething.DeepCopy()
	withOwner.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "x", UID: "u"}}
	tests := []struct {
		name        string
		user        *auth.User
		obj, old    runtime.Object
		requestName string
		wantErr     string
	}{
		{"a role with rules the writer holds may be created", carol, role("team", "pods", rule(l("get", "delete"), l(""), l("pods"))), nil, "", ""},
		{"a role with rules the writer lacks is refused with the missing rules, compacted", carol, secretsRole, nil, "",
			`roles.rbac.authorization.k8s.io "custom" is forbidden: user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}`},
		{"rules held in one namespace do not count in another", carol, role("elsewhere", "pods", rule(l("get"), l(""), l("pods"))), nil, "",
			`roles.rbac.authorization.k8s.io "pods" is forbidden: user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`},
		{"the escalate verb on the role lets a writer grant what it lacks", dave, secretsRole, secretsRole, "custom", ""},
		{"the escalate verb on one role does not cover another", dave, role("team", "other", rule(l("get"), l(""), l("secrets"))), nil, "",
			`roles.rbac.authorization.k8s.io "other" is forbidden: user "dave" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`},
		{"system:masters may grant anything", root, clusterRole("all", fullAuthority...), nil, "", ""},
		{"the server's own writes carry no user and pass", nil, clusterRole("all", fullAuthority...), nil, "", ""},
		{"an aggregation rule takes cluster-admin", carol, aggregated, nil, "",
			`clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule`},
		{"a change of owner references alone is not a grant", dave, withOwner, ownedBySomething, "pods", ""},
		{"binding a role whose rules the writer holds is allowed", carol, roleBinding("team", "b", "ClusterRole", "view", userSubject("erin")), nil, "", ""},
		{"binding a role whose rules the writer lacks is refused", carol, roleBinding("team", "b", "ClusterRole", "secrets", userSubject("erin")), nil, "",
			`rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`},
		{"the bind verb on the role lets a writer bind what it lacks", dave, roleBinding("team", "b", "ClusterRole", "view", userSubject("erin")), nil, "", ""},
		{"binding a missing role is refused with its name", carol, roleBinding("team", "b", "ClusterRole", "nope", userSubject("erin")), nil, "",
			`rolebindings.rbac.authorization.k8s.io "b" is forbidden: clusterrole.rbac.authorization.k8s.io "nope" not found`},
		{"a cluster-wide binding needs the rules cluster-wide", carol, clusterBinding("b", "view", userSubject("erin")), nil, "",
			`clusterrolebindings.rbac.authorization.k8s.io "b" is forbidden: user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["configmaps"], Verbs:["get" "list"]}
{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}`},
	}
	g := guardFixture()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := g.Admit(context.Background(), tt.user, tt.obj, tt.old, tt.requestName)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("got\n%s\nwant\n%s", got, tt.wantErr)
			}
		})
	}
}
