package apiextensions

import (
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

func TestDeprecationWarning(t *testing.T) {
	text := "gadgets v1alpha1 go away on Friday"
	served := func(name string, deprecated bool) apiextv1.CustomResourceDefinitionVersion {
		return apiextv1.CustomResourceDefinitionVersion{Name: name, Served: true, Deprecated: deprecated}
	}
	cases := []struct {
		name     string
		versions []apiextv1.CustomResourceDefinitionVersion
		version  int
		want     string
	}{
		{name: "a deprecated version names the newest served version that is not deprecated",
			versions: []apiextv1.CustomResourceDefinitionVersion{served("v1beta1", true), served("v1", false), served("v2beta1", false)},
			want:     "example.com/v1beta1 Gadget is deprecated; use example.com/v1 Gadget"},
		{name: "a version ranked below the deprecated one is not offered",
			versions: []apiextv1.CustomResourceDefinitionVersion{served("v1", true), served("v1beta1", false)},
			want:     "example.com/v1 Gadget is deprecated"},
		{name: "deprecated and unserved versions are not offered",
			versions: []apiextv1.CustomResourceDefinitionVersion{served("v1alpha1", true), served("v1beta1", true), {Name: "v1", Served: false}},
			want:     "example.com/v1alpha1 Gadget is deprecated"},
		{name: "the CRD's own text replaces the default",
			versions: []apiextv1.CustomResourceDefinitionVersion{{Name: "v1alpha1", Served: true, Deprecated: true, DeprecationWarning: &text}, served("v1", false)},
			want:     text},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			crd := &apiextv1.CustomResourceDefinition{Spec: apiextv1.CustomResourceDefinitionSpec{Group: "example.com", Versions: c.versions}}
			if got := deprecationWarning(crd, c.versions[c.version], "Gadget"); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
