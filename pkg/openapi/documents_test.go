package openapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"
	kubeproto "k8s.io/kube-openapi/pkg/util/proto"

	"github.com/minik8s/minik8s/pkg/registry"
)

// swagger fetches and decodes /openapi/v2 as JSON.
func swagger(t *testing.T, base string) map[string]interface{} {
	t.Helper()
	resp, body := get(t, base, "/openapi/v2")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi/v2: %d", resp.StatusCode)
	}
	var doc map[string]interface{}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// at walks decoded JSON by keys.
func at(v interface{}, keys ...string) interface{} {
	for _, k := range keys {
		m, ok := v.(map[string]interface{})
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func TestV2DefinitionsCarryKindsDescriptionsAndMergeKeys(t *testing.T) {
	_, _, srv := newTestService(t, configMaps(), pods())
	defs := at(swagger(t, srv.URL), "definitions")
	cases := []struct {
		name string
		got  interface{}
		want string
	}{
		{"a kind lists its group, version and kind", at(defs, "io.k8s.api.core.v1.ConfigMap", "x-kubernetes-group-version-kind"),
			`[{"group":"","kind":"ConfigMap","version":"v1"}]`},
		{"a list kind lists its own kind", at(defs, "io.k8s.api.core.v1.PodList", "x-kubernetes-group-version-kind"),
			`[{"group":"","kind":"PodList","version":"v1"}]`},
		{"a kind is described by its Go doc comment", at(defs, "io.k8s.api.core.v1.ConfigMap", "description"),
			`"ConfigMap holds configuration data for pods to consume."`},
		{"containers merge by name", at(defs, "io.k8s.api.core.v1.PodSpec", "properties", "containers", "x-kubernetes-patch-merge-key"), `"name"`},
		{"containers patch by merging", at(defs, "io.k8s.api.core.v1.PodSpec", "properties", "containers", "x-kubernetes-patch-strategy"), `"merge"`},
		{"containers are a list map", at(defs, "io.k8s.api.core.v1.PodSpec", "properties", "containers", "x-kubernetes-list-type"), `"map"`},
		{"containers are keyed by name", at(defs, "io.k8s.api.core.v1.PodSpec", "properties", "containers", "x-kubernetes-list-map-keys"), `["name"]`},
		{"a reference keeps its description beside it in v2", at(defs, "io.k8s.api.core.v1.Pod", "properties", "spec", "$ref"), `"#/definitions/io.k8s.api.core.v1.PodSpec"`},
		{"v2 has no defaults", at(defs, "io.k8s.api.core.v1.Pod", "properties", "spec", "default"), `null`},
		{"quantities are strings in v2", at(defs, "io.k8s.apimachinery.pkg.api.resource.Quantity", "type"), `"string"`},
		{"a type no served path uses is left out", at(defs, "io.k8s.api.apps.v1.Deployment"), `null`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := json.Marshal(c.got)
			if string(got) != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestPathsFollowUpstreamShapes(t *testing.T) {
	_, _, srv := newTestService(t, configMaps(), namespaces(), pods(), deployments())
	paths := at(swagger(t, srv.URL), "paths")
	cases := []struct{ path, method, operationID, action, kind string }{
		{"/api/v1/namespaces/{namespace}/pods", "get", "listCoreV1NamespacedPod", "list", "Pod"},
		{"/api/v1/namespaces/{namespace}/pods", "post", "createCoreV1NamespacedPod", "post", "Pod"},
		{"/api/v1/namespaces/{namespace}/pods", "delete", "deleteCoreV1CollectionNamespacedPod", "deletecollection", "Pod"},
		{"/api/v1/namespaces/{namespace}/pods/{name}", "get", "readCoreV1NamespacedPod", "get", "Pod"},
		{"/api/v1/namespaces/{namespace}/pods/{name}", "put", "replaceCoreV1NamespacedPod", "put", "Pod"},
		{"/api/v1/namespaces/{namespace}/pods/{name}", "patch", "patchCoreV1NamespacedPod", "patch", "Pod"},
		{"/api/v1/namespaces/{namespace}/pods/{name}", "delete", "deleteCoreV1NamespacedPod", "delete", "Pod"},
		{"/api/v1/namespaces/{namespace}/pods/{name}/status", "patch", "patchCoreV1NamespacedPodStatus", "patch", "Pod"},
		{"/api/v1/namespaces/{namespace}/pods/{name}/log", "get", "readCoreV1NamespacedPodLog", "get", "Pod"},
		{"/api/v1/namespaces/{namespace}/pods/{name}/binding", "post", "createCoreV1NamespacedPodBinding", "post", "Binding"},
		{"/api/v1/namespaces/{namespace}/pods/{name}/eviction", "post", "createCoreV1NamespacedPodEviction", "post", "Eviction"},
		{"/api/v1/namespaces/{namespace}/pods/{name}/exec", "post", "connectCoreV1PostNamespacedPodExec", "connect", "PodExecOptions"},
		{"/api/v1/namespaces/{namespace}/pods/{name}/proxy", "head", "connectCoreV1HeadNamespacedPodProxy", "connect", "PodProxyOptions"},
		{"/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}", "get", "connectCoreV1GetNamespacedPodProxyWithPath", "connect", "PodProxyOptions"},
		{"/api/v1/pods", "get", "listCoreV1PodForAllNamespaces", "list", "Pod"},
		{"/api/v1/watch/namespaces/{namespace}/pods", "get", "watchCoreV1NamespacedPodList", "watchlist", "Pod"},
		{"/api/v1/watch/namespaces/{namespace}/pods/{name}", "get", "watchCoreV1NamespacedPod", "watch", "Pod"},
		{"/api/v1/watch/pods", "get", "watchCoreV1PodListForAllNamespaces", "watchlist", "Pod"},
		{"/api/v1/namespaces", "get", "listCoreV1Namespace", "list", "Namespace"},
		{"/api/v1/namespaces/{name}/finalize", "put", "replaceCoreV1NamespaceFinalize", "put", "Namespace"},
		{"/api/v1/watch/namespaces/{name}", "get", "watchCoreV1Namespace", "watch", "Namespace"},
		{"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "get", "readAppsV1NamespacedDeploymentScale", "get", "Scale"},
		{"/apis/apps/v1/deployments", "get", "listAppsV1DeploymentForAllNamespaces", "list", "Deployment"},
		{"/apis/apps/v1/", "get", "getAppsV1APIResources", "", ""},
		{"/apis/apps/", "get", "getAppsAPIGroup", "", ""},
		{"/api/", "get", "getCoreAPIVersions", "", ""},
		{"/version/", "get", "getCodeVersion", "", ""},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			op := at(paths, c.path, c.method)
			if op == nil {
				t.Fatalf("no %s %s", c.method, c.path)
			}
			if got := at(op, "operationId"); got != c.operationID {
				t.Errorf("operationId %v, want %s", got, c.operationID)
			}
			if got, _ := at(op, "x-kubernetes-action").(string); got != c.action {
				t.Errorf("x-kubernetes-action %q, want %q", got, c.action)
			}
			if got, _ := at(op, "x-kubernetes-group-version-kind", "kind").(string); got != c.kind {
				t.Errorf("kind %q, want %q", got, c.kind)
			}
		})
	}
	t.Run("a namespace cannot be deleted as a collection, as the registry says", func(t *testing.T) {
		if op := at(paths, "/api/v1/namespaces", "delete"); op != nil {
			t.Errorf("DELETE /api/v1/namespaces is described: %v", op)
		}
	})
	t.Run("the parameters every operation takes are on the path", func(t *testing.T) {
		var names []string
		for _, p := range at(paths, "/api/v1/namespaces/{namespace}/pods/{name}", "parameters").([]interface{}) {
			p := p.(map[string]interface{})
			if ref, ok := p["$ref"].(string); ok {
				names = append(names, ref[strings.LastIndex(ref, "/")+1:strings.LastIndex(ref, "-")])
				continue
			}
			names = append(names, p["name"].(string))
		}
		sort.Strings(names)
		if strings.Join(names, ",") != "name,namespace,pretty" {
			t.Errorf("path parameters %v, want name, namespace, pretty", names)
		}
	})
}

// TestKubectlFindsServerSideFieldValidation runs kubectl's own check, which
// decides between server-side field validation and its client-side fallback.
func TestKubectlFindsServerSideFieldValidation(t *testing.T) {
	_, _, srv := newTestService(t, configMaps(), deployments())
	cfg := &rest.Config{Host: srv.URL}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	verifier := resource.NewQueryParamVerifierV3(dyn, disc.OpenAPIV3(), resource.QueryParamFieldValidation)
	for _, gvk := range []schema.GroupVersionKind{{Version: "v1", Kind: "ConfigMap"}, {Group: "apps", Version: "v1", Kind: "Deployment"}} {
		if err := verifier.HasSupport(gvk); err != nil {
			t.Errorf("%s: kubectl would fall back to client-side validation: %v", gvk, err)
		}
	}
	root := openapi3.NewRoot(disc.OpenAPIV3())
	gvs, err := root.GroupVersions()
	if err != nil {
		t.Fatal(err)
	}
	if len(gvs) != 2 {
		t.Errorf("kubectl sees group versions %v, want v1 and apps/v1", gvs)
	}
}

// TestKubectlReadsTheV2Models parses the protobuf document the way kubectl's
// explain and client-side validation do.
func TestKubectlReadsTheV2Models(t *testing.T) {
	_, _, srv := newTestService(t, configMaps(), deployments())
	_, body := get(t, srv.URL, "/openapi/v2", "Accept", mediaV2ProtoOldName)
	doc := &openapi_v2.Document{}
	if err := proto.Unmarshal(body, doc); err != nil {
		t.Fatal(err)
	}
	models, err := kubeproto.NewOpenAPIData(doc)
	if err != nil {
		t.Fatalf("kubectl's model parser rejects the document: %v", err)
	}
	strategy, ok := models.LookupModel("io.k8s.api.apps.v1.DeploymentSpec").(*kubeproto.Kind)
	if !ok {
		t.Fatal("no io.k8s.api.apps.v1.DeploymentSpec model")
	}
	if _, ok := strategy.Fields["strategy"]; !ok {
		t.Errorf("DeploymentSpec has no strategy field: %v", strategy.Keys())
	}
}

func TestResourcesAddedLaterAppear(t *testing.T) {
	_, reg, srv := newTestService(t, configMaps())
	if at(swagger(t, srv.URL), "paths", "/apis/apps/v1/namespaces/{namespace}/deployments") != nil {
		t.Fatal("deployments described before they are registered")
	}
	if err := reg.Add([]*registry.Resource{deployments()}...); err != nil {
		t.Fatal(err)
	}
	if at(swagger(t, srv.URL), "paths", "/apis/apps/v1/namespaces/{namespace}/deployments") == nil {
		t.Error("deployments registered after the first request are not described")
	}
	_, body := get(t, srv.URL, "/openapi/v3")
	if !strings.Contains(string(body), `"apis/apps/v1"`) {
		t.Errorf("the v3 index does not list apps/v1: %s", body)
	}
}
