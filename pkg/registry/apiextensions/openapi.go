package apiextensions

import (
	"encoding/json"
	"fmt"
	"strings"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder"

	"github.com/minik8s/minik8s/pkg/registry"
)

// customOpenAPI builds the published OpenAPI v2 definitions and v3 document parts
// of one CRD version with upstream's builder. Definitions of built-in types
// (ObjectMeta, ListMeta, …) are left out: the server's documents have them.
func customOpenAPI(crd *apiextv1.CustomResourceDefinition, version string) (*registry.CustomOpenAPI, error) {
	out := &registry.CustomOpenAPI{V2Definitions: map[string]json.RawMessage{}, V3Schemas: map[string]json.RawMessage{}, V3Paths: map[string]json.RawMessage{}}
	sw, err := builder.BuildOpenAPIV2(crd, version, builder.Options{V2: true})
	if err != nil {
		return nil, fmt.Errorf("OpenAPI v2 of %s %s: %w", crd.Name, version, err)
	}
	for name, def := range sw.Definitions {
		if builtinDefinition(name) {
			continue
		}
		b, err := json.Marshal(def)
		if err != nil {
			return nil, fmt.Errorf("encode OpenAPI v2 definition %s: %w", name, err)
		}
		out.V2Definitions[name] = b
	}
	o3, err := builder.BuildOpenAPIV3(crd, version, builder.Options{V2: false})
	if err != nil {
		return nil, fmt.Errorf("OpenAPI v3 of %s %s: %w", crd.Name, version, err)
	}
	if o3.Components != nil {
		for name, s := range o3.Components.Schemas {
			if builtinDefinition(name) {
				continue
			}
			b, err := json.Marshal(s)
			if err != nil {
				return nil, fmt.Errorf("encode OpenAPI v3 schema %s: %w", name, err)
			}
			out.V3Schemas[name] = b
		}
	}
	if o3.Paths != nil {
		for p, item := range o3.Paths.Paths {
			b, err := json.Marshal(item)
			if err != nil {
				return nil, fmt.Errorf("encode OpenAPI v3 path %s: %w", p, err)
			}
			out.V3Paths[p] = b
		}
	}
	return out, nil
}

func builtinDefinition(name string) bool { return strings.HasPrefix(name, "io.k8s.") }
