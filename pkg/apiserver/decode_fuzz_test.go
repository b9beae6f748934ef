package apiserver

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// decodeFuzzResources are the resources FuzzDecodeObject decodes bodies for:
// core and group kinds, namespaced and cluster-scoped, with and without
// embedded templates, quantities and int-or-strings.
var decodeFuzzResources = []schema.GroupVersionResource{
	{Version: "v1", Resource: "configmaps"},
	{Version: "v1", Resource: "pods"},
	{Version: "v1", Resource: "services"},
	{Version: "v1", Resource: "namespaces"},
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "batch", Version: "v1", Resource: "cronjobs"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
}

// decodeFuzzMediaTypes are the Content-Types a fuzz input picks from; an index
// past the end sends the input's own string.
var decodeFuzzMediaTypes = []string{mediaJSON, mediaYAML, mediaProtobuf, "application/json; charset=utf-8", ""}

// FuzzDecodeObject decodes arbitrary bodies as the create and update handlers
// do. A refusal must be a 400 or 415 Status error; an accepted body must be an
// object of the resource's type whose encoding is a fixed point: encoding it,
// decoding that and encoding again gives the same bytes.
func FuzzDecodeObject(f *testing.F) {
	seeds := []struct {
		res, mt    uint8
		validation uint8
		body       string
	}{
		{0, 0, 0, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"y"}},"data":{"k":"v"},"binaryData":{"b":"AAE="}}`},
		{0, 0, 1, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"},"data":{"k":"w"},"bogus":1}`},
		{0, 0, 2, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","creationTimestamp":"2020-01-01T00:00:00.5Z"},"immutable":true}`},
		{0, 1, 0, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: |\n    multi\n    line\n"},
		{0, 1, 0, "a: &a [*a, *a]\nb: &b [*a, *a]\n"},
		{0, 0, 0, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","annotations":{"a":` + nested(200) + `}}}`},
		{0, 0, 0, `[[[[[[[[[[[[[[[[[[[[`},
		{0, 0, 0, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}`},
		{0, 0, 0, `{"apiVersion":"v2","kind":"ConfigMap"}`},
		{0, 0, 0, ``},
		{0, 0, 0, `null`},
		{0, 2, 0, "k8s\x00\x0a\x0c\x0a\x02v1\x12\x06Secret\x12\x00"},
		{0, 2, 0, "k8s\x00\x0a\x0f\x0a\x02v1\x12\x09ConfigMap\x12\x0a\x0a\x08\x0a\x01a\x12\x00\x1a\x00"},
		{0, 2, 0, "not protobuf"},
		{1, 0, 0, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i",
			"resources":{"limits":{"cpu":"1.5","memory":"1e3Mi"}},"ports":[{"containerPort":80}],
			"livenessProbe":{"httpGet":{"port":"http","path":"/"}}}],"activeDeadlineSeconds":1e3}}`},
		{1, 0, 0, `{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"resources":{"limits":{"cpu":"1e400"}}}]}}`},
		{1, 0, 0, `{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"resources":{"limits":{"cpu":1.5}}}]}}`},
		{1, 0, 0, `{"apiVersion":"v1","kind":"Pod","spec":{"terminationGracePeriodSeconds":"30","priority":9223372036854775808}}`},
		{2, 0, 0, `{"apiVersion":"v1","kind":"Service","spec":{"ports":[{"port":80,"targetPort":"web"},{"port":81,"targetPort":8080}],"clusterIP":"None"}}`},
		{3, 1, 0, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"\\xff\\xfe\"\n"},
		{4, 0, 0, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":3,"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}},
			"selector":{"matchExpressions":[{"key":"a","operator":"In","values":["b"]}]},"template":{"spec":{"containers":[{"name":"c"}]}}}}`},
		{5, 1, 0, "apiVersion: batch/v1\nkind: CronJob\nspec:\n  schedule: '*/1 * * * *'\n  jobTemplate:\n    spec:\n      backoffLimit: 2\n"},
		{6, 0, 0, `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","rules":[{"verbs":["*"],"apiGroups":[""],"resources":["pods"]}],"aggregationRule":{"clusterRoleSelectors":[{}]}}`},
		{7, 0, 0, `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","spec":{"ingress":[{"ports":[{"port":"80","endPort":90}],"from":[{"ipBlock":{"cidr":"10.0.0.0/8"}}]}]}}`},
		{0, 7, 0, `{"apiVersion":"v1","kind":"ConfigMap"}`},
	}
	for _, s := range seeds {
		ct := ""
		if int(s.mt) >= len(decodeFuzzMediaTypes) {
			ct = "text/plain"
		}
		f.Add(s.res, s.mt, ct, s.validation, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, resIndex, mtIndex uint8, ownType string, validation uint8, body []byte) {
		gvr := decodeFuzzResources[int(resIndex)%len(decodeFuzzResources)]
		res := testServer.cfg.Registry.Get(gvr)
		if res == nil {
			t.Fatalf("%s is not served", gvr)
		}
		ct := ownType
		if int(mtIndex) < len(decodeFuzzMediaTypes) {
			ct = decodeFuzzMediaTypes[mtIndex]
		}
		query := url.Values{"fieldValidation": {[]string{"Strict", "Warn", "Ignore"}[int(validation)%3]}}
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/", RawQuery: query.Encode()}, Header: http.Header{}}
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		q := &request{s: testServer, w: httptest.NewRecorder(), r: r, res: res, query: query,
			info: requestInfo{IsResource: true, Verb: "create", Group: gvr.Group, Version: gvr.Version, Resource: gvr.Resource}}
		obj, err := q.decodeObject(body)
		if err != nil {
			var se apierrors.APIStatus
			if !errors.As(err, &se) {
				t.Fatalf("decode error is not an API status: %T %v", err, err)
			}
			if c := se.Status().Code; c != http.StatusBadRequest && c != http.StatusUnsupportedMediaType {
				t.Fatalf("decode error has code %d, want 400 or 415: %v", c, err)
			}
			return
		}
		if reflect.TypeOf(obj) != reflect.TypeOf(res.New()) {
			t.Fatalf("decoded a %T for %s", obj, gvr)
		}
		info, err := inputSerializer(r)
		if err != nil {
			t.Fatalf("decoded a body whose Content-Type %q has no serializer: %v", ct, err)
		}
		obj.GetObjectKind().SetGroupVersionKind(res.GroupVersionKind())
		first := encodeFuzz(t, info, obj)
		gvk := res.GroupVersionKind()
		again, _, err := info.Serializer.Decode(first, &gvk, res.New())
		if err != nil {
			t.Fatalf("the encoding of a decoded %s does not decode: %v\n%q", gvk.Kind, err, first)
		}
		again.GetObjectKind().SetGroupVersionKind(gvk)
		if second := encodeFuzz(t, info, again); !bytes.Equal(first, second) {
			t.Fatalf("encoding is not stable:\n%q\n%q", first, second)
		}
	})
}

func encodeFuzz(t *testing.T, info runtime.SerializerInfo, obj runtime.Object) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := info.Serializer.Encode(obj, &buf); err != nil {
		t.Fatalf("encode a decoded %T: %v", obj, err)
	}
	return buf.Bytes()
}

// nested is depth levels of nested JSON objects.
func nested(depth int) string {
	var b bytes.Buffer
	for i := 0; i < depth; i++ {
		b.WriteString(`{"a":`)
	}
	b.WriteString(`"x"`)
	for i := 0; i < depth; i++ {
		b.WriteString(`}`)
	}
	return b.String()
}
