package apiextensions

import (
	"context"
	"strings"
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func testCRD() *apiextv1.CustomResourceDefinition {
	return &apiextv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "foos.example.com"},
		Spec: apiextv1.CustomResourceDefinitionSpec{
			Group: "example.com", Scope: apiextv1.NamespaceScoped,
			Names: apiextv1.CustomResourceDefinitionNames{Plural: "foos", Kind: "Foo"},
			Versions: []apiextv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Subresources: &apiextv1.CustomResourceSubresources{Status: &apiextv1.CustomResourceSubresourceStatus{}},
				Schema: &apiextv1.CustomResourceValidation{OpenAPIV3Schema: &apiextv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextv1.JSONSchemaProps{
						"spec": {Type: "object", Properties: map[string]apiextv1.JSONSchemaProps{
							"size":  {Type: "integer", Minimum: ptr(1.0), Default: &apiextv1.JSON{Raw: []byte("3")}},
							"color": {Type: "string"},
						}},
						"status": {Type: "object", XPreserveUnknownFields: boolPtr(true)},
					},
				}},
			}},
		},
	}
}

func ptr(f float64) *float64 { return &f }
func boolPtr(b bool) *bool   { return &b }

func TestCRDCreateSetsStatus(t *testing.T) {
	s := strategy{}
	crd := testCRD()
	s.Default(crd)
	if crd.Spec.Names.Singular != "foo" || crd.Spec.Names.ListKind != "FooList" {
		t.Fatalf("names not defaulted: %+v", crd.Spec.Names)
	}
	s.PrepareForCreate(context.Background(), crd)
	if errs := s.Validate(context.Background(), crd); len(errs) > 0 {
		t.Fatalf("valid CRD refused: %v", errs)
	}
	established, accepted := false, false
	for _, c := range crd.Status.Conditions {
		established = established || c.Type == apiextv1.Established && c.Status == apiextv1.ConditionTrue
		accepted = accepted || c.Type == apiextv1.NamesAccepted && c.Status == apiextv1.ConditionTrue
	}
	if !established || !accepted {
		t.Errorf("conditions = %+v", crd.Status.Conditions)
	}
	if len(crd.Status.StoredVersions) != 1 || crd.Status.StoredVersions[0] != "v1" || crd.Status.AcceptedNames.Plural != "foos" {
		t.Errorf("status = %+v", crd.Status)
	}
	if len(crd.Finalizers) != 1 || crd.Finalizers[0] != CleanupFinalizer {
		t.Errorf("finalizers = %v", crd.Finalizers)
	}
}

func TestCRDValidation(t *testing.T) {
	s := strategy{}
	for name, mutate := range map[string]func(*apiextv1.CustomResourceDefinition){
		"no schema": func(c *apiextv1.CustomResourceDefinition) { c.Spec.Versions[0].Schema = nil },
		"two storage": func(c *apiextv1.CustomResourceDefinition) {
			c.Spec.Versions = append(c.Spec.Versions, *c.Spec.Versions[0].DeepCopy())
			c.Spec.Versions[1].Name = "v2"
		},
		"no storage": func(c *apiextv1.CustomResourceDefinition) { c.Spec.Versions[0].Storage = false },
		"wrong name": func(c *apiextv1.CustomResourceDefinition) { c.Name = "bars.example.com" },
		"not structural": func(c *apiextv1.CustomResourceDefinition) {
			c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = apiextv1.JSONSchemaProps{}
		},
		"group without dots": func(c *apiextv1.CustomResourceDefinition) { c.Spec.Group = "example"; c.Name = "foos.example" },
	} {
		crd := testCRD()
		mutate(crd)
		s.Default(crd)
		s.PrepareForCreate(context.Background(), crd)
		if errs := s.Validate(context.Background(), crd); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCustomResourceStrategy(t *testing.T) {
	crd := testCRD()
	strategy{}.Default(crd)
	strategy{}.PrepareForCreate(context.Background(), crd)
	rs, err := CustomResources(crd)
	if err != nil || len(rs) != 1 {
		t.Fatalf("CustomResources = %v, %v", rs, err)
	}
	r := rs[0]
	if !r.Namespaced || r.Name != "foos" || r.KeyPrefix != "example.com/foos" || !r.Status {
		t.Fatalf("resource = %+v", r)
	}
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "example.com/v1", "kind": "Foo",
		"metadata": map[string]interface{}{"name": "a", "namespace": "default"},
		"spec":     map[string]interface{}{"color": "red", "bogus": int64(1)},
		"status":   map[string]interface{}{"x": "y"},
	}}
	unknown := r.Prune(u)
	if len(unknown) != 1 || unknown[0] != "spec.bogus" {
		t.Errorf("pruned %v", unknown)
	}
	r.Strategy.Default(u)
	if v, _, _ := unstructured.NestedInt64(u.Object, "spec", "size"); v != 3 {
		t.Errorf("size not defaulted: %v", u.Object)
	}
	r.Strategy.PrepareForCreate(context.Background(), u)
	if _, ok := u.Object["status"]; ok || u.GetGeneration() != 1 {
		t.Errorf("create kept status or no generation: %v", u.Object)
	}
	if errs := r.Strategy.Validate(context.Background(), u); len(errs) > 0 {
		t.Errorf("valid object refused: %v", errs)
	}
	bad := u.DeepCopy()
	_ = unstructured.SetNestedField(bad.Object, int64(0), "spec", "size")
	errs := r.Strategy.Validate(context.Background(), bad)
	if len(errs) != 1 || !strings.Contains(errs[0].Field, "spec.size") {
		t.Errorf("invalid size: %v", errs)
	}
	upd := u.DeepCopy()
	_ = unstructured.SetNestedField(upd.Object, "blue", "spec", "color")
	r.Strategy.PrepareForUpdate(context.Background(), upd, u)
	if upd.GetGeneration() != 2 {
		t.Errorf("generation after spec change = %d", upd.GetGeneration())
	}
	row, err := r.Table.Row(u)
	if err != nil || len(row) != 2 || row[0] != "a" {
		t.Errorf("row = %v, %v", row, err)
	}
}

func TestCustomResourceSelectableFields(t *testing.T) {
	crd := testCRD()
	crd.Spec.Versions[0].SelectableFields = []apiextv1.SelectableField{{JSONPath: ".spec.color"}, {JSONPath: ".spec.size"}}
	strategy{}.Default(crd)
	strategy{}.PrepareForCreate(context.Background(), crd)
	if errs := (strategy{}).Validate(context.Background(), crd); len(errs) > 0 {
		t.Fatalf("selectable fields refused: %v", errs)
	}
	rs, err := CustomResources(crd)
	if err != nil || rs[0].Fields == nil {
		t.Fatalf("CustomResources = %v, %v", rs, err)
	}
	u := &unstructured.Unstructured{Object: map[string]interface{}{"spec": map[string]interface{}{"color": "red", "size": int64(4)}}}
	got := rs[0].Fields(u)
	if got["spec.color"] != "red" || got["spec.size"] != "4" {
		t.Errorf("fields = %v", got)
	}
	if empty := rs[0].Fields(rs[0].New()); len(empty) != 2 {
		t.Errorf("fields of an empty object = %v", empty)
	}
}
