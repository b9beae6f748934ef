package apiserver

import (
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func causes(st *metav1.Status) map[string]metav1.CauseType {
	out := map[string]metav1.CauseType{}
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			out[c.Field] = c.Type
		}
	}
	return out
}

const dns1123Message = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

func TestInvalidNameIs422WithCause(t *testing.T) {
	st := call(t, "POST", cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}`).
		status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if want := `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ` + dns1123Message; st.Message != want {
		t.Errorf("message\n %q\nwant\n %q", st.Message, want)
	}
	want := &metav1.StatusDetails{Name: "Bad_Name", Kind: "ConfigMap", Causes: []metav1.StatusCause{{
		Type: metav1.CauseTypeFieldValueInvalid, Field: "metadata.name", Message: `Invalid value: "Bad_Name": ` + dns1123Message}}}
	if !reflect.DeepEqual(st.Details, want) {
		t.Errorf("details\n %+v\nwant\n %+v", st.Details, want)
	}

	st = call(t, "POST", cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}`).
		status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if want := `ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required`; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	if c := causes(st); c["metadata.name"] != metav1.CauseTypeFieldValueRequired {
		t.Errorf("causes %v", c)
	}
}

// Every problem of a pod is reported, each at its field path.
func TestPodValidationCauses(t *testing.T) {
	body := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad-pod"},"spec":{"restartPolicy":"Sometimes",
		"containers":[{"name":"a","image":""},{"name":"a","image":"x","ports":[{"containerPort":70000}]}]}}`
	st := call(t, "POST", podPath, body).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if st.Details == nil || st.Details.Kind != "Pod" || st.Details.Name != "bad-pod" || st.Details.Group != "" {
		t.Fatalf("details %+v", st.Details)
	}
	got := causes(st)
	for field, typ := range map[string]metav1.CauseType{
		"spec.restartPolicy":                        metav1.CauseTypeFieldValueNotSupported,
		"spec.containers[0].image":                  metav1.CauseTypeFieldValueRequired,
		"spec.containers[1].name":                   metav1.CauseTypeFieldValueDuplicate,
		"spec.containers[1].ports[0].containerPort": metav1.CauseTypeFieldValueInvalid,
	} {
		if got[field] != typ {
			t.Errorf("cause at %s is %q, want %q (all: %v)", field, got[field], typ, got)
		}
	}
	if !strings.HasPrefix(st.Message, `Pod "bad-pod" is invalid: [`) {
		t.Errorf("message %q, want upstream's list form", st.Message)
	}
	// Nothing was stored.
	call(t, "GET", podPath+"/bad-pod", nil).status(t, http.StatusNotFound, metav1.StatusReasonNotFound)
}

func TestGenerateName(t *testing.T) {
	out := &corev1.ConfigMap{}
	call(t, "POST", cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"web-"}}`).
		must(t, http.StatusCreated).into(t, out)
	if !strings.HasPrefix(out.Name, "web-") || len(out.Name) != len("web-")+5 || out.GenerateName != "web-" {
		t.Fatalf("generated name %q from %q", out.Name, out.GenerateName)
	}
	again := &corev1.ConfigMap{}
	call(t, "POST", cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"web-"}}`).
		must(t, http.StatusCreated).into(t, again)
	if again.Name == out.Name {
		t.Fatalf("two objects generated the same name %q", out.Name)
	}
	// A long prefix is cut so that the generated name has at most 63 characters.
	long := strings.Repeat("a", 70)
	out = &corev1.ConfigMap{}
	call(t, "POST", cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"`+long+`"}}`).
		must(t, http.StatusCreated).into(t, out)
	if len(out.Name) != 63 || !strings.HasPrefix(out.Name, long[:58]) {
		t.Fatalf("generated name %q (%d characters)", out.Name, len(out.Name))
	}
	// The prefix itself must be valid for the resource's names: a Service name is a
	// DNS label, at most 63 characters.
	st := call(t, "POST", svcPath, `{"apiVersion":"v1","kind":"Service","metadata":{"generateName":"`+long+`"},"spec":{"ports":[{"port":80}]}}`).
		status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if c := causes(st); c["metadata.generateName"] != metav1.CauseTypeFieldValueInvalid {
		t.Errorf("causes %v, want metadata.generateName", c)
	}
	// The name is not generated when one is given.
	out = &corev1.ConfigMap{}
	given := uniqueName("given")
	call(t, "POST", cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+given+`","generateName":"web-"}}`).
		must(t, http.StatusCreated).into(t, out)
	if out.Name != given {
		t.Fatalf("name %q", out.Name)
	}
	// An invalid prefix is reported at metadata.generateName.
	st = call(t, "POST", cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"Web_"}}`).
		status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if c := causes(st); c["metadata.generateName"] != metav1.CauseTypeFieldValueInvalid {
		t.Errorf("causes %v, want metadata.generateName", c)
	}
}

func TestCreateConflictsAndMismatches(t *testing.T) {
	name := uniqueName("dup")
	createCM(t, name, nil)
	st := call(t, "POST", cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+name+`"}}`).
		status(t, http.StatusConflict, metav1.StatusReasonAlreadyExists)
	if want := `configmaps "` + name + `" already exists`; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	st = call(t, "POST", cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"other"}}`).
		status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if want := "the namespace of the provided object does not match the namespace sent on the request"; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	st = call(t, "POST", cmPath, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}`).
		status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if !strings.Contains(st.Message, "Secret") {
		t.Errorf("message %q", st.Message)
	}
	call(t, "POST", "/api/v1/namespaces/missing-ns/configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`).
		status(t, http.StatusNotFound, metav1.StatusReasonNotFound)
}

// PUT with a stale resourceVersion is a 409; with the current one it succeeds.
func TestUpdateOptimisticConcurrency(t *testing.T) {
	name := uniqueName("occ")
	cm := createCM(t, name, map[string]string{"a": "1"})
	path := cmPath + "/" + name
	first := cm.DeepCopy()
	cm.Data["a"] = "2"
	updated := &corev1.ConfigMap{}
	call(t, "PUT", path, cm).must(t, http.StatusOK).into(t, updated)
	if updated.ResourceVersion == first.ResourceVersion {
		t.Fatal("update did not change the resourceVersion")
	}
	first.Data["a"] = "3"
	st := call(t, "PUT", path, first).status(t, http.StatusConflict, metav1.StatusReasonConflict)
	if want := `Operation cannot be fulfilled on configmaps "` + name + `": the object has been modified; please apply your changes to the latest version and try again`; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	if st.Details == nil || st.Details.Name != name || st.Details.Kind != "configmaps" {
		t.Errorf("details %+v", st.Details)
	}
	// Back-to-back updates, each with the resourceVersion the last one returned.
	for i := 0; i < 20; i++ {
		updated.Data["a"] = itoa(int64(i))
		next := &corev1.ConfigMap{}
		call(t, "PUT", path, updated).must(t, http.StatusOK).into(t, next)
		updated = next
	}
	// The name in the body must match the URL.
	updated.Name = "other"
	call(t, "PUT", path, updated).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)

	// Deletion preconditions.
	st = call(t, "DELETE", path, `{"preconditions":{"resourceVersion":"`+first.ResourceVersion+`"}}`).
		status(t, http.StatusConflict, metav1.StatusReasonConflict)
	if want := `Operation cannot be fulfilled on configmaps "` + name + `": Precondition failed: ResourceVersion in precondition: ` +
		first.ResourceVersion + `, ResourceVersion in object meta: ` + updated.ResourceVersion; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	call(t, "DELETE", path, `{"preconditions":{"uid":"not-the-uid"}}`).status(t, http.StatusConflict, metav1.StatusReasonConflict)
	call(t, "DELETE", path, `{"preconditions":{"uid":"`+string(first.UID)+`","resourceVersion":"`+updated.ResourceVersion+`"}}`).
		must(t, http.StatusOK)
	call(t, "GET", path, nil).status(t, http.StatusNotFound, metav1.StatusReasonNotFound)
}

func TestFieldValidation(t *testing.T) {
	body := func(name string) string {
		return `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `","bogus":1},"data":{"a":"1"},"unknownTop":true}`
	}
	// Strict: unknown fields fail the request with upstream's message.
	st := call(t, "POST", cmPath+"?fieldValidation=Strict", body("fv-strict")).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if want := `ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.bogus", unknown field "unknownTop"`; st.Message != want {
		t.Errorf("message\n %q\nwant\n %q", st.Message, want)
	}
	call(t, "GET", cmPath+"/fv-strict", nil).must(t, http.StatusNotFound)

	// Warn (the default): created, with a warning per unknown field.
	for _, q := range []string{"?fieldValidation=Warn", ""} {
		name := uniqueName("fv-warn")
		r := call(t, "POST", cmPath+q, body(name)).must(t, http.StatusCreated)
		if got, want := r.warnings(t), []string{`unknown field "metadata.bogus"`, `unknown field "unknownTop"`}; !reflect.DeepEqual(got, want) {
			t.Errorf("%q: warnings %q, want %q", q, got, want)
		}
	}
	// Ignore: created silently.
	r := call(t, "POST", cmPath+"?fieldValidation=Ignore", body(uniqueName("fv-ignore"))).must(t, http.StatusCreated)
	if w := r.warnings(t); len(w) != 0 {
		t.Errorf("ignore gave warnings %q", w)
	}
	st = call(t, "POST", cmPath+"?fieldValidation=Sometimes", body("fv-bad")).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if want := `CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Sometimes": supported values: "", "Ignore", "Strict", "Warn"`; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}

	// Duplicate fields count as well.
	st = call(t, "POST", cmPath+"?fieldValidation=Strict", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fv-dup"},"data":{"a":"1"},"data":{"b":"2"}}`).
		status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if !strings.HasSuffix(st.Message, `strict decoding error: duplicate field "data"`) {
		t.Errorf("message %q", st.Message)
	}

	// Patches: what the patch adds is checked the same way.
	name := uniqueName("fv-patch")
	createCM(t, name, nil)
	path := cmPath + "/" + name
	st = call(t, "PATCH", path+"?fieldValidation=Strict", `{"spec":{"x":1}}`, "Content-Type", mergePatch).
		status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !strings.Contains(st.Message, `strict decoding error: unknown field "spec"`) {
		t.Errorf("message %q", st.Message)
	}
	r = call(t, "PATCH", path, `{"spec":{"x":1}}`, "Content-Type", mergePatch).must(t, http.StatusOK)
	if w := r.warnings(t); !reflect.DeepEqual(w, []string{`unknown field "spec"`}) {
		t.Errorf("merge patch warnings %q", w)
	}
	r = call(t, "PATCH", path+"?fieldValidation=Ignore", `{"spec":{"x":1}}`, "Content-Type", mergePatch).must(t, http.StatusOK)
	if w := r.warnings(t); len(w) != 0 {
		t.Errorf("ignored merge patch warnings %q", w)
	}
	apply := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\nspec:\n  x: 1\n"
	st = call(t, "PATCH", path+"?fieldManager=m&fieldValidation=Strict", apply, "Content-Type", applyPatch).
		status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if !strings.Contains(st.Message, `unknown field "spec"`) {
		t.Errorf("message %q", st.Message)
	}
	// Apply cannot drop what the schema lacks, whatever the validation (upstream
	// answers 500, soon 400): the request fails, naming the field.
	r = call(t, "PATCH", path+"?fieldManager=m", apply, "Content-Type", applyPatch)
	if r.code != http.StatusBadRequest && r.code != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), ".spec: field not declared in schema") {
		t.Errorf("apply with an unknown field: %s", r)
	}
}

// Bodies over the limit are refused with 413, whether or not they say their length.
func TestRequestBodyLimit(t *testing.T) {
	big := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"` + strings.Repeat("x", maxBody) + `"}}`
	st := call(t, "POST", cmPath, big).status(t, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
	if want := "Request entity too large: limit is 1048576"; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	// Chunked: no Content-Length, so the limit is found while reading.
	call(t, "POST", cmPath, io.MultiReader(bytes.NewReader([]byte(big))), "Content-Type", "application/json").
		status(t, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
	name := uniqueName("limit")
	createCM(t, name, nil)
	call(t, "PUT", cmPath+"/"+name, strings.Replace(big, `"big"`, `"`+name+`"`, 1)).
		status(t, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
	call(t, "PATCH", cmPath+"/"+name, `{"data":{"a":"`+strings.Repeat("x", maxBody)+`"}}`, "Content-Type", mergePatch).
		status(t, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
	call(t, "GET", cmPath+"/big", nil).must(t, http.StatusNotFound)
	// Just under the limit is fine.
	ok := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + uniqueName("fits") + `"},"data":{"a":"` + strings.Repeat("x", maxBody-200) + `"}}`
	call(t, "POST", cmPath, ok).must(t, http.StatusCreated)
	call(t, "POST", cmPath, "").status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
}
