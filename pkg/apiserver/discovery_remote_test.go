package apiserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/aggregator"
	"github.com/minik8s/minik8s/pkg/registry"
)

func wardleDiscovery() []aggregator.GroupVersion {
	return []aggregator.GroupVersion{{Group: "wardle.example.com", Version: "v1alpha1", GroupPriorityMinimum: 1000, VersionPriority: 15,
		Resources: []metav1.APIResource{
			{Name: "flunders", SingularName: "flunder", Namespaced: true, Kind: "Flunder", Verbs: []string{"get", "list"}},
			{Name: "flunders/status", Namespaced: true, Kind: "Flunder", Verbs: []string{"get", "update"}},
		}}}
}

func TestRemoteGroupVersionsAreListedInDiscovery(t *testing.T) {
	d := newDiscoveryDocs(registry.New())
	d.remote = wardleDiscovery

	rec := httptest.NewRecorder()
	d.serve(rec, httptest.NewRequest(http.MethodGet, "/apis", nil))
	if !strings.Contains(rec.Body.String(), `"groupVersion":"wardle.example.com/v1alpha1"`) {
		t.Fatalf("/apis = %s", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	d.serve(rec, httptest.NewRequest(http.MethodGet, "/apis/wardle.example.com", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"preferredVersion":{"groupVersion":"wardle.example.com/v1alpha1"`) {
		t.Fatalf("/apis/wardle.example.com = %d %s", rec.Code, rec.Body.String())
	}

	r := httptest.NewRequest(http.MethodGet, "/apis", nil)
	r.Header.Set("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
	rec = httptest.NewRecorder()
	d.serve(rec, r)
	var list apidiscoveryv2.APIGroupDiscoveryList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || len(list.Items[0].Versions) != 1 {
		t.Fatalf("aggregated = %s", rec.Body.String())
	}
	res := list.Items[0].Versions[0].Resources
	if len(res) != 1 || res[0].Resource != "flunders" || res[0].Scope != apidiscoveryv2.ScopeNamespace ||
		res[0].ResponseKind.Kind != "Flunder" || len(res[0].Subresources) != 1 || res[0].Subresources[0].Subresource != "status" {
		t.Fatalf("aggregated resources = %+v", res)
	}

	// Once the extension is gone (and the documents rebuilt), so is its group.
	d.remote = func() []aggregator.GroupVersion { return nil }
	d.invalidate()
	rec = httptest.NewRecorder()
	d.serve(rec, httptest.NewRequest(http.MethodGet, "/apis/wardle.example.com", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("after removal: %d %s", rec.Code, rec.Body.String())
	}
}
