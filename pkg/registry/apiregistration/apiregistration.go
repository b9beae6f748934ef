// Package apiregistration describes apiregistration.k8s.io/v1 APIServices: the
// registry of API group versions the server answers for. Each built-in group
// version has a "Local" APIService, as upstream's aggregator publishes them;
// one that names a Service is proxied to that extension API server
// (pkg/aggregator).
package apiregistration

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/minik8s/minik8s/pkg/registry"
)

const group = "apiregistration.k8s.io"

// Resources returns every apiregistration.k8s.io/v1 resource.
func Resources() []*registry.Resource { return []*registry.Resource{APIServices()} }

// APIServices is apiregistration.k8s.io/v1 apiservices.
func APIServices() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "apiservices", Kind: "APIService", SingularName: "apiservice",
		Categories: []string{"api-extensions"},
		New:        func() runtime.Object { return &apiregistrationv1.APIService{} },
		NewList:    func() runtime.Object { return &apiregistrationv1.APIServiceList{} },
		KeyPrefix:  "apiregistration.k8s.io/apiservices",
		Status:     true,
		// "v1." (the core group) is a valid name: any path segment is.
		ValidName: func(name string, _ bool) []string { return path.IsValidPathSegmentName(name) },
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList { return validate(obj.(*apiregistrationv1.APIService)) },
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Service", "string", "The reference to the service that hosts this API endpoint.", 0),
				registry.Col("Available", "string", "Whether this service is available.", 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				s := obj.(*apiregistrationv1.APIService)
				svc := "Local"
				if s.Spec.Service != nil {
					svc = s.Spec.Service.Namespace + "/" + s.Spec.Service.Name
				}
				avail := "Unknown"
				for _, c := range s.Status.Conditions {
					if c.Type == apiregistrationv1.Available {
						avail = string(c.Status)
						if c.Status != apiregistrationv1.ConditionTrue && c.Reason != "" {
							avail += " (" + c.Reason + ")"
						}
					}
				}
				return []interface{}{s.Name, svc, avail, registry.Age(s.CreationTimestamp)}
			},
		},
	}
}

// validate applies upstream's rules: the name is <version>.<group>, and the
// priorities are in range.
func validate(s *apiregistrationv1.APIService) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if want := s.Spec.Version + "." + s.Spec.Group; s.Name != want {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), s.Name, fmt.Sprintf("must be `spec.version+\".\"+spec.group`: %q", want)))
	}
	if s.Spec.Version == "" {
		errs = append(errs, field.Required(spec.Child("version"), ""))
	}
	if s.Spec.GroupPriorityMinimum <= 0 || s.Spec.GroupPriorityMinimum > 20000 {
		errs = append(errs, field.Invalid(spec.Child("groupPriorityMinimum"), s.Spec.GroupPriorityMinimum, "must be positive and less than 20000"))
	}
	if s.Spec.VersionPriority <= 0 || s.Spec.VersionPriority > 1000 {
		errs = append(errs, field.Invalid(spec.Child("versionPriority"), s.Spec.VersionPriority, "must be positive and less than 1000"))
	}
	if s.Spec.Service == nil && len(s.Spec.CABundle) > 0 {
		errs = append(errs, field.Invalid(spec.Child("caBundle"), "", "local APIServices may not have a caBundle"))
	}
	return errs
}

// Local returns the APIService that says this server answers for group/version.
func Local(group, version string, groupPriority, versionPriority int32) *apiregistrationv1.APIService {
	return &apiregistrationv1.APIService{
		ObjectMeta: metav1.ObjectMeta{Name: version + "." + group, Labels: map[string]string{"kube-aggregator.kubernetes.io/automanaged": "onstart"}},
		Spec: apiregistrationv1.APIServiceSpec{Group: group, Version: version,
			GroupPriorityMinimum: groupPriority, VersionPriority: versionPriority},
	}
}
