package openapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// The swagger 2.0 shapes written for /openapi/v2; field order follows upstream.
type (
	v2Param struct {
		Ref         string     `json:"$ref,omitempty"`
		UniqueItems bool       `json:"uniqueItems,omitempty"`
		Type        string     `json:"type,omitempty"`
		Description string     `json:"description,omitempty"`
		Name        string     `json:"name,omitempty"`
		In          string     `json:"in,omitempty"`
		Required    bool       `json:"required,omitempty"`
		Schema      *schemaRef `json:"schema,omitempty"`
	}
	schemaRef struct {
		Ref  string `json:"$ref,omitempty"`
		Type string `json:"type,omitempty"`
	}
	v2Response struct {
		Description string     `json:"description"`
		Schema      *schemaRef `json:"schema,omitempty"`
	}
	v2Kind struct {
		Group   string `json:"group"`
		Kind    string `json:"kind"`
		Version string `json:"version"`
	}
	v2Operation struct {
		Description string                `json:"description"`
		Consumes    []string              `json:"consumes"`
		Produces    []string              `json:"produces"`
		Schemes     []string              `json:"schemes"`
		Tags        []string              `json:"tags"`
		OperationID string                `json:"operationId"`
		Parameters  []*v2Param            `json:"parameters,omitempty"`
		Responses   map[string]v2Response `json:"responses"`
		Action      string                `json:"x-kubernetes-action,omitempty"`
		Kind        *v2Kind               `json:"x-kubernetes-group-version-kind,omitempty"`
	}
	v2PathItem struct {
		Get        *v2Operation `json:"get,omitempty"`
		Put        *v2Operation `json:"put,omitempty"`
		Post       *v2Operation `json:"post,omitempty"`
		Delete     *v2Operation `json:"delete,omitempty"`
		Options    *v2Operation `json:"options,omitempty"`
		Head       *v2Operation `json:"head,omitempty"`
		Patch      *v2Operation `json:"patch,omitempty"`
		Parameters []*v2Param   `json:"parameters,omitempty"`
	}
)

var httpsOnly = []string{"https"}

// swaggerDocument writes the v2 document of the routes with the schemas they
// use to out.
func swaggerDocument(out io.Writer, routes []*route, defs *definitions, version string, extra map[string]json.RawMessage) error {
	paths := map[string]*v2PathItem{}
	roots := map[string]bool{}
	for _, r := range routes {
		item := &v2PathItem{Parameters: v2Params(r.params)}
		for _, op := range r.ops {
			v2op := v2OperationOf(op)
			switch op.method {
			case "get":
				item.Get = v2op
			case "put":
				item.Put = v2op
			case "post":
				item.Post = v2op
			case "delete":
				item.Delete = v2op
			case "options":
				item.Options = v2op
			case "head":
				item.Head = v2op
			case "patch":
				item.Patch = v2op
			}
		}
		paths[r.path] = item
		r.schemas(roots)
	}
	shared := shareParams(paths)
	names, _ := defs.closure(roots)

	w := &docWriter{w: out}
	w.raw(`{"swagger":"2.0","info":`)
	w.json(info(version))
	w.raw(`,"paths":`)
	pathItems(w, paths)
	w.raw(`,"definitions":{`)
	w.schemas(names, defs, false)
	writeRawDefinitions(w, extra, len(names) == 0)
	w.raw(`},"parameters":`)
	w.json(shared)
	w.raw(`,"securityDefinitions":{"BearerToken":{"description":"Bearer Token authentication","type":"apiKey","name":"authorization","in":"header"}},"security":[{"BearerToken":[]}]}`)
	if w.err != nil {
		return fmt.Errorf("encode OpenAPI v2 document: %w", w.err)
	}
	return nil
}

type infoJSON struct {
	Title   string `json:"title"`
	Version string `json:"version"`
}

func info(version string) infoJSON { return infoJSON{Title: "Kubernetes", Version: version} }

func v2OperationOf(op *operation) *v2Operation {
	out := &v2Operation{
		Description: op.description, Consumes: op.consumes, Produces: op.produces, Schemes: httpsOnly,
		Tags: []string{op.tag}, OperationID: op.id, Action: op.action, Responses: map[string]v2Response{},
	}
	params := op.params
	if op.body != nil {
		params = append([]*param{op.body}, params...)
		sortParams(params)
	}
	out.Parameters = v2Params(params)
	for _, r := range op.responses {
		resp := v2Response{Description: r.description}
		switch {
		case r.schema != "":
			resp.Schema = &schemaRef{Ref: "#/definitions/" + r.schema}
		case r.typ != "":
			resp.Schema = &schemaRef{Type: r.typ}
		}
		out.Responses[r.code] = resp
	}
	if op.gvk != nil {
		out.Kind = &v2Kind{Group: op.gvk.Group, Kind: op.gvk.Kind, Version: op.gvk.Version}
	}
	return out
}

func v2Params(ps []*param) []*v2Param {
	var out []*v2Param
	for _, p := range ps {
		if p.in == "body" {
			out = append(out, &v2Param{Name: p.name, In: p.in, Required: p.required, Schema: &schemaRef{Ref: "#/definitions/" + p.schema}})
			continue
		}
		out = append(out, &v2Param{UniqueItems: true, Type: p.typ, Description: p.description, Name: p.name, In: p.in, Required: p.required})
	}
	return out
}

// shareParams replaces the parameters many paths repeat by references to
// top-level ones, as upstream does to keep the document small. Parameters named
// after the kind, kind-specific bodies, and dryRun and fieldValidation (which
// kubectl looks for inline) stay inline.
func shareParams(paths map[string]*v2PathItem) map[string]*v2Param {
	shared := map[string]*v2Param{}
	nameByKey := map[string]string{}
	replace := func(ps []*v2Param) {
		for i, p := range ps {
			if !shareable(p) {
				continue
			}
			data, _ := json.Marshal(p)
			key := string(data)
			name, ok := nameByKey[key]
			if !ok {
				sum := sha256.Sum256(data)
				name = p.Name + "-" + base64.RawURLEncoding.EncodeToString(sum[:6])
				nameByKey[key] = name
				shared[name] = p
			}
			ps[i] = &v2Param{Ref: "#/parameters/" + name}
		}
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		item := paths[k]
		for _, op := range []*v2Operation{item.Get, item.Put, item.Post, item.Delete, item.Options, item.Head, item.Patch} {
			if op != nil {
				replace(op.Parameters)
			}
		}
		replace(item.Parameters)
	}
	return shared
}

func shareable(p *v2Param) bool {
	switch {
	case p.Name == "name" && (p.In == "path" || p.In == "query"):
		return false
	case p.In == "query" && (p.Name == "fieldValidation" || p.Name == "dryRun"):
		return false
	case p.In == "body" && p.Schema != nil && !strings.HasPrefix(p.Schema.Ref, "#/definitions/io.k8s.apimachinery"):
		return false
	}
	return true
}
