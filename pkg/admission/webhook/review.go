package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/pkg/admission"
)

// objectJSON encodes obj with its apiVersion and kind (typed objects in the
// server usually carry none); nil for no object.
func objectJSON(obj runtime.Object, gvk schema.GroupVersionKind) ([]byte, error) {
	if obj == nil {
		return nil, nil
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", gvk.Kind, err)
	}
	if obj.GetObjectKind().GroupVersionKind().Empty() && len(b) >= 2 && b[0] == '{' {
		head := fmt.Sprintf(`{"kind":%q,"apiVersion":%q`, gvk.Kind, gvk.GroupVersion().String())
		rest := b[1:]
		if !bytes.Equal(rest, []byte("}")) {
			head += ","
		}
		b = append([]byte(head), rest...)
	}
	return b, nil
}

// optionsJSON is the request's options object, with its kind.
func optionsJSON(a *admission.Attributes) []byte {
	if a.Options == nil {
		return nil
	}
	kind := ""
	switch a.Operation {
	case admission.Create:
		kind = "CreateOptions"
	case admission.Update:
		kind = "UpdateOptions"
	case admission.Delete:
		kind = "DeleteOptions"
	default:
		return nil
	}
	b, err := objectJSON(a.Options, metav1.SchemeGroupVersion.WithKind(kind))
	if err != nil {
		return nil
	}
	return b
}

func userInfo(a *admission.Attributes) authnv1.UserInfo {
	u := a.User
	if u == nil {
		return authnv1.UserInfo{}
	}
	out := authnv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		out.Extra = map[string]authnv1.ExtraValue{}
		for k, v := range u.Extra {
			out.Extra[k] = v
		}
	}
	return out
}

// newRequest builds the AdmissionRequest of a; object and old are the
// objects' JSON.
func newRequest(uid types.UID, a *admission.Attributes, object, old []byte) *admissionv1.AdmissionRequest {
	dry := a.DryRun
	kind := metav1.GroupVersionKind{Group: a.Kind.Group, Version: a.Kind.Version, Kind: a.Kind.Kind}
	res := metav1.GroupVersionResource{Group: a.Resource.Group, Version: a.Resource.Version, Resource: a.Resource.Resource}
	name := a.Name
	req := &admissionv1.AdmissionRequest{
		UID: uid, Kind: kind, Resource: res, SubResource: a.Subresource,
		RequestKind: &kind, RequestResource: &res, RequestSubResource: a.Subresource,
		Name: name, Namespace: a.Namespace, Operation: admissionv1.Operation(a.Operation),
		UserInfo: userInfo(a), DryRun: &dry,
	}
	if object != nil {
		req.Object.Raw = object
	}
	if old != nil {
		req.OldObject.Raw = old
	}
	if o := optionsJSON(a); o != nil {
		req.Options.Raw = o
	}
	return req
}

// reviewBody encodes the AdmissionReview to send in version ("v1" or "v1beta1"):
// both versions have the same fields.
func reviewBody(version string, req *admissionv1.AdmissionRequest) ([]byte, error) {
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/" + version, Kind: "AdmissionReview"},
		Request:  req,
	}
	return json.Marshal(&review)
}

// response is a webhook's answer, checked.
type response struct {
	allowed          bool
	result           *metav1.Status
	patch            []byte
	patchType        admissionv1.PatchType
	auditAnnotations map[string]string
	warnings         []string
}

// parseResponse reads and checks an AdmissionReview response, as upstream does:
// v1 answers must echo the request's uid and kind, and a patch comes with its
// type; v1beta1 answers are taken as they are.
func parseResponse(version string, uid types.UID, mutating bool, body []byte) (*response, error) {
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		return nil, fmt.Errorf("decode AdmissionReview: %w", err)
	}
	r := review.Response
	if r == nil {
		return nil, errors.New("webhook response was absent")
	}
	out := &response{allowed: r.Allowed, result: r.Result, auditAnnotations: r.AuditAnnotations, warnings: r.Warnings}
	if version == "v1beta1" {
		if mutating && len(r.Patch) > 0 {
			out.patch, out.patchType = r.Patch, admissionv1.PatchTypeJSONPatch
		}
		return out, nil
	}
	if r.UID != uid {
		return nil, fmt.Errorf("expected response.uid=%q, got %q", uid, r.UID)
	}
	if want := "admission.k8s.io/v1, Kind=AdmissionReview"; review.GroupVersionKind().String() != want {
		return nil, fmt.Errorf("expected webhook response of %s, got %s", want, review.GroupVersionKind().String())
	}
	if !mutating {
		if len(r.Patch) > 0 {
			return nil, errors.New("validating webhook may not return response.patch")
		}
		if r.PatchType != nil {
			return nil, errors.New("validating webhook may not return response.patchType")
		}
		return out, nil
	}
	if len(r.Patch) > 0 && r.PatchType == nil {
		return nil, errors.New("webhook returned response.patch but not response.patchType")
	}
	if len(r.Patch) == 0 && r.PatchType != nil {
		return nil, errors.New("webhook returned response.patchType but not response.patch")
	}
	if r.PatchType != nil {
		if *r.PatchType == "" {
			return nil, fmt.Errorf("webhook returned invalid response.patchType of %q", *r.PatchType)
		}
		out.patch, out.patchType = r.Patch, *r.PatchType
	}
	return out, nil
}
