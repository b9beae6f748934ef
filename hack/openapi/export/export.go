// Package export turns the Go definitions that kube-openapi's openapi-gen writes for
// k8s.io/api into the compact data pkg/openapi embeds: one record per schema, with the
// OpenAPI v2 form (defaults pruned, references beside siblings) and the v3 form
// (defaults kept, references with siblings wrapped in allOf), as upstream serves them.
package export

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"k8s.io/kube-openapi/pkg/builder3/util"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/schemamutation"
	kubeopenapiutil "k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Definitions is the signature of openapi-gen's GetOpenAPIDefinitions.
type Definitions func(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition

// Record is one schema as pkg/openapi reads it.
type Record struct {
	Name string `json:"name"`
	// Refs are the names of the schemas this one references directly.
	Refs []string `json:"refs,omitempty"`
	// Kinds are the kinds the scheme registers for the type, the schema's
	// x-kubernetes-group-version-kind.
	Kinds []Kind          `json:"kinds,omitempty"`
	V2    json.RawMessage `json:"v2"`
	V3    json.RawMessage `json:"v3"`
}

// Records converts every generated definition, sorted by name; kinds are the
// schemas' kinds (see Kinds).
func Records(defs Definitions, kinds map[string][]Kind) ([]Record, error) {
	v2 := defs(refTo("#/definitions/"))
	v3 := defs(refTo("#/components/schemas/"))
	out := make([]Record, 0, len(v2))
	for goName, d2 := range v2 {
		d3, ok := v3[goName]
		if !ok {
			return nil, fmt.Errorf("definition %s missing from the v3 pass", goName)
		}
		r := Record{Name: Name(goName)}
		r.Kinds = kinds[r.Name]
		for _, dep := range d2.Dependencies {
			r.Refs = append(r.Refs, Name(dep))
		}
		sort.Strings(r.Refs)
		var err error
		if r.V2, err = marshal(v2Schema(d2)); err != nil {
			return nil, fmt.Errorf("encode v2 schema of %s: %w", r.Name, err)
		}
		if r.V3, err = marshal(v3Schema(d3)); err != nil {
			return nil, fmt.Errorf("encode v3 schema of %s: %w", r.Name, err)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Format is the first line of the data file; pkg/openapi checks it.
const Format = "minik8s-openapi-definitions/2\n"

// Write stores the records gzip-compressed in a framing the server reads with a
// few lines of code (no JSON decoder to page in): after Format, a count, an
// index with per record its name, refs and kinds (group, version, kind), then
// per record its two encoded schemas, so that the server can skip the schemas
// no served resource uses. Each string is a uvarint length and its bytes.
func Write(path string, records []Record) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	w := &framer{w: zw}
	w.raw(Format)
	w.uvarint(len(records))
	for _, r := range records {
		w.str(r.Name)
		w.uvarint(len(r.Refs))
		for _, ref := range r.Refs {
			w.str(ref)
		}
		w.uvarint(len(r.Kinds))
		for _, k := range r.Kinds {
			w.str(k.Group)
			w.str(k.Version)
			w.str(k.Kind)
		}
	}
	for _, r := range records {
		w.str(string(r.V2))
		w.str(string(r.V3))
	}
	if w.err != nil {
		return fmt.Errorf("write %s: %w", path, w.err)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// framer writes uvarint-framed strings, keeping the first error.
type framer struct {
	w   io.Writer
	err error
}

func (f *framer) raw(s string) {
	if f.err == nil {
		_, f.err = io.WriteString(f.w, s)
	}
}

func (f *framer) uvarint(n int) {
	var b [binary.MaxVarintLen64]byte
	f.raw(string(b[:binary.PutUvarint(b[:], uint64(n))]))
}

func (f *framer) str(s string) {
	f.uvarint(len(s))
	f.raw(s)
}

// marshal encodes v compactly without escaping <, > and &, as upstream serves it.
func marshal(v interface{}) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Name is the schema name upstream serves for a definition key: model names such as
// io.k8s.api.core.v1.Pod stay, Go paths such as k8s.io/api/core/v1.Pod are reversed.
func Name(goName string) string {
	if !strings.Contains(goName, "/") {
		return goName
	}
	return kubeopenapiutil.ToRESTFriendlyName(goName)
}

func refTo(prefix string) common.ReferenceCallback {
	return func(name string) spec.Ref {
		return spec.MustCreateRef(prefix + common.EscapeJsonPointer(Name(name)))
	}
}

// v2Schema is what upstream's v2 builder keeps: the embedded v2 variant when a type
// has one (Quantity, IntOrString), and no defaults anywhere.
func v2Schema(d common.OpenAPIDefinition) *spec.Schema {
	s := &spec.Schema{VendorExtensible: d.Schema.VendorExtensible, SchemaProps: d.Schema.SchemaProps, SwaggerSchemaProps: d.Schema.SwaggerSchemaProps}
	if embedded, ok := d.Schema.Extensions[common.ExtensionV2Schema].(spec.Schema); ok {
		s = &embedded
	}
	return pruneDefaults(s)
}

// v3Schema drops the embedded v2 variant and wraps references that have siblings.
func v3Schema(d common.OpenAPIDefinition) *spec.Schema {
	s := &spec.Schema{VendorExtensible: d.Schema.VendorExtensible, SchemaProps: d.Schema.SchemaProps, SwaggerSchemaProps: d.Schema.SwaggerSchemaProps}
	if _, ok := s.Extensions[common.ExtensionV2Schema]; ok {
		ext := spec.Extensions{}
		for k, v := range s.Extensions {
			if k != common.ExtensionV2Schema {
				ext[k] = v
			}
		}
		if len(ext) == 0 {
			ext = nil
		}
		s.Extensions = ext
	}
	return util.WrapRefs(s)
}

func pruneDefaults(s *spec.Schema) *spec.Schema {
	w := schemamutation.Walker{
		SchemaCallback: func(s *spec.Schema) *spec.Schema {
			if s.Default == nil {
				return s
			}
			c := *s
			c.Default = nil
			return &c
		},
		RefCallback: schemamutation.RefCallbackNoop,
	}
	return w.WalkSchema(s)
}
