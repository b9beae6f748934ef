package export

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestKinds(t *testing.T) {
	scheme := runtime.NewScheme()
	corev1.AddToScheme(scheme)
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Group: "apps", Version: "v1"})
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Group: "meta.k8s.io", Version: "v1"})
	kinds := Kinds(scheme)
	cases := []struct {
		name, schema string
		want         []Kind
	}{
		{"a kind is listed under its model name", "io.k8s.api.core.v1.Pod", []Kind{{Kind: "Pod", Version: "v1"}}},
		{"a shared type lists every group version it is registered in, sorted, without meta.k8s.io",
			"io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent", []Kind{{Kind: "WatchEvent", Version: "v1"}, {Group: "apps", Kind: "WatchEvent", Version: "v1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := kinds[c.schema]
			if len(got) != len(c.want) {
				t.Fatalf("%v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("%v, want %v", got, c.want)
				}
			}
		})
	}
}
