package apiserver

import (
	"net/http/httptest"
	"reflect"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func TestRequestAttributes(t *testing.T) {
	alice := &User{Name: "alice"}
	tests := []struct {
		name, method, url string
		want              Attributes
	}{
		{"a get names its object", "GET", "/api/v1/namespaces/ns/pods/p",
			Attributes{Verb: "get", IsResource: true, Version: "v1", Resource: "pods", Namespace: "ns", Name: "p"}},
		{"a list by metadata.name names the object, as upstream", "GET", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Dtls",
			Attributes{Verb: "list", IsResource: true, Version: "v1", Resource: "secrets", Namespace: "ns", Name: "tls", FieldSelector: "metadata.name=tls"}},
		{"a watch keeps its field selector for the node authorizer", "GET", "/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dn1",
			Attributes{Verb: "watch", IsResource: true, Version: "v1", Resource: "pods", FieldSelector: "spec.nodeName=n1"}},
		{"a non-resource path is authorized by the lower-case method", "POST", "/v1-minik8s/node-credentials",
			Attributes{Verb: "post", Path: "/v1-minik8s/node-credentials"}},
		{"a subresource is its own", "POST", "/api/v1/namespaces/ns/serviceaccounts/default/token",
			Attributes{Verb: "create", IsResource: true, Version: "v1", Resource: "serviceaccounts", Subresource: "token", Namespace: "ns", Name: "default"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.url, nil)
			info := parseRequestInfo(r)
			got := requestAttributes(r, &info, alice)
			tt.want.User = alice
			if tt.want.Path == "" {
				tt.want.Path = r.URL.Path
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestForbiddenReadsLikeUpstream(t *testing.T) {
	alice := &User{Name: "alice"}
	tests := []struct {
		attrs  Attributes
		reason string
		want   string
	}{
		{Attributes{User: alice, Verb: "list", IsResource: true, Resource: "pods", Namespace: "default"}, "",
			`pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"`},
		{Attributes{User: alice, Verb: "get", IsResource: true, Group: "apps", Resource: "deployments", Subresource: "scale", Name: "web"}, "",
			`deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments/scale" in API group "apps" at the cluster scope`},
		{Attributes{User: alice, Verb: "get", Path: "/metrics"}, "",
			`forbidden: User "alice" cannot get path "/metrics"`},
		{Attributes{User: alice, Verb: "get", IsResource: true, Resource: "secrets", Namespace: "ns", Name: "s"}, "no relationship found",
			`secrets "s" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "ns": no relationship found`},
	}
	for _, tt := range tests {
		err := forbidden(tt.attrs, tt.reason)
		if !apierrors.IsForbidden(err) || err.Error() != tt.want {
			t.Errorf("got  %v\nwant %s", err, tt.want)
		}
	}
}
