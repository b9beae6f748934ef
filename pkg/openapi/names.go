package openapi

import (
	"reflect"
	"strings"
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
