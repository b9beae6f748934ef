package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	pathvalidation "k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/apis"
	"github.com/minik8s/minik8s/pkg/registry"
)

// serveResource dispatches a request for a resource or one of its subresources.
func (s *Server) serveResource(w http.ResponseWriter, r *http.Request, info requestInfo) {
	gvr := schema.GroupVersionResource{Group: info.Group, Version: info.Version, Resource: info.Resource}
	res := s.cfg.Registry.Get(gvr)
	if res == nil {
		// A group version nobody serves is a path upstream's router does not
		// know: its plain-text 404. A resource a served version lacks is a 404 Status.
		if (info.APIPrefix == "apis" && !s.discovery.hasGroupVersion(info.Group, info.Version)) ||
			(info.APIPrefix == "api" && info.Version != "v1") {
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		}
		writeError(w, r, errNotServed())
		return
	}
	if !res.Namespaced && res.Name != "namespaces" && info.Namespace != "" {
		writeError(w, r, errNotServed())
		return
	}
	if !res.Namespaced {
		info.Namespace = ""
	}
	if res.Namespaced && info.Namespace == "" && info.Name != "" {
		writeError(w, r, errNotServed())
		return
	}
	// Upstream's routes take a create of the collection only, an update or
	// patch of one object only, and a watch by GET.
	switch {
	case info.Verb == "watch" && r.Method != http.MethodGet && r.Method != http.MethodHead,
		info.Name != "" && info.Verb == "create" && info.Subresource == "",
		info.Name == "" && (info.Verb == "update" || info.Verb == "patch"):
		writeError(w, r, methodNotSupported(res.GroupResource(), info.Verb))
		return
	}
	// Storage refuses names that cannot be a path segment, before it looks.
	if info.Name != "" && res.Create == nil {
		if msgs := pathvalidation.IsValidPathSegmentName(info.Name); len(msgs) > 0 {
			writeError(w, r, apierrors.NewBadRequest(fmt.Sprintf("Name parameter invalid: %q: %s", info.Name, strings.Join(msgs, ";"))))
			return
		}
	}
	warnDeprecated(w, res)
	req := &request{s: s, w: w, r: r, info: info, res: res, query: r.URL.Query()}
	var err error
	switch {
	case res.Create != nil:
		if info.Verb != "create" || info.Subresource != "" {
			err = methodNotSupported(res.GroupResource(), info.Verb)
		} else {
			err = req.createVirtual()
		}
	case info.Subresource == "":
		err = req.serveMain()
	default:
		err = req.serveSubresource()
	}
	if err != nil {
		writeError(w, r, err)
	}
}

// request carries one resource request through its handler.
type request struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	info  requestInfo
	res   *registry.Resource
	query url.Values
	// warnings become Warning headers.
	warnings []string
	// opts are the write options of the query, once read (options).
	opts *parsedOptions
}

func (q *request) ctx() context.Context { return q.r.Context() }

func (q *request) serveMain() error {
	if !q.res.Supports(q.info.Verb) {
		if q.info.Verb == "watch" && q.res.Supports("list") {
			// Upstream's list handler, asked to watch what it cannot.
			return apierrors.NewMethodNotSupported(q.res.GroupResource(), "watch")
		}
		return methodNotSupported(q.res.GroupResource(), q.info.Verb)
	}
	switch q.info.Verb {
	case "get":
		return q.get()
	case "list":
		return q.list()
	case "watch":
		return q.watch()
	case "create":
		return q.create()
	case "update":
		return q.update("")
	case "patch":
		return q.patch("")
	case "delete":
		return q.delete()
	case "deletecollection":
		return q.deleteCollection()
	}
	return methodNotSupported(q.res.GroupResource(), q.info.Verb)
}

func (q *request) serveSubresource() error {
	sub := q.info.Subresource
	switch {
	case sub == "status" && q.res.Status:
		switch q.info.Verb {
		case "get":
			return q.get()
		case "update":
			return q.update("status")
		case "patch":
			return q.patch("status")
		}
	case sub == "scale" && q.res.Scale != nil:
		return q.serveScale()
	// Before the updatable subresources: proxy lists update among its verbs.
	case q.isConnect(sub):
		if err := q.s.admitConnect(withAdmissionWarnings(q.ctx(), &q.warnings), q.res, q.info.Namespace, q.info.Name, sub, q.query, q.info.Parts); err != nil {
			return err
		}
		if q.s.cfg.Connect == nil {
			return apierrors.NewServiceUnavailable(fmt.Sprintf("%s/%s is not available: no node agent is connected", q.res.Name, sub))
		}
		q.setWarnings()
		q.s.cfg.Connect.ServeConnect(q.w, q.r, q.res, q.info.Namespace, q.info.Name, sub, q.info.Parts)
		return nil
	case q.res.UpdatableSubresource(sub):
		switch q.info.Verb {
		case "get":
			return q.get()
		case "update":
			return q.update(sub)
		case "patch":
			return q.patch(sub)
		}
	case sub == "finalize" && q.res.Name == "namespaces" && q.info.Verb == "update":
		return q.update("finalize")
	case sub == "binding" && q.res.Name == "pods" && q.info.Verb == "create":
		return q.createBinding()
	case sub == "eviction" && q.res.Name == "pods" && q.info.Verb == "create":
		return q.createEviction()
	default:
		if h := q.s.subresourceHandler(q.res, sub); h != nil {
			return h(q)
		}
		if !hasSubresource(q.res, sub) {
			return errNotServed()
		}
	}
	return methodNotSupported(schema.GroupResource{Group: q.res.Group, Resource: q.res.Name + "/" + sub}, q.info.Verb)
}

func (q *request) isConnect(sub string) bool {
	for _, s := range q.res.Subresources {
		if s.Name == sub {
			switch sub {
			case "log", "exec", "attach", "portforward", "proxy":
				return true
			}
		}
	}
	return false
}

// subresourceHandler finds handlers registered by other files (serviceaccounts/token…).
func (s *Server) subresourceHandler(res *registry.Resource, sub string) func(*request) error {
	return subresourceHandlers[res.GroupResource().String()+"/"+sub]
}

// subresourceHandlers are extra subresources, keyed "resource.group/subresource".
var subresourceHandlers = map[string]func(*request) error{}

// readBody reads a request body up to the configured limit.
func (q *request) readBody() ([]byte, error) {
	limit := q.s.cfg.MaxRequestBodyBytes
	if q.r.ContentLength > limit {
		return nil, errTooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge(limit)
		}
		return nil, apierrors.NewBadRequest(fmt.Sprintf("read request body: %v", err))
	}
	// An empty body is left to the decoder, which refuses it in upstream's words.
	return body, nil
}

func errTooLarge(limit int64) error {
	return statusError(http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge,
		fmt.Sprintf("Request entity too large: limit is %d", limit))
}

// decodeObject decodes a request body into the resource's type, checking the kind
// and reporting unknown or duplicate fields per fieldValidation.
func (q *request) decodeObject(body []byte) (runtime.Object, error) {
	info, err := inputSerializer(q.r)
	if err != nil {
		return nil, err
	}
	validation, err := q.fieldValidation()
	if err != nil {
		return nil, err
	}
	into := q.res.New()
	gvk := q.res.GroupVersionKind()
	dec := info.Serializer
	if validation != "Ignore" && info.StrictSerializer != nil {
		dec = info.StrictSerializer
	}
	obj, actual, err := dec.Decode(body, &gvk, into)
	if err != nil && runtime.IsStrictDecodingError(err) && obj != nil && validation != "Strict" {
		q.warnings = append(q.warnings, strictErrors(err)...)
		err = nil
	}
	if err != nil {
		return nil, undecodable(gvk, actual, body, err)
	}
	if _, custom := into.(runtime.Unstructured); !custom && actual != nil && actual.Kind != gvk.Kind {
		return nil, undecodable(gvk, actual, body, noConversion(obj, gvk))
	}
	if actual != nil && (actual.GroupVersion() != gvk.GroupVersion() || actual.Kind != gvk.Kind) {
		if actual.GroupVersion() != gvk.GroupVersion() {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", actual.GroupVersion(), gvk.GroupVersion()))
		}
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the kind in the data (%s) does not match the expected kind (%s)", actual.Kind, gvk.Kind))
	}
	if obj != into {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected a %s, got %T", gvk.Kind, obj))
	}
	unknown, err := q.pruneUnknown(obj, validation)
	if err != nil {
		return nil, err
	}
	q.warnings = append(q.warnings, unknown...)
	return obj, nil
}

// strictErrors splits a strict decoding error into its messages.
func strictErrors(err error) []string {
	var se interface{ Errors() []error }
	if errors.As(err, &se) {
		var out []string
		for _, e := range se.Errors() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

// setWarnings emits collected warnings as upstream's Warning headers.
func (q *request) setWarnings() {
	for _, w := range q.warnings {
		q.w.Header().Add("Warning", fmt.Sprintf("299 - %q", w))
	}
}

// respond writes obj in the negotiated form.
func (q *request) respond(code int, obj runtime.Object, targets ...string) error {
	out, err := negotiateFor(q.r, isCustom(q.res), targets...)
	if err != nil {
		return err
	}
	if out.target != "" {
		if obj, err = q.s.transform(q, out, obj); err != nil {
			return err
		}
	}
	q.setWarnings()
	writeObject(q.w, q.r, code, out, obj)
	return nil
}

// checkNamespace matches an object's namespace with the request's.
func (q *request) checkNamespace(obj runtime.Object) error {
	m := obj.(metav1.Object)
	if !q.res.Namespaced {
		m.SetNamespace("")
		return nil
	}
	switch m.GetNamespace() {
	case "":
		m.SetNamespace(q.info.Namespace)
	case q.info.Namespace:
	default:
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

// toServed converts a stored object to the served version (for resources served
// in several versions); otherwise it returns obj itself.
func toServed(res *registry.Resource, obj runtime.Object) (runtime.Object, error) {
	if obj == nil || !res.Converts() {
		return obj, nil
	}
	if out, ok, err := convertCustom(res, obj, res.GroupVersion().String()); ok {
		if err != nil {
			return nil, err
		}
		// Defaults added to the schema since the object was written apply on read.
		res.Strategy.Default(out)
		return out, nil
	}
	out := res.New()
	if err := apis.Scheme.Convert(obj, out, nil); err != nil {
		return nil, fmt.Errorf("convert %s to %s: %w", res.StorageGVK(), res.GroupVersionKind(), err)
	}
	out.GetObjectKind().SetGroupVersionKind(res.GroupVersionKind())
	return out, nil
}

// toStored converts a served object to the storage version.
func toStored(res *registry.Resource, obj runtime.Object) (runtime.Object, error) {
	if !res.Converts() {
		return obj, nil
	}
	if out, ok, err := convertCustom(res, obj, res.StorageGVK().GroupVersion().String()); ok {
		return out, err
	}
	out, err := apis.Scheme.New(res.StorageGVK())
	if err != nil {
		return nil, err
	}
	if err := apis.Scheme.Convert(obj, out, nil); err != nil {
		return nil, fmt.Errorf("convert %s to %s: %w", res.GroupVersionKind(), res.StorageGVK(), err)
	}
	return out, nil
}
