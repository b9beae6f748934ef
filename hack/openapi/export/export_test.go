package export

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// fakeDefinitions stands in for openapi-gen's output: a kind that references a
// struct with a default, and a type with a separate v2 form.
func fakeDefinitions(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
	quantityV3 := common.OpenAPIDefinition{Schema: spec.Schema{SchemaProps: spec.SchemaProps{
		Description: "Quantity", OneOf: common.GenerateOpenAPIV3OneOfSchema([]string{"string", "number"})}}}
	quantityV2 := common.OpenAPIDefinition{Schema: spec.Schema{SchemaProps: spec.SchemaProps{
		Description: "Quantity", Type: []string{"string"}, Format: "quantity"}}}
	return map[string]common.OpenAPIDefinition{
		"io.k8s.api.core.v1.Thing": {
			Schema: spec.Schema{SchemaProps: spec.SchemaProps{
				Description: "Thing is a test kind.",
				Type:        []string{"object"},
				Properties: map[string]spec.Schema{
					"spec": {SchemaProps: spec.SchemaProps{Description: "Spec of the thing.", Default: map[string]interface{}{}, Ref: ref("io.k8s.api.core.v1.ThingSpec")}},
					"size": {SchemaProps: spec.SchemaProps{Ref: ref("k8s.io/apimachinery/pkg/api/resource.Quantity")}},
				},
			}},
			Dependencies: []string{"io.k8s.api.core.v1.ThingSpec", "k8s.io/apimachinery/pkg/api/resource.Quantity"},
		},
		"io.k8s.api.core.v1.ThingSpec": {Schema: spec.Schema{SchemaProps: spec.SchemaProps{
			Type: []string{"object"},
			Properties: map[string]spec.Schema{
				"mode": {SchemaProps: spec.SchemaProps{Type: []string{"string"}, Default: "Auto"}},
			},
		}}},
		"k8s.io/apimachinery/pkg/api/resource.Quantity": common.EmbedOpenAPIDefinitionIntoV2Extension(quantityV3, quantityV2),
	}
}

func TestRecords(t *testing.T) {
	records, err := Records(fakeDefinitions, map[string][]Kind{"io.k8s.api.core.v1.Thing": {{Version: "v1", Kind: "Thing"}}})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Record{}
	for _, r := range records {
		byName[r.Name] = r
	}
	cases := []struct {
		name, schema string
		get          func(Record) json.RawMessage
		want         []string
		notWant      []string
	}{
		{"a v2 reference keeps its description beside it and loses its default", "io.k8s.api.core.v1.Thing", v2Of,
			[]string{`"spec":{"description":"Spec of the thing.","$ref":"#/definitions/io.k8s.api.core.v1.ThingSpec"}`}, []string{`"default"`}},
		{"a v3 reference with siblings is wrapped in allOf and keeps its default", "io.k8s.api.core.v1.Thing", v3Of,
			[]string{`"allOf":[{"$ref":"#/components/schemas/io.k8s.api.core.v1.ThingSpec"}]`, `"default":{}`}, nil},
		{"a bare v3 reference stays a plain reference", "io.k8s.api.core.v1.Thing", v3Of,
			[]string{`"size":{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"}`}, nil},
		{"scalar defaults are pruned from v2", "io.k8s.api.core.v1.ThingSpec", v2Of, nil, []string{`"default"`}},
		{"scalar defaults stay in v3", "io.k8s.api.core.v1.ThingSpec", v3Of, []string{`"default":"Auto"`}, nil},
		{"a type with a v2 variant serves it in v2", "io.k8s.apimachinery.pkg.api.resource.Quantity", v2Of,
			[]string{`"format":"quantity"`}, []string{"oneOf", "x-kubernetes-v2-schema"}},
		{"a type with a v2 variant serves oneOf in v3 without the embedded variant", "io.k8s.apimachinery.pkg.api.resource.Quantity", v3Of,
			[]string{`"oneOf":[{"type":"string"},{"type":"number"}]`}, []string{"x-kubernetes-v2-schema"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, ok := byName[c.schema]
			if !ok {
				t.Fatalf("no record %s", c.schema)
			}
			got := string(c.get(r))
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s: want %s in %s", c.schema, w, got)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(got, w) {
					t.Errorf("%s: do not want %s in %s", c.schema, w, got)
				}
			}
		})
	}
	if got := byName["io.k8s.api.core.v1.Thing"].Kinds; len(got) != 1 || got[0].Kind != "Thing" {
		t.Errorf("kinds = %v", got)
	}
	if got := byName["io.k8s.api.core.v1.Thing"].Refs; strings.Join(got, ",") != "io.k8s.api.core.v1.ThingSpec,io.k8s.apimachinery.pkg.api.resource.Quantity" {
		t.Errorf("refs = %v", got)
	}
}

func v2Of(r Record) json.RawMessage { return r.V2 }
func v3Of(r Record) json.RawMessage { return r.V3 }

func TestWriteFramesEveryRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "defs.bin.gz")
	records := []Record{
		{Name: "a", Refs: []string{"b"}, Kinds: []Kind{{Group: "g", Version: "v1", Kind: "A"}}, V2: json.RawMessage(`{}`), V3: json.RawMessage(`{"type":"object"}`)},
		{Name: "b", V2: json.RawMessage(`{}`), V3: json.RawMessage(`{}`)},
	}
	if err := Write(path, records); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want := Format + "\x02" +
		"\x01a" + "\x01" + "\x01b" + "\x01" + "\x01g\x02v1\x01A" +
		"\x01b" + "\x00" + "\x00" +
		"\x02{}" + "\x11{\"type\":\"object\"}" +
		"\x02{}" + "\x02{}"
	if string(data) != want {
		t.Errorf("framed data\n%q\nwant\n%q", data, want)
	}
}
