package openapi

import (
	"reflect"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The descriptions of the parameters that no options type documents, worded as
// upstream's API installer words them.
const (
	prettyDescription    = "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."
	namespaceDescription = "object name and auth scope, such as for teams and projects"
	pathDescription      = "path to the resource"
)

var (
	prettyParam    = &param{name: "pretty", in: "query", typ: "string", description: prettyDescription}
	namespaceParam = &param{name: "namespace", in: "path", typ: "string", required: true, description: namespaceDescription}
	pathParam      = &param{name: "path", in: "path", typ: "string", required: true, description: pathDescription}
)

// nameParam is the {name} path parameter of a kind.
func nameParam(kind string) *param {
	return &param{name: "name", in: "path", typ: "string", required: true, description: "name of the " + kind}
}

// bodyParam references the schema of a request body.
func bodyParam(schema string, required bool) *param {
	return &param{name: "body", in: "body", schema: schema, required: required}
}

// optionParams are the query parameters of the standard option types, computed
// once per build.
type optionParams struct {
	list, listNoWatch, create, update, patch, delete []*param
}

func newOptionParams() *optionParams {
	return &optionParams{
		list:        queryParams(metav1.ListOptions{}),
		listNoWatch: queryParams(metav1.ListOptions{}, "watch", "allowWatchBookmarks"),
		create:      queryParams(metav1.CreateOptions{}),
		update:      queryParams(metav1.UpdateOptions{}),
		patch:       queryParams(metav1.PatchOptions{}),
		delete:      queryParams(metav1.DeleteOptions{}),
	}
}

// swaggerDocumented is implemented by the API types: field descriptions by JSON name.
type swaggerDocumented interface{ SwaggerDoc() map[string]string }

// queryParams lists the query parameters an options type accepts, the way
// upstream's API installer derives them: every field of a scalar type or a list
// of scalars, by JSON name, described by the type's SwaggerDoc; embedded and
// nested structs are not parameters.
func queryParams(options interface{}, exclude ...string) []*param {
	v := reflect.ValueOf(options)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	t := v.Type()
	if t.Kind() != reflect.Struct {
		return nil
	}
	var docs map[string]string
	if d, ok := v.Interface().(swaggerDocumented); ok {
		docs = d.SwaggerDoc()
	}
	skip := map[string]bool{}
	for _, e := range exclude {
		skip[e] = true
	}
	var out []*param
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.SplitN(f.Tag.Get("json"), ",", 2)[0]
		if name == "" || name == "-" || skip[name] {
			continue
		}
		typ := queryType(f.Type)
		if typ == "" {
			continue
		}
		out = append(out, &param{name: name, in: "query", typ: typ, description: docs[name]})
	}
	return out
}

// queryType is the OpenAPI type of a query parameter of Go type t, or "" when t
// cannot be one.
func queryType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice {
		t = t.Elem()
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.String, reflect.Int32:
		default:
			return ""
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	}
	return ""
}

// concat returns the parameters of all lists as one new list.
func concat(lists ...[]*param) []*param {
	var out []*param
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
