// Package apiextensions describes apiextensions.k8s.io/v1 CustomResourceDefinitions.
// Validation is upstream's (k8s.io/apiextensions-apiserver), run on the internal
// form of the object; the status the upstream controllers would write (names
// accepted, established, stored versions) is set here on every write.
package apiextensions

import (
	"context"
	"fmt"

	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextinstall "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/install"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// CleanupFinalizer holds a deleted CRD until its custom resources are gone.
const CleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io"

// internalScheme converts v1 objects to the internal form upstream validates.
var internalScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	apiextinstall.Install(s)
	return s
}()

// Resources returns every apiextensions.k8s.io/v1 resource.
func Resources() []*registry.Resource { return []*registry.Resource{CustomResourceDefinitions()} }

// CustomResourceDefinitions is apiextensions.k8s.io/v1 customresourcedefinitions.
func CustomResourceDefinitions() *registry.Resource {
	return &registry.Resource{
		Group: apiextv1.GroupName, Version: "v1", Name: "customresourcedefinitions", Kind: "CustomResourceDefinition",
		DeleteReturnsObject: true,
		SingularName:        "customresourcedefinition",
		ShortNames:          []string{"crd", "crds"},
		Categories:          []string{"api-extensions"},
		New:                 func() runtime.Object { return &apiextv1.CustomResourceDefinition{} },
		NewList:             func() runtime.Object { return &apiextv1.CustomResourceDefinitionList{} },
		KeyPrefix:           "apiextensions.k8s.io/customresourcedefinitions",
		Status:              true,
		Strategy:            strategy{},
	}
}

type strategy struct{}

var (
	_ registry.Strategy       = strategy{}
	_ registry.StatusStrategy = strategy{}
)

// Default implements registry.Strategy.
func (strategy) Default(obj runtime.Object) {
	if crd, ok := obj.(*apiextv1.CustomResourceDefinition); ok {
		apiextv1.SetObjectDefaults_CustomResourceDefinition(crd)
	}
}

// PrepareForCreate implements registry.Strategy.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	crd := obj.(*apiextv1.CustomResourceDefinition)
	crd.Status = apiextv1.CustomResourceDefinitionStatus{}
	crd.Generation = 1
	addStoredVersion(crd)
	if !hasString(crd.Finalizers, CleanupFinalizer) {
		crd.Finalizers = append(crd.Finalizers, CleanupFinalizer)
	}
	SetControllerStatus(crd)
}

// PrepareForUpdate implements registry.Strategy.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	crd, oldCRD := obj.(*apiextv1.CustomResourceDefinition), old.(*apiextv1.CustomResourceDefinition)
	crd.Status = *oldCRD.Status.DeepCopy()
	crd.Generation = oldCRD.Generation
	if !equality.Semantic.DeepEqual(crd.Spec, oldCRD.Spec) {
		crd.Generation++
	}
	addStoredVersion(crd)
	SetControllerStatus(crd)
}

// PrepareForStatusUpdate implements registry.StatusStrategy.
func (strategy) PrepareForStatusUpdate(_ context.Context, obj, old runtime.Object) {
	crd, oldCRD := obj.(*apiextv1.CustomResourceDefinition), old.(*apiextv1.CustomResourceDefinition)
	crd.Spec = *oldCRD.Spec.DeepCopy()
	crd.Labels, crd.Annotations = oldCRD.Labels, oldCRD.Annotations
	crd.Finalizers = oldCRD.Finalizers
	crd.Generation = oldCRD.Generation
}

// Validate implements registry.Strategy.
func (strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	in, err := toInternal(obj)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	return apiextvalidation.ValidateCustomResourceDefinition(ctx, in)
}

// ValidateUpdate implements registry.Strategy.
func (strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	in, err := toInternal(obj)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	oldIn, err := toInternal(old)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	return apiextvalidation.ValidateCustomResourceDefinitionUpdate(ctx, in, oldIn)
}

// ValidateStatusUpdate implements registry.StatusStrategy.
func (strategy) ValidateStatusUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	in, err := toInternal(obj)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	oldIn, err := toInternal(old)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	return apiextvalidation.ValidateUpdateCustomResourceDefinitionStatus(ctx, in, oldIn)
}

// toInternal converts a v1 CRD to the internal type upstream's validation takes.
func toInternal(obj runtime.Object) (*apiext.CustomResourceDefinition, error) {
	crd, ok := obj.(*apiextv1.CustomResourceDefinition)
	if !ok {
		return nil, fmt.Errorf("expected a CustomResourceDefinition, got %T", obj)
	}
	out := &apiext.CustomResourceDefinition{}
	if err := internalScheme.Convert(crd.DeepCopy(), out, nil); err != nil {
		return nil, fmt.Errorf("convert CustomResourceDefinition %q to internal: %w", crd.Name, err)
	}
	return out, nil
}

// ToInternal is toInternal for the apiserver (structural schemas are built from it).
func ToInternal(crd *apiextv1.CustomResourceDefinition) (*apiext.CustomResourceDefinition, error) {
	return toInternal(crd)
}

func addStoredVersion(crd *apiextv1.CustomResourceDefinition) {
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			if !hasString(crd.Status.StoredVersions, v.Name) {
				crd.Status.StoredVersions = append(crd.Status.StoredVersions, v.Name)
			}
			return
		}
	}
}

// SetControllerStatus records what upstream's naming and establishing controllers
// would: the names are accepted and the resource is served.
func SetControllerStatus(crd *apiextv1.CustomResourceDefinition) {
	crd.Status.AcceptedNames = *crd.Spec.Names.DeepCopy()
	if crd.Status.AcceptedNames.Singular == "" {
		crd.Status.AcceptedNames.Singular = lower(crd.Spec.Names.Kind)
	}
	setCondition(crd, apiextv1.CustomResourceDefinitionCondition{
		Type: apiextv1.NamesAccepted, Status: apiextv1.ConditionTrue, Reason: "NoConflicts", Message: "no conflicts found",
	})
	if crd.DeletionTimestamp == nil {
		setCondition(crd, apiextv1.CustomResourceDefinitionCondition{
			Type: apiextv1.Established, Status: apiextv1.ConditionTrue, Reason: "InitialNamesAccepted", Message: "the initial names have been accepted",
		})
	}
}

func setCondition(crd *apiextv1.CustomResourceDefinition, c apiextv1.CustomResourceDefinitionCondition) {
	for i := range crd.Status.Conditions {
		old := &crd.Status.Conditions[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status != c.Status {
			old.Status = c.Status
			old.LastTransitionTime = metav1.Now()
		}
		old.Reason, old.Message = c.Reason, c.Message
		return
	}
	c.LastTransitionTime = metav1.Now()
	crd.Status.Conditions = append(crd.Status.Conditions, c)
}

func hasString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
