package apiserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/auth/authorizer/node"
	"github.com/minik8s/minik8s/pkg/auth/authorizer/rbac"
	"github.com/minik8s/minik8s/pkg/auth/authorizer/union"
	"github.com/minik8s/minik8s/pkg/auth/bootstrappolicy"
)

// benchTokens authenticates two callers: an administrator and a service
// account bound to edit-like rules in "default".
type benchTokens struct{}

func (benchTokens) AuthenticateToken(_ context.Context, token string) (*User, bool, error) {
	switch token {
	case "admin":
		return &User{Name: "system:admin", Groups: []string{auth.GroupMasters}}, true, nil
	case "sa":
		return &User{Name: "system:serviceaccount:default:app", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:default"}}, true, nil
	}
	return nil, false, nil
}

// benchAuthorizer is the server's Node,RBAC authorizer with the bootstrap
// policy and a thousand other users' bindings in the namespace.
func benchAuthorizer() authorizer.Interface {
	r := rbac.New()
	p := bootstrappolicy.Default()
	for i := range p.ClusterRoles {
		r.Update(&p.ClusterRoles[i])
	}
	for i := range p.ClusterRoleBindings {
		r.Update(&p.ClusterRoleBindings[i])
	}
	for i := 0; i < 1000; i++ {
		r.Update(&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "user-" + strconv.Itoa(i)},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:aggregate-to-view"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "user-" + strconv.Itoa(i)}}})
	}
	r.Update(&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "app"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:aggregate-to-view"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "app"}}})
	return union.New(authorizer.PrivilegedGroups{auth.GroupMasters}, node.New(node.NewGraph(), bootstrappolicy.NodeRules()), r)
}

// BenchmarkAuthorizationOfAGet serves a GET of a ConfigMap, as a client-go
// client would, without authorization, as system:masters and as a service
// account that RBAC allows through a RoleBinding: the difference is what
// authorization costs a request.
func BenchmarkAuthorizationOfAGet(b *testing.B) {
	ctx := context.Background()
	if err := testServer.Ensure(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bench"},
		Data: map[string]string{"a": "b"}}); err != nil {
		b.Fatal(err)
	}
	az := benchAuthorizer()
	for _, tc := range []struct {
		name  string
		az    Authorizer
		token string
	}{
		{"without authorization", allowAll{}, "admin"},
		{"as system:masters", az, "admin"},
		{"as a service account bound by RBAC", az, "sa"},
	} {
		cfg := testConfig
		cfg.Authorizer = tc.az
		cfg.TokenAuthenticators = []TokenAuthenticator{benchTokens{}}
		srv, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/v1/namespaces/default/configmaps/bench", nil)
			req.Header.Set("Accept", "application/vnd.kubernetes.protobuf")
			req.Header.Set("Authorization", "Bearer "+tc.token)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
