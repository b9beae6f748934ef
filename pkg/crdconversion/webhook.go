// Package crdconversion converts custom resources between the versions of a
// CustomResourceDefinition whose conversion strategy is Webhook: the objects
// are sent in an apiextensions.k8s.io/v1 ConversionReview to the webhook the
// CRD names (a URL or a Service, verified with its caBundle) and the answer is
// checked as upstream checks it: same count, the desired apiVersion, the same
// kind, and no metadata changed but labels and annotations.
package crdconversion

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/pkg/servicecall"
)

// ServiceResolver finds the address of a Service's port (the aggregator's
// endpoint routing).
type ServiceResolver func(namespace, name string, port int32) (*url.URL, error)

// callTimeout bounds one ConversionReview, as upstream's webhook timeout.
const callTimeout = 30 * time.Second

// Webhook converts one CRD's objects.
type Webhook struct {
	kind     string
	url      *url.URL // fixed URL, or nil for a Service
	service  *apiextv1.ServiceReference
	resolve  ServiceResolver
	client   *http.Client
	versions []string
}

// New builds the converter of crd; nil when its strategy is not Webhook.
func New(crd *apiextv1.CustomResourceDefinition, resolve ServiceResolver) (*Webhook, error) {
	conv := crd.Spec.Conversion
	if conv == nil || conv.Strategy != apiextv1.WebhookConverter || conv.Webhook == nil || conv.Webhook.ClientConfig == nil {
		return nil, nil
	}
	cc := conv.Webhook.ClientConfig
	w := &Webhook{kind: crd.Spec.Names.Kind, service: cc.Service, resolve: resolve, versions: conv.Webhook.ConversionReviewVersions}
	target := servicecall.Target{CABundle: cc.CABundle}
	switch {
	case cc.URL != nil:
		u, err := url.Parse(*cc.URL)
		if err != nil {
			return nil, fmt.Errorf("conversion webhook URL of %s: %w", crd.Name, err)
		}
		w.url = u
	case cc.Service != nil:
		target.ServerName = servicecall.ServiceServerName(cc.Service.Name, cc.Service.Namespace)
	default:
		return nil, fmt.Errorf("conversion webhook of %s has neither url nor service", crd.Name)
	}
	rt, err := target.Transport()
	if err != nil {
		return nil, fmt.Errorf("conversion webhook of %s: %w", crd.Name, err)
	}
	w.client = &http.Client{Transport: rt, Timeout: callTimeout}
	return w, nil
}

// Close drops the webhook's idle connections.
func (w *Webhook) Close() { w.client.CloseIdleConnections() }

// endpoint is where the review is posted.
func (w *Webhook) endpoint() (*url.URL, error) {
	if w.url != nil {
		return w.url, nil
	}
	port := int32(443)
	if w.service.Port != nil {
		port = *w.service.Port
	}
	if w.resolve == nil {
		return nil, errors.New("no service resolver")
	}
	u, err := w.resolve(w.service.Namespace, w.service.Name, port)
	if err != nil {
		return nil, err
	}
	out := *u
	if w.service.Path != nil {
		out.Path = *w.service.Path
	}
	return &out, nil
}

// Convert returns objs in apiVersion. Objects already in it are not sent;
// the others go in one review. what names the converted thing in errors, as
// upstream's "conversion webhook for <gvk>".
func (w *Webhook) Convert(ctx context.Context, objs []*unstructured.Unstructured, apiVersion string, what schema.GroupVersionKind) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, len(objs))
	var send []runtime.RawExtension
	var idx []int
	for i, o := range objs {
		if o.GetAPIVersion() == apiVersion {
			out[i] = o
			continue
		}
		data, err := o.MarshalJSON()
		if err != nil {
			return nil, err
		}
		send = append(send, runtime.RawExtension{Raw: data})
		idx = append(idx, i)
	}
	if len(send) == 0 {
		return out, nil
	}
	converted, err := w.call(ctx, send, apiVersion)
	if err != nil {
		return nil, fmt.Errorf("conversion webhook for %v failed: %v", what, err)
	}
	if len(converted) != len(send) {
		return nil, fmt.Errorf("conversion webhook for %v returned %d objects, expected %d", what, len(converted), len(send))
	}
	for k, raw := range converted {
		in := objs[idx[k]]
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw.Raw); err != nil {
			return nil, fmt.Errorf("conversion webhook for %v returned invalid converted object at index %v: %v", what, k, err)
		}
		if u.GetAPIVersion() != apiVersion {
			return nil, fmt.Errorf("conversion webhook for %v returned invalid converted object at index %v: invalid groupVersion (expected %v, received %v)", what, k, apiVersion, u.GetAPIVersion())
		}
		if u.GetKind() != in.GetKind() {
			return nil, fmt.Errorf("conversion webhook for %v returned invalid converted object at index %v: invalid kind (expected %v, received %v)", what, k, in.GetKind(), u.GetKind())
		}
		if err := checkMetadata(in, u); err != nil {
			return nil, fmt.Errorf("conversion webhook for %v returned invalid metadata in object at index %v: %v", what, k, err)
		}
		// Only labels and annotations are the webhook's to change.
		merged := u.DeepCopy()
		meta, _ := in.Object["metadata"].(map[string]interface{})
		merged.Object["metadata"] = runtime.DeepCopyJSONValue(meta)
		merged.SetLabels(u.GetLabels())
		merged.SetAnnotations(u.GetAnnotations())
		out[idx[k]] = merged
	}
	return out, nil
}

// checkMetadata refuses a converted object that is not the same object.
func checkMetadata(in, out *unstructured.Unstructured) error {
	switch {
	case in.GetName() != out.GetName():
		return fmt.Errorf("must have the same name: %v != %v", in.GetName(), out.GetName())
	case in.GetNamespace() != out.GetNamespace():
		return fmt.Errorf("must have the same namespace: %v != %v", in.GetNamespace(), out.GetNamespace())
	case in.GetUID() != out.GetUID():
		return fmt.Errorf("must have the same UID: %v != %v", in.GetUID(), out.GetUID())
	}
	return nil
}

// call posts one ConversionReview and returns the converted objects.
func (w *Webhook) call(ctx context.Context, objs []runtime.RawExtension, apiVersion string) ([]runtime.RawExtension, error) {
	if !supportsV1(w.versions) {
		return nil, errors.New("no supported conversion review versions")
	}
	uid := types.UID(uuid.NewString())
	review := &apiextv1.ConversionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "ConversionReview"},
		Request:  &apiextv1.ConversionRequest{UID: uid, DesiredAPIVersion: apiVersion, Objects: objs},
	}
	body, err := json.Marshal(review)
	if err != nil {
		return nil, err
	}
	u, err := w.endpoint()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("the server responded with the status code %d but did not return more information", resp.StatusCode)
	}
	got := &apiextv1.ConversionReview{}
	if err := json.Unmarshal(data, got); err != nil {
		return nil, err
	}
	if got.APIVersion != "apiextensions.k8s.io/v1" || got.Kind != "ConversionReview" {
		return nil, fmt.Errorf("expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got %s, Kind=%s", got.APIVersion, got.Kind)
	}
	if got.Response == nil {
		return nil, errors.New("no response provided")
	}
	if got.Response.UID != uid {
		return nil, fmt.Errorf("expected response.uid=%q, got %q", uid, got.Response.UID)
	}
	if got.Response.Result.Status != metav1.StatusSuccess {
		if got.Response.Result.Message != "" {
			return nil, errors.New(got.Response.Result.Message)
		}
		return nil, fmt.Errorf("response.result.status was '%s', not 'Success'", got.Response.Result.Status)
	}
	return got.Response.ConvertedObjects, nil
}

func supportsV1(versions []string) bool {
	for _, v := range versions {
		if v == "v1" {
			return true
		}
	}
	return false
}
