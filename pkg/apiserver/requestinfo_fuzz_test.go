package apiserver

import (
	"net/http"
	"net/url"
	"testing"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	upstream "k8s.io/apiserver/pkg/endpoints/request"
)

// upstreamRequestInfo is kube-apiserver's own path parser, configured as the
// kube-apiserver configures it: the reference the fuzz target compares with.
var upstreamRequestInfo = &upstream.RequestInfoFactory{
	APIPrefixes:          sets.NewString("api", "apis"),
	GrouplessAPIPrefixes: sets.NewString("api"),
}

// FuzzRequestInfo parses arbitrary methods, paths and queries and requires what
// the authorizer sees of them (resource or path, verb, group, version,
// namespace, resource, name, subresource) to be what kube-apiserver's parser
// says, wherever that parser accepts the request.
func FuzzRequestInfo(f *testing.F) {
	for _, s := range []struct{ method, path, query string }{
		{"GET", "/api/v1/namespaces/default/pods/web-0", ""},
		{"GET", "/api/v1/namespaces/default/pods", "labelSelector=app%3Dweb&limit=5"},
		{"GET", "/api/v1/pods", "watch=true&resourceVersion=10"},
		{"GET", "/api/v1/pods", "watch=True"},
		{"GET", "/api/v1/pods", "watch=0"},
		{"GET", "/api/v1/pods", "watch="},
		{"GET", "/api/v1/watch/namespaces/default/pods", ""},
		{"GET", "/apis/apps/v1/watch/deployments", "limit=abc&watch=1"},
		{"GET", "/api/v1/namespaces/default/configmaps", "fieldSelector=metadata.name%3Dx"},
		{"GET", "/api/v1/namespaces/default/configmaps", "fieldSelector=metadata.name%3D..&limit=1"},
		{"GET", "/api/v1/namespaces/default/configmaps", "fieldSelector=metadata.name%3Dx&limit=nope"},
		{"POST", "/api/v1/namespaces/default/pods/p/eviction", ""},
		{"PUT", "/api/v1/namespaces/kube-system/finalize", ""},
		{"PUT", "/api/v1/namespaces/kube-system/status", ""},
		{"GET", "/api/v1/namespaces/kube-system", ""},
		{"DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterroles", ""},
		{"DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin", ""},
		{"PATCH", "/apis/apps/v1/namespaces/a/deployments/d/scale", ""},
		{"GET", "/api/v1/namespaces/a/pods/p/proxy/some/path", ""},
		{"GET", "/api/v1/nodes/n/proxy/metrics", ""},
		{"GET", "/api/v1/namespaces//pods", ""},
		{"GET", "//api//v1//pods//", ""},
		{"GET", "/apis/apps", ""},
		{"GET", "/apis", ""},
		{"GET", "/api/v1", ""},
		{"GET", "/healthz/etcd", ""},
		{"OPTIONS", "/api/v1/pods", ""},
		{"HEAD", "/api/v1/namespaces/a/secrets/s", ""},
	} {
		f.Add(s.method, s.path, s.query)
	}
	f.Fuzz(func(t *testing.T, method, path, rawQuery string) {
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: rawQuery}, Header: http.Header{}}
		ours := parseRequestInfo(r)
		attrs := requestAttributes(r, &ours, nil)
		want, err := upstreamRequestInfo.NewRequestInfo(r)
		if err != nil {
			return // upstream refuses the path itself (a 500 there); ours must only not panic
		}
		if len(want.Parts) > 0 && want.Resource == "" {
			// An empty segment where the resource goes: upstream calls it a resource
			// request for resource "", ours a path; both answer 404.
			return
		}
		if attrs.IsResource != want.IsResourceRequest {
			t.Fatalf("%s %s?%s: resource request %v, upstream %v", method, path, rawQuery, attrs.IsResource, want.IsResourceRequest)
		}
		if !want.IsResourceRequest {
			return
		}
		if want.Verb == "proxy" {
			return // the deprecated /proxy/ prefix: upstream serves nothing there either
		}
		type fields struct{ group, version, namespace, resource, subresource, name, verb string }
		got := fields{attrs.Group, attrs.Version, attrs.Namespace, attrs.Resource, attrs.Subresource, attrs.Name, attrs.Verb}
		exp := fields{want.APIGroup, want.APIVersion, want.Namespace, want.Resource, want.Subresource, want.Name, want.Verb}
		if (want.Verb == "list" || want.Verb == "watch") && !listOptionsDecode(r) {
			// Upstream drops the field selector's name when another list
			// parameter does not parse; the request then fails with 400 anyway.
			got.name, exp.name = "", ""
		}
		if got != exp {
			t.Fatalf("%s %s?%s:\n got %+v\nwant %+v", method, path, rawQuery, got, exp)
		}
	})
}

// listOptionsDecode reports whether upstream decodes the query as ListOptions.
func listOptionsDecode(r *http.Request) bool {
	opts := metainternalversion.ListOptions{}
	return metainternalversionscheme.ParameterCodec.DecodeParameters(r.URL.Query(), metav1.SchemeGroupVersion, &opts) == nil
}
