package apiserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/mergepatch"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// builtinPatchTypes are the patch types built-in resources accept.
var builtinPatchTypes = []string{string(types.JSONPatchType), string(types.MergePatchType),
	string(types.StrategicMergePatchType), string(types.ApplyYAMLPatchType)}

// limitJSONPatchCopies lowers the JSON patch library's copy limit to max, as
// upstream's server does: the library keeps it in a variable of its own, shared
// by every server of the process, so the lowest limit wins.
func limitJSONPatchCopies(max int64) {
	for {
		cur := atomic.LoadInt64(&jsonpatch.AccumulatedCopySizeLimit)
		if cur > 0 && cur <= max {
			return
		}
		if atomic.CompareAndSwapInt64(&jsonpatch.AccumulatedCopySizeLimit, cur, max) {
			return
		}
	}
}

// maxJSONPatchOperations bounds a JSON patch, as upstream does.
const maxJSONPatchOperations = 10000

// patch answers PATCH of an object or its status in any of the four patch types.
func (q *request) patch(subresource string) error {
	ct := q.r.Header.Get("Content-Type")
	pt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		pt = ct
	}
	if isCustom(q.res) {
		if !contains(customPatchTypes, pt) {
			return newUnsupportedMediaType(pt, customPatchTypes...)
		}
	} else if !contains(builtinPatchTypes, pt) {
		// Upstream's router refuses these before any handler, in its own words.
		return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "", schema.GroupResource{}, "", "415: Unsupported Media Type", 0, false)
	}
	body, err := q.readBody()
	if err != nil {
		return err
	}
	opts, err := q.writeOptions()
	if err != nil {
		return err
	}
	validation, err := q.fieldValidation()
	if err != nil {
		return err
	}
	apply := pt == string(types.ApplyYAMLPatchType)
	qo, _ := q.options()
	force := qo.force != nil && *qo.force
	if !q.res.Namespaced {
		q.info.Namespace = ""
	}
	rules := updateRules{subresource: subresource, unconditional: true, applied: apply}
	var patchWarnings []string
	fn := func(ctx context.Context, existing runtime.Object) (runtime.Object, error) {
		patchWarnings = nil
		if apply {
			obj, warns, err := q.applyPatch(existing, body, subresource, opts.manager, force, validation)
			patchWarnings = warns
			return obj, err
		}
		obj, warns, err := q.mergePatch(pt, existing, body, validation)
		patchWarnings = warns
		if err != nil {
			return nil, err
		}
		m := obj.(metav1.Object)
		if m.GetName() != q.info.Name {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), q.info.Name))
		}
		if q.res.Namespaced && m.GetNamespace() != q.info.Namespace {
			return nil, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
		q.res.Strategy.Default(obj)
		return obj, nil
	}
	out, created, err := q.s.updateObject(withAdmissionWarnings(q.ctx(), &q.warnings), q.res, q.info.Namespace, q.info.Name, subresource,
		apply && subresource == "", rules, opts, fn)
	q.warnings = append(q.warnings, patchWarnings...)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	return q.respond(code, out)
}

// mergePatch applies a JSON, merge or strategic merge patch to existing.
func (q *request) mergePatch(pt string, existing runtime.Object, patch []byte, validation string) (runtime.Object, []string, error) {
	original, err := jsonMarshal(existing)
	if err != nil {
		return nil, nil, err
	}
	var patched []byte
	switch types.PatchType(pt) {
	case types.JSONPatchType:
		ops, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, nil, apierrors.NewBadRequest(err.Error())
		}
		if len(ops) > maxJSONPatchOperations {
			return nil, nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("The allowed maximum operations in a JSON patch is %d, got %d", maxJSONPatchOperations, len(ops)))
		}
		patched, err = ops.Apply(original)
		if err != nil {
			return nil, nil, statusError(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, err.Error())
		}
	case types.MergePatchType:
		patched, err = jsonpatch.MergePatch(original, patch)
		if err != nil {
			return nil, nil, apierrors.NewBadRequest(err.Error())
		}
	case types.StrategicMergePatchType:
		return q.strategicMergePatch(existing, patch, validation)
	}
	return q.decodePatched(patched, validation)
}

// strategicMergePatch patches existing's map form and converts the result back to
// the resource's type, as upstream does; what cannot be converted back is the
// patch's fault, reported against the patch as upstream words it.
func (q *request) strategicMergePatch(existing runtime.Object, patch []byte, validation string) (runtime.Object, []string, error) {
	original, err := runtime.DefaultUnstructuredConverter.ToUnstructured(existing)
	if err != nil {
		return nil, nil, err
	}
	patchMap := map[string]interface{}{}
	if err := utiljson.Unmarshal(patch, &patchMap); err != nil {
		return nil, nil, apierrors.NewBadRequest(err.Error())
	}
	patchedMap, err := strategicpatch.StrategicMergeMapPatch(original, patchMap, q.res.New())
	if err != nil {
		return nil, nil, interpretStrategicMergePatchError(err)
	}
	gvk := q.res.GroupVersionKind()
	if v, k := stringField(patchedMap, "apiVersion"), stringField(patchedMap, "kind"); (v != "" && v != gvk.GroupVersion().String()) || (k != "" && k != gvk.Kind) {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", v, gvk.GroupVersion()))
	}
	obj := q.res.New()
	var warns []string
	if u, ok := obj.(runtime.Unstructured); ok {
		u.SetUnstructuredContent(patchedMap)
	} else if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(patchedMap, obj, validation != "Ignore"); err != nil {
		se, strict := runtime.AsStrictDecodingError(err)
		if !strict || validation == "Strict" {
			return nil, nil, invalidPatch(fmt.Sprintf("%+v", patchMap), err)
		}
		for _, e := range se.Errors() {
			warns = append(warns, e.Error())
		}
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	unknown, err := q.pruneUnknown(obj, validation)
	if err != nil {
		return nil, nil, err
	}
	return obj, append(warns, unknown...), nil
}

func stringField(m map[string]interface{}, key string) string {
	s, _ := m[key].(string)
	return s
}

// invalidPatch is upstream's answer to a patch whose result is not an object of
// the resource's type: 422 Invalid, caused by the field "patch".
func invalidPatch(value string, err error) error {
	return apierrors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{field.Invalid(field.NewPath("patch"), value, err.Error())})
}

func interpretStrategicMergePatchError(err error) error {
	switch {
	case errors.Is(err, mergepatch.ErrBadJSONDoc), errors.Is(err, mergepatch.ErrBadPatchFormatForPrimitiveList),
		errors.Is(err, mergepatch.ErrBadPatchFormatForRetainKeys), errors.Is(err, mergepatch.ErrBadPatchFormatForSetElementOrderList),
		errors.Is(err, mergepatch.ErrUnsupportedStrategicMergePatchFormat):
		return apierrors.NewBadRequest(err.Error())
	case errors.Is(err, mergepatch.ErrNoListOfLists), errors.Is(err, mergepatch.ErrPatchContentNotMatchRetainKeys):
		return statusError(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, err.Error())
	}
	return apierrors.NewBadRequest(err.Error())
}

// decodePatched decodes a patched document into the resource's type, reporting
// unknown fields per fieldValidation.
func (q *request) decodePatched(data []byte, validation string) (runtime.Object, []string, error) {
	info, _ := serializerFor(mediaJSON)
	gvk := q.res.GroupVersionKind()
	into := q.res.New()
	dec := info.Serializer
	if validation != "Ignore" {
		dec = info.StrictSerializer
	}
	obj, actual, err := dec.Decode(data, &gvk, into)
	var warns []string
	if err != nil && runtime.IsStrictDecodingError(err) && obj != nil && validation != "Strict" {
		warns = strictErrors(err)
		err = nil
	}
	if err != nil {
		return nil, nil, invalidPatch(string(data), err)
	}
	if actual != nil && (actual.GroupVersion() != gvk.GroupVersion() || actual.Kind != gvk.Kind) {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", actual.GroupVersion(), gvk.GroupVersion()))
	}
	unknown, err := q.pruneUnknown(obj, validation)
	if err != nil {
		return nil, nil, err
	}
	return obj, append(warns, unknown...), nil
}

// applyPatch merges a server-side apply configuration into existing (or a new object).
func (q *request) applyPatch(existing runtime.Object, body []byte, subresource, manager string, force bool, validation string) (runtime.Object, []string, error) {
	patchObj := &unstructured.Unstructured{Object: map[string]interface{}{}}
	if err := yaml.Unmarshal(body, &patchObj.Object); err != nil {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	gvk := q.res.GroupVersionKind()
	if patchObj.GetAPIVersion() != gvk.GroupVersion().String() || patchObj.GetKind() != gvk.Kind {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)",
			patchObj.GetAPIVersion(), gvk.GroupVersion().String()))
	}
	if patchObj.GetName() != "" && patchObj.GetName() != q.info.Name {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", patchObj.GetName(), q.info.Name))
	}
	if q.res.Namespaced && patchObj.GetNamespace() != "" && patchObj.GetNamespace() != q.info.Namespace {
		return nil, nil, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	var warns []string
	if validation != "Ignore" {
		if err := yaml.UnmarshalStrict(body, &map[string]interface{}{}); err != nil {
			if validation == "Strict" {
				return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("error strict decoding YAML: %v", err))
			}
			warns = append(warns, err.Error())
		}
		unknown := unknownApplyFields(q, patchObj)
		if q.res.Prune != nil {
			if paths := q.res.Prune(patchObj.DeepCopy()); len(paths) > 0 && validation == "Strict" {
				return nil, nil, q.applyUnknownError(patchObj, paths)
			}
			pruned, err := q.pruneUnknown(patchObj.DeepCopy(), validation)
			if err != nil {
				return nil, nil, err
			}
			unknown = append(unknown, pruned...)
		}
		if len(unknown) > 0 {
			if validation == "Strict" {
				return nil, nil, apierrors.NewBadRequest("strict decoding error: " + strings.Join(unknown, ", "))
			}
			warns = append(warns, unknown...)
		}
	}
	live := existing
	if live == nil {
		live = q.res.New()
		m := live.(metav1.Object)
		m.SetName(q.info.Name)
		m.SetNamespace(q.info.Namespace)
	}
	obj, err := q.s.fields.apply(q.res, subresource, live, patchObj, manager, force)
	if err != nil {
		var se apierrors.APIStatus
		if errors.As(err, &se) {
			return nil, warns, err
		}
		return nil, warns, statusError(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, err.Error())
	}
	if q.res.Namespaced {
		obj.(metav1.Object).SetNamespace(q.info.Namespace)
	}
	if existing == nil {
		obj.(metav1.Object).SetName(q.info.Name)
	}
	if q.res.Prune != nil {
		q.res.Prune(obj)
	}
	q.res.Strategy.Default(obj)
	return obj, warns, nil
}

// unknownApplyFields reports fields of an apply configuration the type lacks, by a
// strict decode of its JSON form.
func unknownApplyFields(q *request, u *unstructured.Unstructured) []string {
	data, err := u.MarshalJSON()
	if err != nil {
		return nil
	}
	info, _ := serializerFor(mediaJSON)
	gvk := q.res.GroupVersionKind()
	_, _, err = info.StrictSerializer.Decode(data, &gvk, q.res.New())
	if err != nil && runtime.IsStrictDecodingError(err) {
		return strictErrors(err)
	}
	return nil
}

func jsonMarshal(v interface{}) ([]byte, error) {
	if obj, ok := v.(runtime.Object); ok {
		info, _ := serializerFor(mediaJSON)
		var buf bytes.Buffer
		if err := info.Serializer.Encode(obj, &buf); err != nil {
			return nil, err
		}
		return bytes.TrimSpace(buf.Bytes()), nil
	}
	return jsonStdMarshal(v)
}
