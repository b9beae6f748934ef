package apiserver

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/storage"
)

var crdsOnce sync.Once

// startTestCRDs serves custom resources on the test server (which is not run
// through Serve).
func startTestCRDs() {
	crdsOnce.Do(func() { testServer.startCRDs(context.Background()) })
}

const testCRDJSON = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"widgets.test.example.com"},
"spec":{"group":"test.example.com","scope":"Namespaced",
 "names":{"plural":"widgets","kind":"Widget"},
 "versions":[{"name":"v1","served":true,"storage":true,
  "subresources":{"status":{}},
  "additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size"}],
  "schema":{"openAPIV3Schema":{"type":"object","properties":{
   "spec":{"type":"object","properties":{"size":{"type":"integer","minimum":1,"default":3},"color":{"type":"string"}}},
   "status":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}]}}`

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCustomResources(t *testing.T) {
	startTestCRDs()
	call(t, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", testCRDJSON).must(t, 201)
	base := "/apis/test.example.com/v1/namespaces/default/widgets"
	waitFor(t, "the widgets resource", func() bool { return call(t, "GET", base, nil).code == 200 })
	waitFor(t, "discovery", func() bool {
		return strings.Contains(string(call(t, "GET", "/apis/test.example.com/v1", nil).body), `"widgets"`)
	})

	// Unknown fields: Strict refuses, Warn warns and prunes; defaults applied.
	obj := `{"apiVersion":"test.example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"color":"red","bogus":1}}`
	st := call(t, "POST", base+"?fieldValidation=Strict", obj).status(t, 400, "BadRequest")
	if !strings.Contains(st.Message, `unknown field "spec.bogus"`) {
		t.Errorf("strict message = %q", st.Message)
	}
	r := call(t, "POST", base, obj).must(t, 201)
	if w := r.warnings(t); len(w) != 1 || w[0] != `unknown field "spec.bogus"` {
		t.Errorf("warnings = %v", w)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(r.body); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "bogus"); found {
		t.Errorf("not pruned: %v", u.Object)
	}
	if size, _, _ := unstructured.NestedInt64(u.Object, "spec", "size"); size != 3 || u.GetGeneration() != 1 {
		t.Errorf("size %d generation %d", size, u.GetGeneration())
	}

	// Schema validation: 422 with the field path.
	bad := `{"apiVersion":"test.example.com/v1","kind":"Widget","metadata":{"name":"w2"},"spec":{"size":0}}`
	st = call(t, "POST", base, bad).status(t, 422, "Invalid")
	if !strings.Contains(st.Message, "spec.size") {
		t.Errorf("invalid message = %q", st.Message)
	}

	// Patches: merge bumps the generation, strategic merge is unsupported.
	r = call(t, "PATCH", base+"/w1", `{"spec":{"size":5}}`, "Content-Type", "application/merge-patch+json").must(t, 200)
	u = &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(r.body); err != nil {
		t.Fatal(err)
	}
	if u.GetGeneration() != 2 {
		t.Errorf("generation after a spec patch = %d", u.GetGeneration())
	}
	call(t, "PATCH", base+"/w1", `{"spec":{"size":6}}`, "Content-Type", "application/strategic-merge-patch+json").must(t, 415)

	// Status only through the subresource.
	call(t, "PATCH", base+"/w1/status", `{"status":{"ready":true}}`, "Content-Type", "application/merge-patch+json").must(t, 200)
	r = call(t, "GET", base+"/w1", nil).must(t, 200)
	u = &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(r.body); err != nil {
		t.Fatal(err)
	}
	if ready, _, _ := unstructured.NestedBool(u.Object, "status", "ready"); !ready || u.GetGeneration() != 2 {
		t.Errorf("after status patch: %v", u.Object)
	}

	// Table with the printer columns.
	r = call(t, "GET", base, nil, "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").must(t, 200)
	if !strings.Contains(string(r.body), `"Size"`) || !strings.Contains(string(r.body), `["w1",5]`) {
		t.Errorf("table = %s", r.body)
	}
	// List items keep their kind.
	if body := string(call(t, "GET", base, nil).must(t, 200).body); !strings.Contains(body, `"items":[{"apiVersion":"test.example.com/v1","kind":"Widget"`) {
		t.Errorf("list = %s", body)
	}

	// Deleting the CRD deletes its objects and stops serving them.
	call(t, "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.example.com", nil).must(t, 200)
	waitFor(t, "the CRD to go", func() bool {
		return call(t, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.example.com", nil).code == 404
	})
	waitFor(t, "the widgets resource to go", func() bool { return call(t, "GET", base, nil).code == 404 })
	if keys, err := testServer.cfg.Store.RegisterDynamic(context.Background(), storageOptionsFor("test.example.com/widgets")); err == nil {
		defer testServer.cfg.Store.Unregister("test.example.com/widgets")
		list, err := keys.List(context.Background(), storageListAll())
		if err != nil || len(list.Items) != 0 {
			t.Errorf("objects left after the CRD went: %v %v", list, err)
		}
	}
}

func storageOptionsFor(prefix string) storage.ResourceOptions {
	return storage.ResourceOptions{KeyPrefix: prefix, Namespaced: true, NewFunc: func() runtime.Object { return &unstructured.Unstructured{} },
		StorageKind: schema.GroupVersionKind{Group: "test.example.com", Version: "v1", Kind: "Widget"}}
}

func storageListAll() storage.ListOptions { return storage.ListOptions{} }

func TestCustomResourceApplyUnknownFields(t *testing.T) {
	startTestCRDs()
	crd := strings.ReplaceAll(testCRDJSON, "widgets", "gizmos")
	crd = strings.ReplaceAll(crd, `"Widget"`, `"Gizmo"`)
	call(t, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).must(t, 201)
	defer call(t, "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.test.example.com", nil)
	base := "/apis/test.example.com/v1/namespaces/default/gizmos"
	waitFor(t, "the gizmos resource", func() bool { return call(t, "GET", base, nil).code == 200 })
	body := "apiVersion: test.example.com/v1\nkind: Gizmo\nmetadata:\n  name: g1\n  unknownMeta: x\nunknownField: y\nspec:\n  color: red\n"
	r := call(t, "PATCH", base+"/g1?fieldManager=m&fieldValidation=Strict", body, "Content-Type", "application/apply-patch+yaml").must(t, 400)
	for _, want := range []string{".unknownField: field not declared in schema", ".metadata.unknownMeta: field not declared in schema"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("apply error lacks %q: %s", want, r.body)
		}
	}
	r = call(t, "PATCH", base+"/g1?fieldManager=m", body, "Content-Type", "application/apply-patch+yaml").must(t, 201)
	if w := r.warnings(t); len(w) != 2 {
		t.Errorf("warnings = %v", w)
	}
}

// Requests to a deprecated version of a custom resource carry its warning;
// requests to the current version carry none.
func TestDeprecatedCustomResourceVersionWarns(t *testing.T) {
	startTestCRDs()
	crd := `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"doohickeys.test.example.com"},
"spec":{"group":"test.example.com","scope":"Namespaced","names":{"plural":"doohickeys","kind":"Doohickey"},
 "versions":[
  {"name":"v1beta1","served":true,"storage":false,"deprecated":true,"schema":{"openAPIV3Schema":{"type":"object"}}},
  {"name":"v1alpha1","served":true,"storage":false,"deprecated":true,"deprecationWarning":"v1alpha1 doohickeys are gone soon","schema":{"openAPIV3Schema":{"type":"object"}}},
  {"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object"}}}]}}`
	call(t, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).must(t, 201)
	for _, v := range []string{"v1", "v1beta1", "v1alpha1"} {
		waitFor(t, "doohickeys "+v, func() bool {
			return call(t, "GET", "/apis/test.example.com/"+v+"/namespaces/default/doohickeys", nil).code == 200
		})
	}
	cases := []struct{ version, want string }{
		{"v1beta1", "test.example.com/v1beta1 Doohickey is deprecated; use test.example.com/v1 Doohickey"},
		{"v1alpha1", "v1alpha1 doohickeys are gone soon"},
		{"v1", ""},
	}
	for _, c := range cases {
		base := "/apis/test.example.com/" + c.version + "/namespaces/default/doohickeys"
		obj := `{"apiVersion":"test.example.com/` + c.version + `","kind":"Doohickey","metadata":{"name":"g-` + c.version + `"}}`
		for _, r := range []reply{call(t, "GET", base, nil).must(t, 200), call(t, "POST", base, obj).must(t, 201)} {
			got := strings.Join(r.warnings(t), "|")
			if got != c.want {
				t.Errorf("%s: warnings %q, want %q", c.version, got, c.want)
			}
		}
	}
}
