package openapi

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Custom resources bring their own schemas (built from their CRDs); they are
// added to the v2 definitions and get one v3 document per group version.

// Invalidate makes the next request rebuild the documents (a CRD changed).
func (s *Service) Invalidate() {
	s.mu.Lock()
	s.docs = nil
	s.mu.Unlock()
}

// customResources returns the registry's custom resources with schemas.
func (s *Service) customResources() []*registry.Resource {
	var out []*registry.Resource
	for _, r := range s.cfg.Registry.All() {
		if r.Custom && r.OpenAPI != nil {
			out = append(out, r)
		}
	}
	return out
}

// customV2Definitions merges the v2 definitions of custom resources.
func customV2Definitions(rs []*registry.Resource) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, r := range rs {
		for name, d := range r.OpenAPI.V2Definitions {
			out[name] = d
		}
	}
	return out
}

// writeRawDefinitions writes ,"name":schema pairs in name order.
func writeRawDefinitions(w *docWriter, defs map[string]json.RawMessage, first bool) {
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		if i > 0 || !first {
			w.raw(",")
		}
		w.json(n)
		w.raw(":")
		w.bytes(defs[n])
	}
}

var builtinRef = regexp.MustCompile(`#/components/schemas/(io\.k8s\.[A-Za-z0-9_.\-]+)`)

// customV3Documents groups custom resources by their v3 document name.
func customV3Documents(rs []*registry.Resource) map[string][]*registry.Resource {
	out := map[string][]*registry.Resource{}
	for _, r := range rs {
		doc := "apis/" + r.Group + "/" + r.Version
		out[doc] = append(out[doc], r)
	}
	return out
}

// customV3Document writes the v3 document of custom resources of one group version.
func customV3Document(out io.Writer, rs []*registry.Resource, defs *definitions, version string) error {
	paths := map[string]json.RawMessage{}
	schemas := map[string]json.RawMessage{}
	roots := map[string]bool{}
	for _, r := range rs {
		for p, item := range r.OpenAPI.V3Paths {
			paths[p] = item
			for _, m := range builtinRef.FindAllSubmatch(item, -1) {
				roots[string(m[1])] = true
			}
		}
		for n, s := range r.OpenAPI.V3Schemas {
			schemas[n] = s
			for _, m := range builtinRef.FindAllSubmatch(s, -1) {
				roots[string(m[1])] = true
			}
		}
	}
	known := map[string]bool{}
	for n := range roots {
		if defs.byName[n] != nil && defs.byName[n].v3 != nil {
			known[n] = true
		}
	}
	names, _ := defs.closure(known)
	var usable []string
	for _, n := range names {
		if d := defs.byName[n]; d != nil && d.v3 != nil {
			usable = append(usable, n)
		}
	}
	w := &docWriter{w: out}
	w.raw(`{"openapi":"3.0.0","info":`)
	w.json(info(version))
	w.raw(`,"paths":{`)
	writeRawDefinitions(w, paths, true)
	w.raw(`},"components":{"schemas":{`)
	w.schemas(usable, defs, true)
	writeRawDefinitions(w, schemas, len(usable) == 0)
	w.raw(`},` + v3SecuritySchemes + `}}`)
	if w.err != nil {
		return fmt.Errorf("encode OpenAPI v3 document: %w", w.err)
	}
	return nil
}

var builtinRefV2 = regexp.MustCompile(`#/definitions/(io\.k8s\.[A-Za-z0-9_.\-]+)`)

// addCustomRoots adds the built-in schemas custom resources reference to roots.
func addCustomRoots(rs []*registry.Resource, roots map[string]bool, defs *definitions) {
	for _, r := range rs {
		for _, group := range []map[string]json.RawMessage{r.OpenAPI.V2Definitions, r.OpenAPI.V3Schemas, r.OpenAPI.V3Paths} {
			for _, b := range group {
				for _, re := range []*regexp.Regexp{builtinRefV2, builtinRef} {
					for _, m := range re.FindAllSubmatch(b, -1) {
						if defs.byName[string(m[1])] != nil {
							roots[string(m[1])] = true
						}
					}
				}
			}
		}
	}
}
