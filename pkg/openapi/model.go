package openapi

import (
	"sort"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// route is one path and its operations, in a form the v2 and v3 writers share.
type route struct {
	path string
	// doc is the v3 document the path belongs to, e.g. "api/v1" or "apis/apps".
	doc string
	ops []*operation
	// params are those every operation of the path takes; see hoistCommonParams.
	params []*param
}

// operation is one HTTP method on a path.
type operation struct {
	method      string // get, put, post, delete, options, head, patch
	id          string
	description string
	tag         string
	// action is x-kubernetes-action; empty on discovery operations.
	action string
	gvk    *schema.GroupVersionKind
	// consumes and produces are media types, in upstream's order.
	consumes  []string
	produces  []string
	params    []*param
	body      *param
	responses []response
}

// param is a query or path parameter, or the body (in "body", schema set).
type param struct {
	name, in, typ, description string
	required                   bool
	schema                     string // body: the schema it references
}

// response is one status code; schema names a schema, typ a primitive type.
type response struct {
	code        string
	description string
	schema      string
	typ         string
}

// hoistCommonParams moves the parameters that every operation of a path takes
// to the path, as upstream does, and sorts both lists by name.
func (r *route) hoistCommonParams() {
	type key struct{ name, in string }
	count := map[key]int{}
	for _, op := range r.ops {
		for _, p := range op.params {
			count[key{p.name, p.in}]++
		}
	}
	common := map[key]bool{}
	for k, n := range count {
		if n == len(r.ops) {
			common[k] = true
		}
	}
	for i, op := range r.ops {
		kept := op.params[:0:0]
		for _, p := range op.params {
			k := key{p.name, p.in}
			if !common[k] {
				kept = append(kept, p)
				continue
			}
			if i == 0 {
				r.params = append(r.params, p)
			}
		}
		op.params = kept
		sortParams(op.params)
	}
	sortParams(r.params)
}

func sortParams(ps []*param) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].name != ps[j].name {
			return ps[i].name < ps[j].name
		}
		return ps[i].in < ps[j].in
	})
}

// schemas returns every schema the route references.
func (r *route) schemas(into map[string]bool) {
	for _, op := range r.ops {
		if op.body != nil {
			into[op.body.schema] = true
		}
		for _, resp := range op.responses {
			if resp.schema != "" {
				into[resp.schema] = true
			}
		}
	}
}
