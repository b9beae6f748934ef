package openapi

import (
	"fmt"
	"io"
)

// The OpenAPI 3.0 shapes written for /openapi/v3/<group version>; field order
// follows upstream.
type (
	v3Param struct {
		Name        string        `json:"name"`
		In          string        `json:"in"`
		Description string        `json:"description,omitempty"`
		Required    bool          `json:"required,omitempty"`
		Schema      v3ParamSchema `json:"schema"`
	}
	v3ParamSchema struct {
		Type        string `json:"type"`
		UniqueItems bool   `json:"uniqueItems"`
	}
	v3Media struct {
		Schema schemaRef `json:"schema"`
	}
	v3Body struct {
		Content  map[string]v3Media `json:"content"`
		Required bool               `json:"required,omitempty"`
	}
	v3Response struct {
		Description string             `json:"description"`
		Content     map[string]v3Media `json:"content,omitempty"`
	}
	v3Kind struct {
		Group   string `json:"group"`
		Version string `json:"version"`
		Kind    string `json:"kind"`
	}
	v3Operation struct {
		Tags        []string              `json:"tags"`
		Description string                `json:"description"`
		OperationID string                `json:"operationId"`
		Parameters  []*v3Param            `json:"parameters,omitempty"`
		RequestBody *v3Body               `json:"requestBody,omitempty"`
		Responses   map[string]v3Response `json:"responses"`
		Action      string                `json:"x-kubernetes-action,omitempty"`
		Kind        *v3Kind               `json:"x-kubernetes-group-version-kind,omitempty"`
	}
	v3PathItem struct {
		Get        *v3Operation `json:"get,omitempty"`
		Put        *v3Operation `json:"put,omitempty"`
		Post       *v3Operation `json:"post,omitempty"`
		Delete     *v3Operation `json:"delete,omitempty"`
		Options    *v3Operation `json:"options,omitempty"`
		Head       *v3Operation `json:"head,omitempty"`
		Patch      *v3Operation `json:"patch,omitempty"`
		Parameters []*v3Param   `json:"parameters,omitempty"`
	}
)

const v3SecuritySchemes = `"securitySchemes":{"BearerToken":{"type":"apiKey","description":"Bearer Token authentication","name":"authorization","in":"header"}}`

// routesByDoc groups routes by the v3 document they belong to.
func routesByDoc(routes []*route) map[string][]*route {
	byDoc := map[string][]*route{}
	for _, r := range routes {
		byDoc[r.doc] = append(byDoc[r.doc], r)
	}
	return byDoc
}

// openAPI3Document writes one v3 document to out: the routes and the schemas
// they use.
func openAPI3Document(out io.Writer, routes []*route, defs *definitions, version string) error {
	paths := map[string]*v3PathItem{}
	roots := map[string]bool{}
	for _, r := range routes {
		item := &v3PathItem{Parameters: v3Params(r.params)}
		for _, op := range r.ops {
			v3op := v3OperationOf(op)
			switch op.method {
			case "get":
				item.Get = v3op
			case "put":
				item.Put = v3op
			case "post":
				item.Post = v3op
			case "delete":
				item.Delete = v3op
			case "options":
				item.Options = v3op
			case "head":
				item.Head = v3op
			case "patch":
				item.Patch = v3op
			}
		}
		paths[r.path] = item
		r.schemas(roots)
	}
	names, _ := defs.closure(roots)
	w := &docWriter{w: out}
	w.raw(`{"openapi":"3.0.0","info":`)
	w.json(info(version))
	w.raw(`,"paths":`)
	pathItems(w, paths)
	w.raw(`,"components":{"schemas":{`)
	w.schemas(names, defs, true)
	w.raw(`},` + v3SecuritySchemes + `}}`)
	if w.err != nil {
		return fmt.Errorf("encode OpenAPI v3 document: %w", w.err)
	}
	return nil
}

func v3OperationOf(op *operation) *v3Operation {
	out := &v3Operation{
		Tags: []string{op.tag}, Description: op.description, OperationID: op.id,
		Parameters: v3Params(op.params), Action: op.action, Responses: map[string]v3Response{},
	}
	if op.body != nil {
		out.RequestBody = &v3Body{Content: content(op.consumes, schemaRef{Ref: "#/components/schemas/" + op.body.schema}), Required: op.body.required}
	}
	for _, r := range op.responses {
		resp := v3Response{Description: r.description}
		switch {
		case r.schema != "":
			resp.Content = content(op.produces, schemaRef{Ref: "#/components/schemas/" + r.schema})
		case r.typ != "":
			resp.Content = content(op.produces, schemaRef{Type: r.typ})
		}
		out.Responses[r.code] = resp
	}
	if op.gvk != nil {
		out.Kind = &v3Kind{Group: op.gvk.Group, Version: op.gvk.Version, Kind: op.gvk.Kind}
	}
	return out
}

func content(media []string, s schemaRef) map[string]v3Media {
	out := make(map[string]v3Media, len(media))
	for _, m := range media {
		out[m] = v3Media{Schema: s}
	}
	return out
}

func v3Params(ps []*param) []*v3Param {
	var out []*v3Param
	for _, p := range ps {
		out = append(out, &v3Param{Name: p.name, In: p.in, Description: p.description, Required: p.required,
			Schema: v3ParamSchema{Type: p.typ, UniqueItems: true}})
	}
	return out
}
