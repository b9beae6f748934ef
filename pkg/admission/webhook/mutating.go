package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/admission"
)

// The audit annotation key prefixes upstream's mutating webhooks record under.
const (
	mutationAnnotationPrefix   = "mutation.webhook.admission.k8s.io/"
	patchAnnotationPrefix      = "patch.webhook.admission.k8s.io/"
	failedOpenMutationPrefix   = "failed-open." + mutationAnnotationPrefix
	failedOpenValidationPrefix = "failed-open.validating.webhook.admission.k8s.io/"
)

// Admit calls the matching mutating webhooks in order and applies their
// patches to the object in place. A webhook with reinvocationPolicy IfNeeded
// is called once more when a webhook after it changed the object.
func (d *Dispatcher) Admit(ctx context.Context, a *admission.Attributes) error {
	hooks := d.matching(a).mutating
	if len(hooks) == 0 {
		return nil
	}
	if a.Operation == admission.Delete && a.OldObject == nil {
		// The delete path admits before it reads the object; webhooks see it.
		if old, err := d.cfg.Objects.Get(ctx, a.Resource, a.Namespace, a.Name); err == nil {
			a.OldObject = old
		}
	}
	r := &request{a: a, objects: d.cfg.Objects}
	// invoked holds the reinvocable hooks called since the object last
	// changed; again the ones to call in the second round.
	invoked, again := map[string]bool{}, map[string]bool{}
	for round := 0; round < 2; round++ {
		if round == 1 && len(again) == 0 {
			break
		}
		for i, h := range hooks {
			if round == 1 && !again[h.id] {
				continue
			}
			ok, err := r.shouldCall(ctx, h)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			changed, err := d.callMutating(ctx, h, a, round, i)
			if changed {
				r.objectChanged()
				for id := range invoked {
					again[id] = true
				}
				clear(invoked)
			}
			if h.reinvoke {
				invoked[h.id] = true
			}
			if err == nil {
				continue
			}
			var ce *callError
			if errors.As(err, &ce) {
				if h.failOpen {
					d.log.Warn("failed calling webhook, failing open", "webhook", h.name, "err", err)
					a.AddAnnotation(fmt.Sprintf("%sround_%d_index_%d", failedOpenMutationPrefix, round, i), h.name)
					if ctx.Err() != nil {
						return apierrors.NewTimeoutError("request did not complete within requested timeout", 0)
					}
					continue
				}
				d.log.Warn("failed calling webhook, failing closed", "webhook", h.name, "err", err)
				return apierrors.NewInternalError(err)
			}
			return err
		}
		if round == 0 {
			// Only the hooks called before the last change are called again.
			clear(invoked)
		}
	}
	return nil
}

// callMutating calls h and applies its patch; it reports whether the object changed.
func (d *Dispatcher) callMutating(ctx context.Context, h *hook, a *admission.Attributes, round, idx int) (changed bool, err error) {
	defer func() {
		v, _ := json.Marshal(map[string]any{"configuration": h.configuration, "webhook": h.name, "mutated": changed})
		a.AddAnnotation(fmt.Sprintf("%sround_%d_index_%d", mutationAnnotationPrefix, round, idx), string(v))
	}()
	if err := checkDryRun(h, a); err != nil {
		return false, err
	}
	object, err := objectJSON(a.Object, a.Kind)
	if err != nil {
		return false, &callError{hook: h.name, reason: fmt.Errorf("could not create admission objects: %w", err)}
	}
	old, err := objectJSON(a.OldObject, a.Kind)
	if err != nil {
		return false, &callError{hook: h.name, reason: fmt.Errorf("could not create admission objects: %w", err)}
	}
	resp, err := call(ctx, h, a, true, object, old)
	if err != nil {
		return false, err
	}
	record(h, a, resp)
	if !resp.allowed {
		return false, denied(h.name, resp.result)
	}
	if len(resp.patch) == 0 {
		return false, nil
	}
	if resp.patchType != admissionv1.PatchTypeJSONPatch {
		return false, &callError{hook: h.name, reason: fmt.Errorf("unsupported patch type %q", resp.patchType)}
	}
	patch, err := jsonpatch.DecodePatch(resp.patch)
	if err != nil {
		return false, &callError{hook: h.name, reason: fmt.Errorf("received undecodable patch in webhook response: %w", err)}
	}
	if len(patch) == 0 {
		return false, nil
	}
	if a.Object == nil {
		return false, apierrors.NewInternalError(fmt.Errorf("admission webhook %q attempted to modify the object, which is not supported for this operation", h.name))
	}
	patched, err := patch.Apply(object)
	if err != nil {
		return false, apierrors.NewInternalError(err)
	}
	changed, err = d.replaceObject(a, patched)
	if err != nil {
		return false, apierrors.NewInternalError(err)
	}
	pv, _ := json.Marshal(map[string]any{"configuration": h.configuration, "webhook": h.name,
		"patch": json.RawMessage(resp.patch), "patchType": string(resp.patchType)})
	a.AddAnnotation(fmt.Sprintf("%sround_%d_index_%d", patchAnnotationPrefix, round, idx), string(pv))
	return changed, nil
}

// replaceObject decodes the patched JSON into a new object of the request
// object's type, defaults it, and copies it over the request's object: the
// write path holds that pointer.
func (d *Dispatcher) replaceObject(a *admission.Attributes, patched []byte) (bool, error) {
	switch obj := a.Object.(type) {
	case *unstructured.Unstructured:
		next := &unstructured.Unstructured{}
		if err := next.UnmarshalJSON(patched); err != nil {
			return false, fmt.Errorf("decode patched object: %w", err)
		}
		if d.cfg.Default != nil {
			d.cfg.Default(next)
		}
		changed := !equality.Semantic.DeepEqual(obj.Object, next.Object)
		obj.Object = next.Object
		return changed, nil
	default:
		v := reflect.ValueOf(a.Object)
		if v.Kind() != reflect.Pointer || v.IsNil() {
			return false, fmt.Errorf("cannot patch a %T", a.Object)
		}
		next := reflect.New(v.Elem().Type()).Interface().(runtime.Object)
		if err := json.Unmarshal(patched, next); err != nil {
			return false, fmt.Errorf("decode patched object: %w", err)
		}
		// Keep the type information the object had (usually none).
		next.GetObjectKind().SetGroupVersionKind(a.Object.GetObjectKind().GroupVersionKind())
		if d.cfg.Default != nil {
			d.cfg.Default(next)
		}
		changed := !equality.Semantic.DeepEqual(a.Object, next)
		v.Elem().Set(reflect.ValueOf(next).Elem())
		return changed, nil
	}
}
