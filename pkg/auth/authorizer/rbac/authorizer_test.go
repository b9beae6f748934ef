package rbac

import (
	"context"
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

func clusterRole(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func role(ns, name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules}
}

func clusterBinding(name, roleName string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName}, Subjects: subjects}
}

func roleBinding(ns, name, kind, roleName string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: roleName}, Subjects: subjects}
}

func userSubject(n string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: n}
}
func groupSubject(n string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: n}
}
func saSubject(ns, n string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: n}
}

var (
	alice = &auth.User{Name: "alice", Groups: []string{"devs", auth.GroupAuthenticated}}
	bob   = &auth.User{Name: "bob", Groups: []string{auth.GroupAuthenticated}}
	robot = &auth.User{Name: "system:serviceaccount:team:robot", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:team", auth.GroupAuthenticated}}
)

// fixture is a small cluster policy the tests below decide against.
func fixture() *Authorizer {
	a := New()
	a.Update(clusterRole("reader", rule(l("get", "list", "watch"), l(""), l("pods", "configmaps"))))
	a.Update(clusterRole("discovery", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/api", "/api/*")}))
	a.Update(role("team", "secret-reader", rule(l("get"), l(""), l("secrets"))))
	a.Update(clusterBinding("devs-read", "reader", groupSubject("devs")))
	a.Update(clusterBinding("everyone-discovers", "discovery", groupSubject(auth.GroupAuthenticated)))
	a.Update(roleBinding("team", "bob-secrets", "Role", "secret-reader", userSubject("bob")))
	a.Update(roleBinding("team", "robot-reads", "ClusterRole", "reader", saSubject("", "robot")))
	a.Update(roleBinding("team", "ghost", "ClusterRole", "no-such-role", userSubject("bob")))
	return a
}

func TestAuthorize(t *testing.T) {
	a := fixture()
	tests := []struct {
		name       string
		user       *auth.User
		attrs      authorizer.Attributes
		want       authorizer.Decision
		wantReason string
	}{
		{"a group's ClusterRoleBinding grants everywhere", alice, res("list", "", "pods", "", "anywhere", ""), authorizer.Allow,
			`RBAC: allowed by ClusterRoleBinding "devs-read" of ClusterRole "reader" to Group "devs"`},
		{"a cluster role's rules stop at its verbs", alice, res("delete", "", "pods", "", "anywhere", "p"), authorizer.NoOpinion, ""},
		{"every authenticated user gets the discovery paths", bob, path("get", "/api/v1"), authorizer.Allow,
			`RBAC: allowed by ClusterRoleBinding "everyone-discovers" of ClusterRole "discovery" to Group "system:authenticated"`},
		{"a RoleBinding to a Role grants in its namespace", bob, res("get", "", "secrets", "", "team", "s"), authorizer.Allow,
			`RBAC: allowed by RoleBinding "bob-secrets/team" of Role "secret-reader" to User "bob"`},
		{"a RoleBinding grants nothing in another namespace", bob, res("get", "", "secrets", "", "other", "s"), authorizer.NoOpinion, ""},
		{"a RoleBinding grants nothing cluster-wide", bob, res("list", "", "secrets", "", "", ""), authorizer.NoOpinion, ""},
		{"a denial names the missing roles the user's bindings refer to", bob, res("list", "", "pods", "", "team", ""), authorizer.NoOpinion,
			`RBAC: clusterrole.rbac.authorization.k8s.io "no-such-role" not found`},
		{"a service account without namespace in a RoleBinding is in the binding's namespace", robot,
			res("watch", "", "configmaps", "", "team", ""), authorizer.Allow,
			`RBAC: allowed by RoleBinding "robot-reads/team" of ClusterRole "reader" to ServiceAccount "robot/team"`},
		{"a service account of another namespace does not match", &auth.User{Name: "system:serviceaccount:other:robot"},
			res("watch", "", "configmaps", "", "team", ""), authorizer.NoOpinion, ""},
		{"a request without a user is not allowed", nil, res("get", "", "pods", "", "team", "p"), authorizer.NoOpinion, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.attrs.User = tt.user
			tt.attrs.Explain = true
			d, reason, err := a.Authorize(context.Background(), tt.attrs)
			if err != nil || d != tt.want || reason != tt.wantReason {
				t.Errorf("got %v %q %v, want %v %q", d, reason, err, tt.want, tt.wantReason)
			}
		})
	}
}

func TestPolicyFollowsUpdatesAndDeletions(t *testing.T) {
	a := fixture()
	get := res("get", "", "secrets", "", "team", "s")
	get.User = alice
	if d, _, _ := a.Authorize(context.Background(), get); d != authorizer.NoOpinion {
		t.Fatal("alice reads secrets before any binding says so")
	}
	a.Update(roleBinding("team", "bob-secrets", "Role", "secret-reader", userSubject("bob"), userSubject("alice")))
	if d, _, _ := a.Authorize(context.Background(), get); d != authorizer.Allow {
		t.Fatal("a subject added to a binding is not allowed")
	}
	a.Update(roleBinding("team", "bob-secrets", "Role", "secret-reader", userSubject("bob")))
	if d, _, _ := a.Authorize(context.Background(), get); d != authorizer.NoOpinion {
		t.Fatal("a subject removed from a binding is still allowed")
	}
	a.Update(roleBinding("team", "bob-secrets", "Role", "secret-reader", userSubject("alice")))
	a.Delete(role("team", "secret-reader"))
	if d, reason, _ := a.Authorize(context.Background(), get); d != authorizer.NoOpinion || !strings.Contains(reason, `role.rbac.authorization.k8s.io "secret-reader" not found`) {
		t.Fatalf("a deleted role still grants: %v %q", d, reason)
	}
	a.Delete(roleBinding("team", "bob-secrets", "Role", "secret-reader"))
	a.Update(role("team", "secret-reader", rule(l("get"), l(""), l("secrets"))))
	if d, _, _ := a.Authorize(context.Background(), get); d != authorizer.NoOpinion {
		t.Fatal("a deleted binding still grants")
	}
	if len(a.p.namespaced["team"].byUser["alice"]) != 0 {
		t.Error("the index keeps a deleted binding")
	}
}

func TestRulesForListsEachBindingOnce(t *testing.T) {
	a := fixture()
	// alice is bound twice to reader: by name and through her group.
	a.Update(clusterBinding("alice-read", "reader", userSubject("alice"), groupSubject("devs")))
	rules, _, err := a.RulesFor(context.Background(), alice, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []rbacv1.PolicyRule{
		rule(l("get", "list", "watch"), l(""), l("pods", "configmaps")),
		rule(l("get", "list", "watch"), l(""), l("pods", "configmaps")),
		{Verbs: l("get"), NonResourceURLs: l("/api", "/api/*")},
	}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("rules %+v, want one per binding: %+v", rules, want)
	}
	rules, _, err = a.RulesFor(context.Background(), bob, "team")
	if err == nil || !strings.Contains(err.Error(), `"no-such-role" not found`) {
		t.Errorf("a missing role is not reported: %v", err)
	}
	if len(rules) != 2 {
		t.Errorf("bob's rules in team: %+v", rules)
	}
}

func BenchmarkAuthorizeThroughAGroupBinding(b *testing.B) {
	a := fixture()
	for i := 0; i < 1000; i++ {
		a.Update(roleBinding("team", "noise-"+itoa(i), "ClusterRole", "reader", userSubject("user-"+itoa(i))))
	}
	attrs := res("list", "", "configmaps", "", "team", "")
	attrs.User = robot
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if d, _, _ := a.Authorize(ctx, attrs); d != authorizer.Allow {
			b.Fatal("denied")
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
