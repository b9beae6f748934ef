package openapi

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
)

// modelNamer is implemented by the k8s.io/api and apimachinery types: the name
// their schema is served under.
type modelNamer interface{ OpenAPIModelName() string }

// modelName is the schema name of a Go type, e.g. io.k8s.api.core.v1.Pod.
func modelName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n, ok := reflect.Zero(t).Interface().(modelNamer); ok {
		return n.OpenAPIModelName()
	}
	if n, ok := reflect.New(t).Interface().(modelNamer); ok {
		return n.OpenAPIModelName()
	}
	return restFriendlyPackage(t.PkgPath()) + "." + t.Name()
}

// modelNameOf is the schema name of an object's type.
func modelNameOf(obj interface{}) string { return modelName(reflect.TypeOf(obj)) }

// restFriendlyPackage turns k8s.io/api/core/v1 into io.k8s.api.core.v1, the form
// upstream uses for types without a declared model name.
func restFriendlyPackage(pkg string) string {
	parts := strings.Split(pkg, "/")
	host := strings.Split(parts[0], ".")
	for i, j := 0, len(host)-1; i < j; i, j = i+1, j-1 {
		host[i], host[j] = host[j], host[i]
	}
	return strings.Join(append([]string{strings.Join(host, ".")}, parts[1:]...), ".")
}

// unlistedKindGroups are scheme groups that carry no served resources, only shared types
// for content negotiation; upstream does not list them on schemas.
var unlistedKindGroups = map[string]bool{"meta.k8s.io": true, "apidiscovery.k8s.io": true}

// gvkJSON is an x-kubernetes-group-version-kind entry on a schema (keys in the
// order upstream writes them).
type gvkJSON struct {
	Group   string `json:"group"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// kindExtensions maps schema names to the encoded x-kubernetes-group-version-kind
// list of every kind the scheme registers for that type.
func kindExtensions(scheme *runtime.Scheme) map[string][]byte {
	byModel := map[string][]gvkJSON{}
	for gvk, t := range scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		if unlistedKindGroups[gvk.Group] {
			continue
		}
		name := modelName(t)
		byModel[name] = append(byModel[name], gvkJSON{Group: gvk.Group, Kind: gvk.Kind, Version: gvk.Version})
	}
	out := make(map[string][]byte, len(byModel))
	for name, gvks := range byModel {
		sort.Slice(gvks, func(i, j int) bool {
			a, b := gvks[i], gvks[j]
			if a.Group != b.Group {
				return a.Group < b.Group
			}
			if a.Version != b.Version {
				return a.Version < b.Version
			}
			return a.Kind < b.Kind
		})
		data, _ := json.Marshal(gvks)
		out[name] = data
	}
	return out
}

// withKinds appends the x-kubernetes-group-version-kind extension to an encoded
// schema object.
func withKinds(schemaJSON, kinds []byte) []byte {
	if len(kinds) == 0 {
		return schemaJSON
	}
	body := trimClosingBrace(schemaJSON)
	out := make([]byte, 0, len(schemaJSON)+len(kinds)+40)
	out = append(out, body...)
	if len(body) > 1 {
		out = append(out, ',')
	}
	out = append(out, `"x-kubernetes-group-version-kind":`...)
	out = append(out, kinds...)
	return append(out, '}')
}

// trimClosingBrace drops the closing brace of an encoded object.
func trimClosingBrace(obj []byte) []byte {
	i := len(obj) - 1
	for i >= 0 && obj[i] != '}' {
		i--
	}
	if i < 0 {
		return obj
	}
	return obj[:i]
}
