package openapi

import (
	"net/http/httptest"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Resources shaped like the ones minik8s serves, built here so the tests do not
// depend on the registry packages.
func configMaps() *registry.Resource {
	return &registry.Resource{Version: "v1", Name: "configmaps", Kind: "ConfigMap", Namespaced: true,
		New:      func() runtime.Object { return &corev1.ConfigMap{} },
		NewList:  func() runtime.Object { return &corev1.ConfigMapList{} },
		Strategy: &registry.Generic{}}
}

func namespaces() *registry.Resource {
	return &registry.Resource{Version: "v1", Name: "namespaces", Kind: "Namespace", Status: true,
		New:          func() runtime.Object { return &corev1.Namespace{} },
		NewList:      func() runtime.Object { return &corev1.NamespaceList{} },
		Verbs:        []string{"create", "delete", "get", "list", "patch", "update", "watch"},
		Subresources: []registry.Subresource{{Name: "finalize", Verbs: []string{"update"}}},
		Strategy:     &registry.Generic{}}
}

func pods() *registry.Resource {
	v1 := corev1.SchemeGroupVersion.WithKind
	return &registry.Resource{Version: "v1", Name: "pods", Kind: "Pod", Namespaced: true, Status: true,
		New:     func() runtime.Object { return &corev1.Pod{} },
		NewList: func() runtime.Object { return &corev1.PodList{} },
		Subresources: []registry.Subresource{
			{Name: "binding", Kind: v1("Binding"), Verbs: []string{"create"}},
			{Name: "eviction", Kind: policyv1.SchemeGroupVersion.WithKind("Eviction"), Verbs: []string{"create"}},
			{Name: "exec", Kind: v1("PodExecOptions"), Verbs: []string{"create", "get"}},
			{Name: "log", Verbs: []string{"get"}},
			{Name: "proxy", Kind: v1("PodProxyOptions"), Verbs: []string{"create", "delete", "get", "patch", "update"}},
		},
		Strategy: &registry.Generic{}}
}

func deployments() *registry.Resource {
	return &registry.Resource{Group: "apps", Version: "v1", Name: "deployments", Kind: "Deployment", Namespaced: true, Status: true,
		New:      func() runtime.Object { return &appsv1.Deployment{} },
		NewList:  func() runtime.Object { return &appsv1.DeploymentList{} },
		Scale:    &registry.ScaleSubresource{},
		Strategy: &registry.Generic{}}
}

// newTestService serves the OpenAPI documents of the given resources.
func newTestService(t *testing.T, resources ...*registry.Resource) (*Service, *registry.Registry, *httptest.Server) {
	t.Helper()
	reg := registry.New()
	if err := reg.Add(resources...); err != nil {
		t.Fatal(err)
	}
	svc, err := New(Config{Registry: reg, Version: "1.37"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return svc, reg, srv
}
