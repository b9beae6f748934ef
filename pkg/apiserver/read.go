package apiserver

import (
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// get answers GET of one object (or its status).
func (q *request) get() error {
	ro := storage.ReadOptions{ResourceVersion: q.query.Get("resourceVersion")}
	obj, err := q.res.Store.Get(q.ctx(), q.res.Store.Key(q.info.Namespace, q.info.Name), q.info.Name, ro)
	if err != nil {
		return err
	}
	if obj, err = toServed(q.res, obj); err != nil {
		return err
	}
	return q.respond(http.StatusOK, obj, targetTable, targetPartial)
}

// listParams are the parsed list and watch query parameters.
type listParams struct {
	rv                string
	rvMatch           string
	limit             int64
	cont              string
	pred              storage.Predicate
	name              string // from fieldSelector metadata.name=x
	bookmarks         bool
	sendInitialEvents *bool
	timeoutSeconds    int64
}

func (q *request) listParams() (*listParams, error) {
	p := &listParams{
		rv:        q.query.Get("resourceVersion"),
		rvMatch:   q.query.Get("resourceVersionMatch"),
		cont:      q.query.Get("continue"),
		bookmarks: queryBool(q.query["allowWatchBookmarks"]),
	}
	if v := q.query.Get("limit"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid limit %q", v))
		}
		p.limit = max(n, 0) // upstream pages only for a positive limit

	}
	if v := q.query.Get("timeoutSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid timeoutSeconds %q", v))
		}
		p.timeoutSeconds = n
	}
	if v := q.query["sendInitialEvents"]; len(v) > 0 {
		b := queryBool(v)
		p.sendInitialEvents = &b
	}
	ls := labels.Everything()
	if v := q.query.Get("labelSelector"); v != "" {
		sel, err := labels.Parse(v)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", unwrapParse(err)))
		}
		ls = sel
	}
	fs := fields.Everything()
	if v := q.query.Get("fieldSelector"); v != "" {
		sel, err := fields.ParseSelector(v)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
		}
		allowed := allowedFields(q.res)
		for _, req := range sel.Requirements() {
			if !allowed[req.Field] {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
			}
		}
		if name, ok := sel.RequiresExactMatch("metadata.name"); ok {
			p.name = name
		}
		fs = sel
	}
	p.pred = storage.Predicate{Label: ls, Field: fs, Attrs: attrsFunc(q.res)}
	var errs field.ErrorList
	if p.rvMatch != "" {
		switch metav1.ResourceVersionMatch(p.rvMatch) {
		case metav1.ResourceVersionMatchExact, metav1.ResourceVersionMatchNotOlderThan:
		default:
			errs = append(errs, field.NotSupported(field.NewPath("resourceVersionMatch"), p.rvMatch, []string{"Exact", "NotOlderThan", ""}))
		}
		if p.rv == "" && p.sendInitialEvents == nil {
			errs = append(errs, field.Forbidden(field.NewPath("resourceVersionMatch"), "resourceVersionMatch is forbidden unless resourceVersion is provided"))
		}
		if p.cont != "" {
			errs = append(errs, field.Forbidden(field.NewPath("resourceVersionMatch"), "resourceVersionMatch is forbidden when continue is provided"))
		}
		if p.rvMatch == string(metav1.ResourceVersionMatchExact) && p.rv == "0" {
			errs = append(errs, field.Forbidden(field.NewPath("resourceVersionMatch"), "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""))
		}
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "", errs)
	}
	if p.cont != "" && p.rv != "" && p.rv != "0" {
		// Upstream's storage answers this one, with a 400.
		return nil, apierrors.NewBadRequest("specifying resource version is not allowed when using continue")
	}
	if p.rv != "" && p.rv != "0" {
		if _, err := storage.ParseResourceVersion(p.rv); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func unwrapParse(err error) string { return err.Error() }

// allowedFields lists the field-selector fields of a resource.
func allowedFields(res *registry.Resource) map[string]bool {
	allowed := map[string]bool{"metadata.name": true}
	if res.Namespaced {
		allowed["metadata.namespace"] = true
	}
	if res.Fields != nil {
		for k := range res.Fields(res.New()) {
			allowed[k] = true
		}
	}
	return allowed
}

// attrsFunc returns what selectors see of a resource's stored objects.
func attrsFunc(res *registry.Resource) storage.AttrFunc {
	return func(obj runtime.Object) (labels.Set, fields.Set, error) {
		m, ok := obj.(metav1.Object)
		if !ok {
			return nil, nil, fmt.Errorf("%T has no metadata", obj)
		}
		fs := fields.Set{"metadata.name": m.GetName()}
		if res.Namespaced {
			fs["metadata.namespace"] = m.GetNamespace()
		}
		if res.Fields != nil {
			served, err := toServed(res, obj)
			if err != nil {
				return nil, nil, err
			}
			for k, v := range res.Fields(served) {
				fs[k] = v
			}
		}
		return m.GetLabels(), fs, nil
	}
}

// list answers GET of a collection.
func (q *request) list() error {
	p, err := q.listParams()
	if err != nil {
		return err
	}
	// A paged list at a resourceVersion without resourceVersionMatch is exact: the
	// legacy rule upstream keeps.
	exact := p.rvMatch == string(metav1.ResourceVersionMatchExact) ||
		p.rvMatch == "" && p.limit > 0 && p.cont == "" && p.rv != "" && p.rv != "0"
	lo := storage.ListOptions{
		ReadOptions: storage.ReadOptions{ResourceVersion: p.rv, Exact: exact},
		Namespace:   q.info.Namespace,
		Predicate:   p.pred,
		Limit:       p.limit,
		Continue:    p.cont,
	}
	out, err := negotiateFor(q.r, isCustom(q.res), targetTable, targetPartialList)
	if err != nil {
		return err
	}
	fast := out.mediaType == mediaProtobuf && out.target == "" && !q.res.Converts()
	lo.Protobuf = fast
	result, err := q.res.Store.List(q.ctx(), lo)
	if err != nil {
		return err
	}
	if fast && result.Protobuf != nil {
		return q.writeProtobufList(result)
	}
	list, err := q.buildList(result)
	if err != nil {
		return err
	}
	return q.respond(http.StatusOK, list, targetTable, targetPartialList)
}

// buildList puts a storage result into the resource's typed list.
func (q *request) buildList(result *storage.ListResult) (runtime.Object, error) {
	list := q.res.NewList()
	items := result.Items
	if q.res.Converts() {
		var err error
		if items, err = toServedAll(q.ctx(), q.res, result.Items); err != nil {
			return nil, err
		}
	}
	if err := meta.SetList(list, items); err != nil {
		return nil, fmt.Errorf("build %s list: %w", q.res.Name, err)
	}
	// Items of a typed list are copies; upstream serves them without kind and apiVersion.
	// Custom resources keep theirs (and share their maps with the cache).
	if !isCustom(q.res) {
		_ = meta.EachListItem(list, func(o runtime.Object) error {
			o.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
			return nil
		})
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return nil, err
	}
	lm.SetResourceVersion(strconv.FormatInt(result.ResourceVersion, 10))
	lm.SetContinue(result.Continue)
	lm.SetRemainingItemCount(result.Remaining)
	gvk := q.res.GroupVersionKind()
	list.GetObjectKind().SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	return list, nil
}
