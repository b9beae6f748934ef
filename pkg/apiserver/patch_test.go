package apiserver

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	jsonPatch      = "application/json-patch+json"
	mergePatch     = "application/merge-patch+json"
	strategicPatch = "application/strategic-merge-patch+json"
	applyPatch     = "application/apply-patch+yaml"
)

func patch(t *testing.T, path, contentType string, body string) reply {
	t.Helper()
	return call(t, "PATCH", path, body, "Content-Type", contentType)
}

func TestJSONPatch(t *testing.T) {
	name := uniqueName("jp")
	createCM(t, name, map[string]string{"a": "1"})
	path := cmPath + "/" + name

	out := &corev1.ConfigMap{}
	patch(t, path, jsonPatch, `[
		{"op":"add","path":"/data/b","value":"2"},
		{"op":"replace","path":"/data/a","value":"9"},
		{"op":"remove","path":"/metadata/labels/x"},
		{"op":"test","path":"/data/b","value":"2"}
	]`).must(t, http.StatusOK).into(t, out)
	if !reflect.DeepEqual(out.Data, map[string]string{"a": "9", "b": "2"}) || len(out.Labels) != 0 {
		t.Fatalf("patched to data %v labels %v", out.Data, out.Labels)
	}

	// A failing test operation changes nothing and is unprocessable.
	st := patch(t, path, jsonPatch, `[{"op":"test","path":"/data/a","value":"nope"},{"op":"remove","path":"/data/a"}]`).
		status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !strings.Contains(st.Message, "testing value /data/a failed") {
		t.Errorf("message %q", st.Message)
	}
	// So does removing what is not there.
	patch(t, path, jsonPatch, `[{"op":"remove","path":"/data/missing"}]`).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	got := &corev1.ConfigMap{}
	call(t, "GET", path, nil).must(t, http.StatusOK).into(t, got)
	if got.Data["a"] != "9" || got.ResourceVersion != out.ResourceVersion {
		t.Fatalf("failed patches changed the object: %+v", got)
	}

	patch(t, path, jsonPatch, `{"op":"add"}`).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	st = patch(t, path, jsonPatch, `[{"op":"replace","path":"/metadata/name","value":"other"}]`).
		status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if want := "the name of the object (other) does not match the name on the URL (" + name + ")"; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	patch(t, cmPath+"/missing-"+name, jsonPatch, `[{"op":"add","path":"/data/b","value":"2"}]`).
		status(t, http.StatusNotFound, metav1.StatusReasonNotFound)

	// Too many operations is too large a request.
	ops := strings.Repeat(`{"op":"test","path":"/data/a","value":"9"},`, 10001)
	patch(t, path, jsonPatch, "["+strings.TrimSuffix(ops, ",")+"]").
		status(t, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
}

func TestMergePatch(t *testing.T) {
	name := uniqueName("mp")
	cm := createCM(t, name, map[string]string{"a": "1", "b": "2"})
	path := cmPath + "/" + name

	out := &corev1.ConfigMap{}
	patch(t, path, mergePatch, `{"metadata":{"labels":{"x":null,"new":"yes"}},"data":{"a":null,"c":"3"}}`).
		must(t, http.StatusOK).into(t, out)
	if !reflect.DeepEqual(out.Data, map[string]string{"b": "2", "c": "3"}) || !reflect.DeepEqual(out.Labels, map[string]string{"new": "yes"}) {
		t.Fatalf("patched to data %v labels %v", out.Data, out.Labels)
	}

	// A patch carrying a resourceVersion is conditional on it.
	st := patch(t, path, mergePatch, `{"metadata":{"resourceVersion":"`+cm.ResourceVersion+`"},"data":{"d":"4"}}`).
		status(t, http.StatusConflict, metav1.StatusReasonConflict)
	if want := `Operation cannot be fulfilled on configmaps "` + name + `": the object has been modified; please apply your changes to the latest version and try again`; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	patch(t, path, mergePatch, `{"metadata":{"resourceVersion":"`+out.ResourceVersion+`"},"data":{"d":"4"}}`).must(t, http.StatusOK)

	patch(t, path, mergePatch, `{"data":`).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	// Refused by upstream's router, in its words, before the patch handler.
	st = patch(t, path, "application/xml", `<x/>`).status(t, http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType)
	if st.Message != "415: Unsupported Media Type" {
		t.Errorf("message %q", st.Message)
	}
}

func testDeployment(name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	one := int32(1)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "a", Image: "nginx:1", Env: []corev1.EnvVar{{Name: "X", Value: "1"}},
						Ports: []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}}},
					{Name: "b", Image: "busybox:1", Command: []string{"sleep", "3600"}},
				}},
			},
		},
	}
}

func containerSummary(cs []corev1.Container) map[string]string {
	out := map[string]string{}
	for _, c := range cs {
		var env []string
		for _, e := range c.Env {
			env = append(env, e.Name+"="+e.Value)
		}
		var ports []string
		for _, p := range c.Ports {
			ports = append(ports, p.Name+":"+itoa(int64(p.ContainerPort)))
		}
		out[c.Name] = c.Image + " env[" + strings.Join(env, ",") + "] ports[" + strings.Join(ports, ",") + "] cmd[" + strings.Join(c.Command, " ") + "]"
	}
	return out
}

// Strategic merge patches merge lists by their merge keys (containers by name, env
// by name, ports by containerPort) where a merge patch replaces them.
func TestStrategicMergePatchDeployment(t *testing.T) {
	name := uniqueName("smp")
	call(t, "POST", deployPath, testDeployment(name)).must(t, http.StatusCreated)
	path := deployPath + "/" + name
	get := func() map[string]string {
		d := &appsv1.Deployment{}
		call(t, "GET", path, nil).must(t, http.StatusOK).into(t, d)
		return containerSummary(d.Spec.Template.Spec.Containers)
	}

	patch(t, path, strategicPatch, `{"spec":{"template":{"spec":{"containers":[
		{"name":"a","env":[{"name":"Y","value":"2"}],"ports":[{"containerPort":80,"name":"http"},{"containerPort":443}]},
		{"name":"b","image":"busybox:2"}]}}}}`).must(t, http.StatusOK)
	want := map[string]string{
		"a": "nginx:1 env[Y=2,X=1] ports[http:80,:443] cmd[]",
		"b": "busybox:2 env[] ports[] cmd[sleep 3600]",
	}
	if got := get(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after strategic merge:\n got %v\nwant %v", got, want)
	}

	// Directives: delete one element of a merged list.
	patch(t, path, strategicPatch, `{"spec":{"template":{"spec":{"containers":[
		{"name":"a","env":[{"name":"X","$patch":"delete"}]},{"name":"b","$patch":"delete"}]}}}}`).must(t, http.StatusOK)
	want = map[string]string{"a": "nginx:1 env[Y=2] ports[http:80,:443] cmd[]"}
	if got := get(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after $patch: delete:\n got %v\nwant %v", got, want)
	}

	// A merge patch replaces the list.
	patch(t, path, mergePatch, `{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"redis:7"}]}}}}`).must(t, http.StatusOK)
	want = map[string]string{"c": "redis:7 env[] ports[] cmd[]"}
	if got := get(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after merge patch:\n got %v\nwant %v", got, want)
	}

	// Malformed directives are the client's fault.
	patch(t, path, strategicPatch, `{"spec":{"template":{"spec":{"containers":[{"name":"c","$patch":"bogus"}]}}}}`).
		status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	// And an invalid result is unprocessable, with the field at fault.
	st := patch(t, path, strategicPatch, `{"spec":{"replicas":-1}}`).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if st.Details == nil || len(st.Details.Causes) == 0 || st.Details.Causes[0].Field != "spec.replicas" {
		t.Fatalf("causes %+v, want spec.replicas", st.Details)
	}
}

// On a pod, where the spec is mostly immutable, a strategic patch changes one
// container's image and leaves the others.
func TestStrategicMergePatchPod(t *testing.T) {
	name := uniqueName("smp-pod")
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: testDeployment(name).Spec.Template.Spec}
	call(t, "POST", podPath, pod).must(t, http.StatusCreated)
	path := podPath + "/" + name
	out := &corev1.Pod{}
	patch(t, path, strategicPatch, `{"metadata":{"labels":{"tier":"web"}},"spec":{"containers":[{"name":"b","image":"busybox:2"}]}}`).
		must(t, http.StatusOK).into(t, out)
	got := containerSummary(out.Spec.Containers)
	if len(got) != 2 || !strings.HasPrefix(got["a"], "nginx:1 env[X=1]") || !strings.HasPrefix(got["b"], "busybox:2 ") || out.Labels["tier"] != "web" {
		t.Fatalf("patched pod: %v labels %v", got, out.Labels)
	}
	// The same change as a merge patch drops container a, which a pod forbids.
	st := patch(t, path, mergePatch, `{"spec":{"containers":[{"name":"b","image":"busybox:3"}]}}`).
		status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if st.Details == nil || st.Details.Kind != "Pod" || st.Details.Name != name || len(st.Details.Causes) == 0 {
		t.Fatalf("details %+v", st.Details)
	}
	if !strings.HasPrefix(st.Details.Causes[0].Field, "spec") {
		t.Errorf("cause field %q", st.Details.Causes[0].Field)
	}
}

func applyCM(t *testing.T, name, manager string, force bool, data string) reply {
	t.Helper()
	q := "?fieldManager=" + manager
	if force {
		q += "&force=true"
	}
	body := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n" + data
	return patch(t, cmPath+"/"+name+q, applyPatch, body)
}

func managers(cm *corev1.ConfigMap) map[string]string {
	out := map[string]string{}
	for _, m := range cm.ManagedFields {
		out[m.Manager] = string(m.Operation) + " " + string(m.FieldsV1.Raw)
	}
	return out
}

// Server-side apply: who set a field owns it; another manager changing it conflicts
// (409, upstream's message and causes) unless it forces.
func TestServerSideApply(t *testing.T) {
	name := uniqueName("ssa")
	out := &corev1.ConfigMap{}
	applyCM(t, name, "alice", false, "  a: \"1\"\n").must(t, http.StatusCreated).into(t, out)
	if m := managers(out); len(m) != 1 || m["alice"] != `Apply {"f:data":{"f:a":{}}}` {
		t.Fatalf("managed fields after create: %v", m)
	}

	st := applyCM(t, name, "bob", false, "  a: \"2\"\n").status(t, http.StatusConflict, metav1.StatusReasonConflict)
	if want := `Apply failed with 1 conflict: conflict with "alice": .data.a`; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	wantCauses := []metav1.StatusCause{{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "alice"`, Field: ".data.a"}}
	if st.Details == nil || !reflect.DeepEqual(st.Details.Causes, wantCauses) {
		t.Errorf("details %+v, want causes %+v", st.Details, wantCauses)
	}

	// Applying the same value shares ownership; a new field is bob's alone.
	applyCM(t, name, "bob", false, "  a: \"1\"\n  b: \"1\"\n").must(t, http.StatusOK)
	// Alice stops applying a: bob still owns it, so it stays; c is hers.
	out = &corev1.ConfigMap{}
	applyCM(t, name, "alice", false, "  c: \"1\"\n").must(t, http.StatusOK).into(t, out)
	if !reflect.DeepEqual(out.Data, map[string]string{"a": "1", "b": "1", "c": "1"}) {
		t.Fatalf("data %v", out.Data)
	}
	// Bob stops applying a too: nobody owns it, so it goes.
	out = &corev1.ConfigMap{}
	applyCM(t, name, "bob", false, "  b: \"1\"\n").must(t, http.StatusOK).into(t, out)
	if !reflect.DeepEqual(out.Data, map[string]string{"b": "1", "c": "1"}) {
		t.Fatalf("data %v after its last applier dropped a", out.Data)
	}

	// An update through PUT makes its manager an owner too.
	out.Data["b"] = "edited"
	call(t, "PUT", cmPath+"/"+name+"?fieldManager=editor", out).must(t, http.StatusOK)
	st = applyCM(t, name, "bob", false, "  b: \"2\"\n").status(t, http.StatusConflict, metav1.StatusReasonConflict)
	if want := `Apply failed with 1 conflict: conflict with "editor" using v1: .data.b`; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	// Forcing takes the field over.
	out = &corev1.ConfigMap{}
	applyCM(t, name, "bob", true, "  b: \"2\"\n").must(t, http.StatusOK).into(t, out)
	if out.Data["b"] != "2" {
		t.Fatalf("forced apply left b=%q", out.Data["b"])
	}
	if m := managers(out); strings.Contains(m["editor"], "f:b") || !strings.Contains(m["bob"], "f:b") {
		t.Fatalf("after force: %v", m)
	}

	// Two conflicts are listed by manager.
	applyCM(t, name, "carol", false, "  b: \"3\"\n  c: \"3\"\n").status(t, http.StatusConflict, metav1.StatusReasonConflict)

	st = patch(t, cmPath+"/"+name, applyPatch, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "+name+"\n").
		status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if want := `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	st = patch(t, cmPath+"/"+name+"?force=true", mergePatch, `{}`).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if want := `PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch`; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	applyCM(t, name+"-other", "alice", false, "  a: \"1\"\n").must(t, http.StatusCreated)
	st = patch(t, cmPath+"/"+name+"?fieldManager=x", applyPatch, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wrong\n").
		status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if !strings.Contains(st.Message, "does not match the name on the URL") {
		t.Errorf("message %q", st.Message)
	}
}

func TestServerSideApplyMultipleConflicts(t *testing.T) {
	name := uniqueName("ssa2")
	applyCM(t, name, "alice", false, "  a: \"1\"\n  b: \"1\"\n").must(t, http.StatusCreated)
	st := applyCM(t, name, "bob", false, "  a: \"2\"\n  b: \"2\"\n").status(t, http.StatusConflict, metav1.StatusReasonConflict)
	want := "Apply failed with 2 conflicts: conflicts with \"alice\":\n- .data.a\n- .data.b"
	if st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	if st.Details == nil || len(st.Details.Causes) != 2 {
		t.Errorf("details %+v", st.Details)
	}
}

// A patch whose result is not an object of the resource's type is upstream's 422
// Invalid, caused by "patch", in each patch type; the object is unchanged.
func TestPatchToTheWrongShapeIsInvalid(t *testing.T) {
	name := uniqueName("shape")
	createCM(t, name, map[string]string{"a": "1"})
	path := cmPath + "/" + name
	cases := []struct {
		name, contentType, patch, query string
		wantValue, wantMessage          string
	}{
		{name: "a strategic merge patch names the patch and the converter's complaint", contentType: strategicPatch,
			patch: `{"metadata":{"labels":"invalid"}}`, wantValue: "map[metadata:map[labels:invalid]]",
			wantMessage: "cannot restore map from string"},
		{name: "a merge patch names the patched object and the decoder's complaint", contentType: mergePatch,
			patch: `{"metadata":{"labels":"invalid"}}`, wantValue: `"labels":"invalid"`,
			wantMessage: "json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string"},
		{name: "a JSON patch names the patched object and the decoder's complaint", contentType: jsonPatch,
			patch: `[{"op":"replace","path":"/data","value":"invalid"}]`, wantValue: `"data":"invalid"`,
			wantMessage: "json: cannot unmarshal string into Go struct field ConfigMap.data of type map[string]string"},
		{name: "a strict merge patch that adds an unknown field is invalid too", contentType: mergePatch, query: "?fieldValidation=Strict",
			patch: `{"spec":{"x":1}}`, wantValue: `"spec":{"x":1}`, wantMessage: `strict decoding error: unknown field "spec"`},
		{name: "a strict strategic merge patch that adds an unknown field is invalid too", contentType: strategicPatch, query: "?fieldValidation=Strict",
			patch: `{"spec":{"x":1}}`, wantValue: "map[spec:map[x:1]]", wantMessage: `strict decoding error: unknown field "spec"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := patch(t, path+c.query, c.contentType, c.patch).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
			if st.Details == nil || st.Details.Kind != "" || st.Details.Name != "" || len(st.Details.Causes) != 1 {
				t.Fatalf("details %+v", st.Details)
			}
			cause := st.Details.Causes[0]
			if cause.Type != metav1.CauseTypeFieldValueInvalid || cause.Field != "patch" ||
				!strings.HasPrefix(cause.Message, "Invalid value: ") || !strings.Contains(cause.Message, strings.ReplaceAll(c.wantValue, `"`, `\"`)) ||
				!strings.HasSuffix(cause.Message, ": "+c.wantMessage) {
				t.Fatalf("cause %+v, want the value to hold %q and the message to end %q", cause, c.wantValue, c.wantMessage)
			}
			if want := ` "" is invalid: patch: ` + cause.Message; st.Message != want {
				t.Errorf("message %q, want %q", st.Message, want)
			}
		})
	}
	got := &corev1.ConfigMap{}
	call(t, "GET", path, nil).must(t, http.StatusOK).into(t, got)
	if !reflect.DeepEqual(got.Data, map[string]string{"a": "1"}) {
		t.Errorf("data %v after refused patches", got.Data)
	}
}
