package crdconversion

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// converter answers reviews by renaming spec.size to spec.length (v1 -> v2),
// and lets a test spoil the answer.
func converter(t *testing.T, spoil func(*apiextv1.ConversionReview)) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		review := &apiextv1.ConversionReview{}
		if err := json.NewDecoder(r.Body).Decode(review); err != nil {
			t.Errorf("decode review: %v", err)
			return
		}
		resp := &apiextv1.ConversionResponse{UID: review.Request.UID, Result: metav1.Status{Status: metav1.StatusSuccess}}
		for _, raw := range review.Request.Objects {
			u := &unstructured.Unstructured{}
			_ = u.UnmarshalJSON(raw.Raw)
			size, _, _ := unstructured.NestedInt64(u.Object, "spec", "size")
			unstructured.RemoveNestedField(u.Object, "spec", "size")
			_ = unstructured.SetNestedField(u.Object, size, "spec", "length")
			u.SetAPIVersion(review.Request.DesiredAPIVersion)
			u.SetLabels(map[string]string{"converted": "yes"})
			u.SetResourceVersion("999") // not the webhook's to change: restored
			data, _ := u.MarshalJSON()
			resp.ConvertedObjects = append(resp.ConvertedObjects, runtime.RawExtension{Raw: data})
		}
		out := &apiextv1.ConversionReview{TypeMeta: review.TypeMeta, Response: resp}
		if spoil != nil {
			spoil(out)
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func crd(srv *httptest.Server, viaService bool) *apiextv1.CustomResourceDefinition {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cc := &apiextv1.WebhookClientConfig{CABundle: ca}
	if viaService {
		cc.Service = &apiextv1.ServiceReference{Namespace: "conv", Name: "webhook", Path: ptr.To("/convert"), Port: ptr.To[int32](443)}
	} else {
		cc.URL = ptr.To(srv.URL + "/convert")
	}
	return &apiextv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "gadgets.e2e.example.com"},
		Spec: apiextv1.CustomResourceDefinitionSpec{Group: "e2e.example.com", Names: apiextv1.CustomResourceDefinitionNames{Kind: "Gadget"},
			Conversion: &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter,
				Webhook: &apiextv1.WebhookConversion{ClientConfig: cc, ConversionReviewVersions: []string{"v1"}}}},
	}
}

func gadget(apiVersion, name string, size int64) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{"apiVersion": apiVersion, "kind": "Gadget",
		"metadata": map[string]interface{}{"name": name, "namespace": "default", "uid": "u-" + name, "resourceVersion": "5"},
		"spec":     map[string]interface{}{"size": size}}}
	return u
}

var from = schema.GroupVersionKind{Group: "e2e.example.com", Version: "v1", Kind: "Gadget"}

func TestConvertSendsOnlyObjectsInOtherVersions(t *testing.T) {
	srv := converter(t, nil)
	w, err := New(crd(srv, false), nil)
	if err != nil {
		t.Fatal(err)
	}
	in := []*unstructured.Unstructured{gadget("e2e.example.com/v1", "a", 3), gadget("e2e.example.com/v2", "b", 0)}
	out, err := w.Convert(t.Context(), in, "e2e.example.com/v2", from)
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := unstructured.NestedInt64(out[0].Object, "spec", "length"); n != 3 || out[0].GetAPIVersion() != "e2e.example.com/v2" {
		t.Errorf("converted = %v", out[0].Object)
	}
	if out[0].GetLabels()["converted"] != "yes" || out[0].GetResourceVersion() != "5" {
		t.Errorf("metadata: labels %v, resourceVersion %q (want the webhook's labels and the original resourceVersion)", out[0].GetLabels(), out[0].GetResourceVersion())
	}
	if out[1] != in[1] {
		t.Errorf("an object already in the version was sent")
	}
}

func TestConvertReachesAServiceThroughTheResolver(t *testing.T) {
	srv := converter(t, nil)
	u, _ := url.Parse(srv.URL)
	var asked string
	resolve := func(ns, name string, port int32) (*url.URL, error) {
		asked = ns + "/" + name
		return &url.URL{Scheme: "https", Host: u.Host}, nil
	}
	c := crd(srv, true)
	// httptest's certificate names example.com, not webhook.conv.svc.
	w, err := New(c, resolve)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Convert(t.Context(), []*unstructured.Unstructured{gadget("e2e.example.com/v1", "a", 3)}, "e2e.example.com/v2", from)
	if asked != "conv/webhook" || err == nil || !strings.Contains(err.Error(), "webhook.conv.svc") {
		t.Fatalf("asked %q, err %v: want the name webhook.conv.svc checked", asked, err)
	}
}

func TestConvertReportsUpstreamsErrors(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(*apiextv1.ConversionReview)
		want  string
	}{
		{"a failed result carries the webhook's message", func(r *apiextv1.ConversionReview) {
			r.Response.Result = metav1.Status{Status: metav1.StatusFailure, Message: "cannot convert gadgets"}
		}, "conversion webhook for e2e.example.com/v1, Kind=Gadget failed: cannot convert gadgets"},
		{"a wrong uid is refused", func(r *apiextv1.ConversionReview) { r.Response.UID = "other" },
			`failed: expected response.uid=`},
		{"a missing object is refused", func(r *apiextv1.ConversionReview) { r.Response.ConvertedObjects = nil },
			"conversion webhook for e2e.example.com/v1, Kind=Gadget returned 0 objects, expected 1"},
		{"an object in the wrong version is refused", func(r *apiextv1.ConversionReview) {
			r.Response.ConvertedObjects[0].Raw = []byte(`{"apiVersion":"e2e.example.com/v1","kind":"Gadget","metadata":{"name":"a","namespace":"default","uid":"u-a"}}`)
		}, "returned invalid converted object at index 0: invalid groupVersion (expected e2e.example.com/v2, received e2e.example.com/v1)"},
		{"a renamed object is refused", func(r *apiextv1.ConversionReview) {
			r.Response.ConvertedObjects[0].Raw = []byte(`{"apiVersion":"e2e.example.com/v2","kind":"Gadget","metadata":{"name":"z","namespace":"default","uid":"u-a"}}`)
		}, "returned invalid metadata in object at index 0: must have the same name: a != z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := New(crd(converter(t, c.spoil), false), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.Convert(t.Context(), []*unstructured.Unstructured{gadget("e2e.example.com/v1", "a", 3)}, "e2e.example.com/v2", from)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

func TestNewIgnoresOtherStrategies(t *testing.T) {
	w, err := New(&apiextv1.CustomResourceDefinition{Spec: apiextv1.CustomResourceDefinitionSpec{
		Conversion: &apiextv1.CustomResourceConversion{Strategy: apiextv1.NoneConverter}}}, nil)
	if w != nil || err != nil {
		t.Fatalf("got %v, %v", w, err)
	}
}
