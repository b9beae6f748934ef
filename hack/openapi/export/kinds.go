package export

import (
	"reflect"
	"sort"

	"k8s.io/apimachinery/pkg/runtime"
)

// Kind is an entry of a schema's x-kubernetes-group-version-kind list, with the
// keys in the order upstream writes them.
type Kind struct {
	Group   string `json:"group"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// unlistedGroups carry no served resources, only types shared for content
// negotiation; upstream does not list them on schemas.
var unlistedGroups = map[string]bool{"meta.k8s.io": true, "apidiscovery.k8s.io": true}

// Kinds maps schema names to every kind the scheme registers for their type,
// sorted as upstream sorts them. Computed here rather than in the server, where
// walking every registered type would page in megabytes of the binary.
func Kinds(scheme *runtime.Scheme) map[string][]Kind {
	out := map[string][]Kind{}
	for gvk, t := range scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || unlistedGroups[gvk.Group] {
			continue
		}
		name := modelName(t)
		out[name] = append(out[name], Kind{Group: gvk.Group, Kind: gvk.Kind, Version: gvk.Version})
	}
	for _, kinds := range out {
		sort.Slice(kinds, func(i, j int) bool {
			a, b := kinds[i], kinds[j]
			if a.Group != b.Group {
				return a.Group < b.Group
			}
			if a.Version != b.Version {
				return a.Version < b.Version
			}
			return a.Kind < b.Kind
		})
	}
	return out
}

type modelNamer interface{ OpenAPIModelName() string }

// modelName is the schema name of a Go type: its declared model name, or its
// package path reversed like the generator's names.
func modelName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n, ok := reflect.Zero(t).Interface().(modelNamer); ok {
		return n.OpenAPIModelName()
	}
	return Name(t.PkgPath() + "." + t.Name())
}
