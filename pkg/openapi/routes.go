package openapi

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Media types of request and response bodies, in the order upstream lists them.
var (
	mediaObject  = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
	mediaStream  = append(append([]string{}, mediaObject...), "application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
	mediaAny     = []string{"*/*"}
	mediaPatch   = []string{"application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"}
	mediaLog     = append([]string{"text/plain"}, mediaObject...)
	mediaVersion = []string{"application/json"}
)

// Schemas every resource's operations use.
var (
	statusSchema        = modelNameOf(metav1.Status{})
	deleteOptionsSchema = modelNameOf(metav1.DeleteOptions{})
	patchSchema         = modelNameOf(metav1.Patch{})
	watchEventSchema    = modelNameOf(metav1.WatchEvent{})
)

// deleteReturnsObject lists the resources whose DELETE answers with the deleted
// object rather than a Status in upstream's API description.
var deleteReturnsObject = map[schema.GroupResource]bool{
	{Resource: "pods"}:                                             true,
	{Resource: "services"}:                                         true,
	{Resource: "serviceaccounts"}:                                  true,
	{Resource: "persistentvolumes"}:                                true,
	{Resource: "persistentvolumeclaims"}:                           true,
	{Resource: "podtemplates"}:                                     true,
	{Resource: "resourcequotas"}:                                   true,
	{Group: "storage.k8s.io", Resource: "storageclasses"}:          true,
	{Group: "storage.k8s.io", Resource: "csidrivers"}:              true,
	{Group: "storage.k8s.io", Resource: "csinodes"}:                true,
	{Group: "storage.k8s.io", Resource: "volumeattachments"}:       true,
	{Group: "storage.k8s.io", Resource: "volumeattributesclasses"}: true,
	{Group: "resource.k8s.io", Resource: "deviceclasses"}:          true,
	{Group: "resource.k8s.io", Resource: "resourceclaims"}:         true,
	{Group: "resource.k8s.io", Resource: "resourceclaimtemplates"}: true,
	{Group: "resource.k8s.io", Resource: "resourceslices"}:         true,
}

// resourceRoutes builds the paths of one resource.
type resourceRoutes struct {
	res     *registry.Resource
	scheme  *runtime.Scheme
	opts    *optionParams
	schemas *schemaNamer

	prefix string // "/api/v1" or "/apis/apps/v1"
	doc    string
	tag    string // "core_v1"
	idGV   string // "CoreV1"
	kind   string
	object string // schema of the kind
	list   string // schema of its list
	gvk    schema.GroupVersionKind
}

func newResourceRoutes(res *registry.Resource, scheme *runtime.Scheme, opts *optionParams, schemas *schemaNamer) *resourceRoutes {
	prefix := "/apis/" + res.Group + "/" + res.Version
	if res.Group == "" {
		prefix = "/api/" + res.Version
	}
	group := groupTag(res.Group)
	b := &resourceRoutes{
		res: res, scheme: scheme, opts: opts, schemas: schemas,
		prefix: prefix, doc: strings.TrimPrefix(prefix, "/"),
		tag:  group + "_" + res.Version,
		idGV: upperFirst(group) + upperFirst(res.Version),
		kind: res.Kind, gvk: res.GroupVersionKind(),
		object: schemas.ofKind(res.GroupVersionKind(), res.New),
	}
	if res.NewList != nil {
		b.list = schemas.ofKind(res.GroupVersionKind().GroupVersion().WithKind(res.Kind+"List"), res.NewList)
	}
	return b
}

// schemaNamer finds the schema of a kind in the kinds the embedded data lists,
// and only failing that by its Go type: reflecting on types pages in more of
// the binary than the documents are worth.
type schemaNamer struct {
	defs   *definitions
	scheme *runtime.Scheme
}

func (n *schemaNamer) ofKind(gvk schema.GroupVersionKind, newObject func() runtime.Object) string {
	if name, ok := n.defs.byKind[gvk]; ok {
		return name
	}
	if newObject != nil {
		return modelNameOf(newObject())
	}
	if obj, err := n.scheme.New(gvk); err == nil {
		return modelNameOf(obj)
	}
	return ""
}

// groupTag is upstream's tag for a group: core, apps, rbacAuthorization, …
func groupTag(group string) string {
	if group == "" {
		return "core"
	}
	parts := strings.Split(strings.TrimSuffix(group, ".k8s.io"), ".")
	for i := 1; i < len(parts); i++ {
		parts[i] = upperFirst(parts[i])
	}
	return strings.Join(parts, "")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// article is what upstream puts before a kind: "a Pod", "an Event", "Endpoints".
func article(kind string) string {
	switch {
	case kind == "" || strings.HasSuffix(kind, "s") && !strings.HasSuffix(kind, "ss"):
		return ""
	case strings.ContainsRune("AEIOU", rune(kind[0])):
		return "an "
	}
	return "a "
}

// routes returns every path of the resource: the collection and the object,
// their subresources, the list across namespaces and the legacy watch paths.
func (b *resourceRoutes) routes() []*route {
	res := b.res
	scope, itemPath, collPath := "", b.prefix+"/"+res.Name+"/{name}", b.prefix+"/"+res.Name
	var scopeParams []*param
	if res.Namespaced {
		scope = "Namespaced"
		collPath = b.prefix + "/namespaces/{namespace}/" + res.Name
		itemPath = collPath + "/{name}"
		scopeParams = []*param{namespaceParam}
	}
	var out []*route
	add := func(path string, ops ...*operation) {
		var kept []*operation
		for _, op := range ops {
			if op != nil {
				kept = append(kept, op)
			}
		}
		if len(kept) > 0 {
			out = append(out, &route{path: path, doc: b.doc, ops: kept})
		}
	}

	add(collPath, b.listOp(scope, "", scopeParams), b.createOp(scope, scopeParams), b.deleteCollectionOp(scope, scopeParams))
	itemParams := append([]*param{nameParam(b.kind)}, scopeParams...)
	add(itemPath, b.readOp(scope, itemParams), b.replaceOp(scope, itemParams), b.deleteOp(scope, itemParams), b.patchOp(scope, itemParams))
	for _, sub := range res.AllSubresources() {
		out = append(out, b.subresourceRoutes(sub, itemPath, scope, scopeParams)...)
	}
	if res.Namespaced {
		add(b.prefix+"/"+res.Name, b.listOp("", "ForAllNamespaces", nil))
	}
	if res.Supports("watch") {
		watchPrefix := b.prefix + "/watch"
		if res.Namespaced {
			add(watchPrefix+"/namespaces/{namespace}/"+res.Name, b.watchOp(scope, "List", "watchlist", scopeParams))
			add(watchPrefix+"/namespaces/{namespace}/"+res.Name+"/{name}", b.watchOp(scope, "", "watch", itemParams))
			add(watchPrefix+"/"+res.Name, b.watchOp("", "ListForAllNamespaces", "watchlist", nil))
		} else {
			add(watchPrefix+"/"+res.Name, b.watchOp("", "List", "watchlist", nil))
			add(watchPrefix+"/"+res.Name+"/{name}", b.watchOp("", "", "watch", itemParams))
		}
	}
	return out
}

// op starts an operation of the resource's kind.
func (b *resourceRoutes) op(method, verb, scope, suffix, action, description string, gvk schema.GroupVersionKind) *operation {
	return &operation{
		method: method, id: verb + b.idGV + scope + b.kind + suffix, description: description,
		tag: b.tag, action: action, gvk: &gvk, consumes: mediaAny, produces: mediaObject,
	}
}

// The responses of operations, as upstream words them.
func ok(schema string) response {
	return response{code: "200", description: "OK", schema: schema}
}

func created(schema string) response {
	return response{code: "201", description: "Created", schema: schema}
}

func accepted(schema string) response {
	return response{code: "202", description: "Accepted", schema: schema}
}

var unauthorized = response{code: "401", description: "Unauthorized"}

func (b *resourceRoutes) listOp(scope, suffix string, params []*param) *operation {
	if !b.res.Supports("list") || b.list == "" {
		return nil
	}
	desc := "list objects of kind " + b.kind
	if b.res.Supports("watch") {
		desc = "list or watch objects of kind " + b.kind
	}
	op := b.op("get", "list", scope, suffix, "list", desc, b.gvk)
	op.produces = mediaStream
	op.params = concat(params, b.opts.list, []*param{prettyParam})
	op.responses = []response{ok(b.list), unauthorized}
	return op
}

func (b *resourceRoutes) watchOp(scope, suffix, action string, params []*param) *operation {
	desc := "watch changes to an object of kind " + b.kind + ". deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."
	if action == "watchlist" {
		desc = "watch individual changes to a list of " + b.kind + ". deprecated: use the 'watch' parameter with a list operation instead."
	}
	op := b.op("get", "watch", scope, suffix, action, desc, b.gvk)
	op.produces = mediaStream
	op.params = concat(params, b.opts.list, []*param{prettyParam})
	op.responses = []response{ok(watchEventSchema), unauthorized}
	return op
}

func (b *resourceRoutes) createOp(scope string, params []*param) *operation {
	if !b.res.Supports("create") {
		return nil
	}
	op := b.op("post", "create", scope, "", "post", "create "+article(b.kind)+b.kind, b.gvk)
	op.body = bodyParam(b.object, true)
	op.params = concat(params, b.opts.create, []*param{prettyParam})
	op.responses = []response{ok(b.object), created(b.object), accepted(b.object), unauthorized}
	return op
}

func (b *resourceRoutes) deleteCollectionOp(scope string, params []*param) *operation {
	if !b.res.Supports("deletecollection") {
		return nil
	}
	op := b.op("delete", "delete", "Collection"+scope, "", "deletecollection", "delete collection of "+b.kind, b.gvk)
	op.body = bodyParam(deleteOptionsSchema, false)
	op.params = concat(params, b.opts.listNoWatch, b.opts.delete, []*param{prettyParam})
	op.responses = []response{ok(statusSchema), unauthorized}
	return op
}

func (b *resourceRoutes) readOp(scope string, params []*param) *operation {
	if !b.res.Supports("get") {
		return nil
	}
	op := b.op("get", "read", scope, "", "get", "read the specified "+b.kind, b.gvk)
	op.params = concat(params, []*param{prettyParam})
	op.responses = []response{ok(b.object), unauthorized}
	return op
}

func (b *resourceRoutes) replaceOp(scope string, params []*param) *operation {
	if !b.res.Supports("update") {
		return nil
	}
	op := b.op("put", "replace", scope, "", "put", "replace the specified "+b.kind, b.gvk)
	op.body = bodyParam(b.object, true)
	op.params = concat(params, b.opts.update, []*param{prettyParam})
	op.responses = []response{ok(b.object), created(b.object), unauthorized}
	return op
}

func (b *resourceRoutes) deleteOp(scope string, params []*param) *operation {
	if !b.res.Supports("delete") {
		return nil
	}
	op := b.op("delete", "delete", scope, "", "delete", "delete "+article(b.kind)+b.kind, b.gvk)
	op.body = bodyParam(deleteOptionsSchema, false)
	op.params = concat(params, b.opts.delete, []*param{prettyParam})
	answer := statusSchema
	if deleteReturnsObject[b.res.GroupResource()] {
		answer = b.object
	}
	op.responses = []response{ok(answer), accepted(answer), unauthorized}
	return op
}

func (b *resourceRoutes) patchOp(scope string, params []*param) *operation {
	if !b.res.Supports("patch") {
		return nil
	}
	op := b.op("patch", "patch", scope, "", "patch", "partially update the specified "+b.kind, b.gvk)
	op.consumes = mediaPatch
	op.body = bodyParam(patchSchema, true)
	op.params = concat(params, b.opts.patch, []*param{prettyParam})
	op.responses = []response{ok(b.object), created(b.object), unauthorized}
	return op
}

// subresourceRoutes builds the paths of a subresource: get/update/patch ones
// (status, scale), create ones (binding, eviction), the log, and the streaming
// ones whose kind is an options type (exec, attach, portforward, proxy).
func (b *resourceRoutes) subresourceRoutes(sub registry.Subresource, itemPath, scope string, scopeParams []*param) []*route {
	path := itemPath + "/" + sub.Name
	suffix := upperFirst(sub.Name)
	params := append([]*param{nameParam(sub.Kind.Kind)}, scopeParams...)
	has := func(verb string) bool {
		for _, v := range sub.Verbs {
			if v == verb {
				return true
			}
		}
		return false
	}
	if strings.HasSuffix(sub.Kind.Kind, "Options") {
		return b.connectRoutes(sub, path, scope, params, has)
	}
	object := b.object
	if sub.Kind != b.gvk {
		object = b.schemas.ofKind(sub.Kind, nil)
	}
	if object == "" {
		return nil
	}
	r := &route{path: path, doc: b.doc}
	if sub.Name == "log" {
		op := b.op("get", "read", scope, suffix, "get", "read log of the specified "+b.kind, sub.Kind)
		op.produces = mediaLog
		op.params = concat(params, queryParams(corev1.PodLogOptions{}), []*param{prettyParam})
		op.responses = []response{{code: "200", description: "OK", typ: "string"}, unauthorized}
		r.ops = append(r.ops, op)
		return []*route{r}
	}
	if has("get") {
		op := b.op("get", "read", scope, suffix, "get", "read "+sub.Name+" of the specified "+b.kind, sub.Kind)
		op.params = concat(params, []*param{prettyParam})
		op.responses = []response{ok(object), unauthorized}
		r.ops = append(r.ops, op)
	}
	if has("update") {
		op := b.op("put", "replace", scope, suffix, "put", "replace "+sub.Name+" of the specified "+b.kind, sub.Kind)
		op.body = bodyParam(object, true)
		op.params = concat(params, b.opts.update, []*param{prettyParam})
		op.responses = []response{ok(object), created(object), unauthorized}
		r.ops = append(r.ops, op)
	}
	if has("create") {
		op := b.op("post", "create", scope, suffix, "post", "create "+sub.Name+" of "+article(b.kind)+b.kind, sub.Kind)
		op.body = bodyParam(object, true)
		op.params = concat(params, b.opts.create, []*param{prettyParam})
		op.responses = []response{ok(object), created(object), accepted(object), unauthorized}
		r.ops = append(r.ops, op)
	}
	if has("patch") {
		op := b.op("patch", "patch", scope, suffix, "patch", "partially update "+sub.Name+" of the specified "+b.kind, sub.Kind)
		op.consumes = mediaPatch
		op.body = bodyParam(patchSchema, true)
		op.params = concat(params, b.opts.patch, []*param{prettyParam})
		op.responses = []response{ok(object), created(object), unauthorized}
		r.ops = append(r.ops, op)
	}
	if len(r.ops) == 0 {
		return nil
	}
	return []*route{r}
}

// connectMethods maps verbs to the methods of a streaming subresource; proxies
// also answer OPTIONS and HEAD.
var connectMethods = []struct{ verb, method string }{
	{"get", "get"}, {"update", "put"}, {"create", "post"}, {"delete", "delete"}, {"proxy-only", "options"}, {"proxy-only", "head"}, {"patch", "patch"},
}

func (b *resourceRoutes) connectRoutes(sub registry.Subresource, path, scope string, params []*param, has func(string) bool) []*route {
	var options []*param
	if obj, err := b.scheme.New(sub.Kind); err == nil {
		options = queryParams(obj)
	}
	build := func(path, idSuffix string, params []*param) *route {
		r := &route{path: path, doc: b.doc}
		for _, m := range connectMethods {
			if m.verb == "proxy-only" && sub.Name != "proxy" || m.verb != "proxy-only" && !has(m.verb) {
				continue
			}
			upper := strings.ToUpper(m.method)
			op := b.op(m.method, "connect", upperFirst(m.method)+scope, upperFirst(sub.Name)+idSuffix, "connect",
				"connect "+upper+" requests to "+sub.Name+" of "+b.kind, sub.Kind)
			op.produces = mediaAny
			op.params = concat(params, options)
			op.responses = []response{{code: "200", description: "OK", typ: "string"}, unauthorized}
			r.ops = append(r.ops, op)
		}
		return r
	}
	out := []*route{build(path, "", params)}
	if sub.Name == "proxy" {
		out = append(out, build(path+"/{path}", "WithPath", concat(params, []*param{pathParam})))
	}
	return out
}
