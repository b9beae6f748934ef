package openapi

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
)

// definitionsGz holds one record per schema; hack/openapi/export writes it.
//
//go:embed definitions.json.gz
var definitionsGz []byte

// definition is one schema in its v2 and v3 forms.
type definition struct {
	Name string `json:"name"`
	// Refs are the schemas this one references directly.
	Refs []string        `json:"refs"`
	V2   json.RawMessage `json:"v2"`
	V3   json.RawMessage `json:"v3"`
}

// definitions are schemas by name, such as io.k8s.api.core.v1.Pod.
type definitions map[string]*definition

// loadDefinitions decodes the embedded schemas, one record at a time.
func loadDefinitions() (definitions, error) {
	zr, err := gzip.NewReader(bytes.NewReader(definitionsGz))
	if err != nil {
		return nil, fmt.Errorf("read embedded OpenAPI definitions: %w", err)
	}
	dec := json.NewDecoder(zr)
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("read embedded OpenAPI definitions: %w", err)
	}
	defs := definitions{}
	for dec.More() {
		d := &definition{}
		if err := dec.Decode(d); err != nil {
			return nil, fmt.Errorf("read embedded OpenAPI definitions: %w", err)
		}
		defs[d.Name] = d
	}
	return defs, nil
}

// closure returns the roots and every schema they reference, sorted, and the
// names it has no schema for.
func (defs definitions) closure(roots map[string]bool) (names, missing []string) {
	seen := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		d, ok := defs[name]
		if !ok {
			missing = append(missing, name)
			return
		}
		names = append(names, name)
		for _, r := range d.Refs {
			visit(r)
		}
	}
	for name := range roots {
		visit(name)
	}
	sort.Strings(names)
	sort.Strings(missing)
	return names, missing
}
