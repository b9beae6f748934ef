package apiserver

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/pkg/registry"
)

// isCustom reports whether res serves custom resources (unstructured objects).
func isCustom(res *registry.Resource) bool {
	return res != nil && res.Custom
}

// customPatchTypes are the patch types custom resources accept: no strategic merge.
var customPatchTypes = []string{string(types.JSONPatchType), string(types.MergePatchType), string(types.ApplyYAMLPatchType)}

// applyUnknownError is the error a Strict server-side apply of a custom resource
// with unknown fields gets, as upstream's typed patch conversion words it.
func (q *request) applyUnknownError(patch *unstructured.Unstructured, unknown []string) error {
	msgs := make([]string, 0, len(unknown))
	for _, p := range unknown {
		msgs = append(msgs, fmt.Sprintf(".%s: field not declared in schema", p))
	}
	return apierrors.NewBadRequest(fmt.Sprintf("failed to create typed patch object (%s/%s; %s): %s",
		q.info.Namespace, q.info.Name, q.res.GroupVersionKind(), strings.Join(msgs, "\n")))
}

// pruneUnknown drops fields the custom resource's schema does not know; Strict
// refuses them, Warn reports them, as upstream's unknown field errors.
func (q *request) pruneUnknown(obj runtime.Object, validation string) ([]string, error) {
	if q.res.Prune == nil {
		return nil, nil
	}
	unknown := q.res.Prune(obj)
	if len(unknown) == 0 || validation == "Ignore" {
		return nil, nil
	}
	msgs := make([]string, 0, len(unknown))
	for _, p := range unknown {
		msgs = append(msgs, fmt.Sprintf("unknown field %q", p))
	}
	if validation == "Strict" {
		gvk := q.res.GroupVersionKind()
		return nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: strict decoding error: %s",
			gvk.Kind, gvk.Version, gvk.Kind, strings.Join(msgs, ", ")))
	}
	return msgs, nil
}

// convertCustom returns a custom resource in apiVersion: through the CRD's
// conversion webhook when it has one and the object is in another version,
// else by rewriting its apiVersion (conversion strategy None).
func convertCustom(res *registry.Resource, obj runtime.Object, apiVersion string) (runtime.Object, bool, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, false, nil
	}
	if res.ConvertCustom != nil && u.GetAPIVersion() != apiVersion {
		out, err := res.ConvertCustom(context.Background(), []*unstructured.Unstructured{u}, apiVersion)
		if err != nil {
			return nil, true, apierrors.NewInternalError(err)
		}
		return out[0].DeepCopy(), true, nil
	}
	out := u.DeepCopy()
	out.SetAPIVersion(apiVersion)
	return out, true, nil
}

// unstructuredMeta reads the metadata of a custom resource.
func unstructuredMeta(obj runtime.Object) (metav1.ObjectMeta, bool) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return metav1.ObjectMeta{}, false
	}
	var om metav1.ObjectMeta
	if md, ok := u.Object["metadata"].(map[string]interface{}); ok {
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(md, &om)
	}
	return om, true
}
