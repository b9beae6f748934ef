package apiextensions

import (
	"fmt"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/version"
)

// deprecationWarning is the warning requests to a deprecated version get: the
// CRD's own text, or upstream's default naming the version to move to, the
// newest served version that is not deprecated and ranks above this one.
func deprecationWarning(crd *apiextv1.CustomResourceDefinition, v apiextv1.CustomResourceDefinitionVersion, kind string) string {
	if v.DeprecationWarning != nil {
		return *v.DeprecationWarning
	}
	msg := fmt.Sprintf("%s/%s %s is deprecated", crd.Spec.Group, v.Name, kind)
	next := ""
	for _, o := range crd.Spec.Versions {
		if !o.Served || o.Deprecated || version.CompareKubeAwareVersionStrings(v.Name, o.Name) >= 0 {
			continue
		}
		if next == "" || version.CompareKubeAwareVersionStrings(o.Name, next) > 0 {
			next = o.Name
		}
	}
	if next != "" {
		msg += fmt.Sprintf("; use %s/%s %s", crd.Spec.Group, next, kind)
	}
	return msg
}
