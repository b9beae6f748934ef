package apiserver

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	vapPolicyPath  = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies"
	vapBindingPath = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings"
)

// vapNamespace creates a namespace labelled for the test's policies and returns
// its name; everything the test's policies select lives there.
func vapNamespace(t *testing.T) string {
	t.Helper()
	ns := uniqueName("vap")
	call(t, "POST", "/api/v1/namespaces", fmt.Sprintf(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":%q,"labels":{%q:"true"}}}`, ns, ns)).
		must(t, http.StatusCreated)
	t.Cleanup(func() { call(t, "DELETE", "/api/v1/namespaces/"+ns, nil) })
	return ns
}

// vapInstall creates a policy (spec JSON without matchConstraints' namespace
// selector, which is added) and its binding, removing both when the test ends.
func vapInstall(t *testing.T, ns, policySpec, bindingSpec string) (policy, binding string) {
	t.Helper()
	policy, binding = ns+"-policy", ns+"-binding"
	call(t, "POST", vapPolicyPath, fmt.Sprintf(`{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy",
		"metadata":{"name":%q},"spec":%s}`, policy, policySpec)).must(t, http.StatusCreated)
	t.Cleanup(func() { call(t, "DELETE", vapPolicyPath+"/"+policy, nil) })
	if bindingSpec == "" {
		bindingSpec = fmt.Sprintf(`{"policyName":%q,"validationActions":["Deny"],
			"matchResources":{"namespaceSelector":{"matchLabels":{%q:"true"}}}}`, policy, ns)
	}
	call(t, "POST", vapBindingPath, fmt.Sprintf(`{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicyBinding",
		"metadata":{"name":%q},"spec":%s}`, binding, bindingSpec)).must(t, http.StatusCreated)
	t.Cleanup(func() { call(t, "DELETE", vapBindingPath+"/"+binding, nil) })
	return policy, binding
}

// vapRules is matchConstraints selecting configmaps in the test's namespace.
func vapRules(ns, ops string) string {
	return fmt.Sprintf(`{"namespaceSelector":{"matchLabels":{%q:"true"}},
		"resourceRules":[{"apiGroups":[""],"apiVersions":["v1"],"resources":["configmaps"],"operations":[%s]}]}`, ns, ops)
}

func vapCM(name string, data string) string {
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q,"labels":{"app":"x"}},"data":%s}`, name, data)
}

// eventuallyReply repeats a request until check accepts the reply: policies take
// effect once the server's caches have them.
func eventuallyReply(t *testing.T, do func() reply, check func(reply) bool) reply {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := do()
		if check(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting; last reply %s", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestVAPDeniesWithUpstreamMessage(t *testing.T) {
	ns := vapNamespace(t)
	path := "/api/v1/namespaces/" + ns + "/configmaps"
	policy, binding := vapInstall(t, ns, fmt.Sprintf(`{"matchConstraints":%s,"validations":[
		{"expression":"int(object.data.size) > 1","messageExpression":"'wants size > 1, got ' + object.data.size"},
		{"expression":"namespaceObject.metadata.name == '%s'","message":"wrong namespace"}]}`, vapRules(ns, `"CREATE","UPDATE"`), ns), "")

	r := eventuallyReply(t, func() reply { return call(t, "POST", path, vapCM("small", `{"size":"1"}`)) },
		func(r reply) bool {
			return r.code != http.StatusCreated || call(t, "DELETE", path+"/small", nil).code < 0
		})
	st := r.status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	want := fmt.Sprintf(`configmaps "small" is forbidden: ValidatingAdmissionPolicy '%s' with binding '%s' denied request: wants size > 1, got 1`, policy, binding)
	if st.Message != want {
		t.Errorf("message\n %q\nwant\n %q", st.Message, want)
	}
	if st.Details == nil || len(st.Details.Causes) != 1 || !strings.HasPrefix(st.Details.Causes[0].Message, "ValidatingAdmissionPolicy '") {
		t.Errorf("details %+v", st.Details)
	}
	call(t, "POST", path, vapCM("big", `{"size":"2"}`)).must(t, http.StatusCreated)
	// Updates are checked too, with the new object.
	call(t, "PUT", path+"/big", vapCM("big", `{"size":"0"}`)).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	// Another namespace is not selected.
	call(t, "POST", cmPath, vapCM(uniqueName("elsewhere"), `{"size":"0"}`)).must(t, http.StatusCreated)
	// Other resources are not selected.
	call(t, "POST", "/api/v1/namespaces/"+ns+"/secrets", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}`).must(t, http.StatusCreated)
}

func TestVAPVariablesReasonAndMatchConditions(t *testing.T) {
	ns := vapNamespace(t)
	path := "/api/v1/namespaces/" + ns + "/configmaps"
	vapInstall(t, ns, fmt.Sprintf(`{"matchConstraints":%s,
		"matchConditions":[{"name":"not-skipped","expression":"!has(object.metadata.annotations) || !('skip' in object.metadata.annotations)"}],
		"variables":[{"name":"n","expression":"int(object.data.n)"},{"name":"odd","expression":"variables.n %% 2 == 1"}],
		"validations":[{"expression":"variables.n > 1","reason":"Forbidden"},{"expression":"variables.odd"}]}`, vapRules(ns, `"*"`)), "")

	r := eventuallyReply(t, func() reply { return call(t, "POST", path, vapCM("one", `{"n":"1"}`)) },
		func(r reply) bool {
			return r.code != http.StatusCreated || call(t, "DELETE", path+"/one", nil).code < 0
		})
	st := r.status(t, http.StatusForbidden, metav1.StatusReasonForbidden)
	if !strings.HasSuffix(st.Message, "denied request: failed expression: variables.n > 1") {
		t.Errorf("message %q", st.Message)
	}
	st = call(t, "POST", path, vapCM("two", `{"n":"2"}`)).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !strings.HasSuffix(st.Message, "failed expression: variables.odd") {
		t.Errorf("message %q", st.Message)
	}
	call(t, "POST", path, vapCM("three", `{"n":"3"}`)).must(t, http.StatusCreated)
	call(t, "POST", path, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"skipped","annotations":{"skip":""}},"data":{"n":"2"}}`).
		must(t, http.StatusCreated)
	// An evaluation error fails closed under the default failurePolicy.
	st = call(t, "POST", path, vapCM("none", `{}`)).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !strings.Contains(st.Message, "denied request: ") {
		t.Errorf("message %q", st.Message)
	}
}

func TestVAPWarnIgnoreAndDelete(t *testing.T) {
	ns := vapNamespace(t)
	path := "/api/v1/namespaces/" + ns + "/configmaps"
	policy, binding := vapInstall(t, ns, fmt.Sprintf(`{"failurePolicy":"Ignore","matchConstraints":%s,
		"validations":[{"expression":"object.data.ok == 'yes'","message":"not ok"}]}`, vapRules(ns, `"CREATE","UPDATE"`)),
		fmt.Sprintf(`{"policyName":%q,"validationActions":["Warn","Audit"],"matchResources":{"namespaceSelector":{"matchLabels":{%q:"true"}},
			"objectSelector":{"matchLabels":{"app":"x"}}}}`, ns+"-policy", ns))
	want := fmt.Sprintf("Validation failed for ValidatingAdmissionPolicy '%s' with binding '%s': not ok", policy, binding)
	var n int
	r := eventuallyReply(t, func() reply {
		n++
		return call(t, "POST", path, vapCM(fmt.Sprintf("w%d", n), `{"ok":"no"}`))
	}, func(r reply) bool { return r.code == http.StatusCreated && len(r.warnings(t)) > 0 })
	if w := r.warnings(t); len(w) != 1 || w[0] != want {
		t.Errorf("warnings %q, want %q", w, want)
	}
	// Patches are updates and warn too, once.
	r = call(t, "PATCH", path+"/w1", `{"metadata":{"annotations":{"a":"b"}}}`, "Content-Type", "application/merge-patch+json").
		must(t, http.StatusOK)
	if w := r.warnings(t); len(w) != 1 || w[0] != want {
		t.Errorf("patch warnings %q, want %q", w, want)
	}
	// An evaluation error (no such key) is ignored under failurePolicy Ignore.
	if r := call(t, "POST", path, vapCM("nokey", `{}`)).must(t, http.StatusCreated); len(r.warnings(t)) != 0 {
		t.Errorf("warnings %q", r.warnings(t))
	}

	// A policy on DELETE sees the object being deleted as oldObject.
	ns2 := vapNamespace(t)
	path2 := "/api/v1/namespaces/" + ns2 + "/configmaps"
	call(t, "POST", path2, vapCM("keep", `{"keep":"true"}`)).must(t, http.StatusCreated)
	call(t, "POST", path2, vapCM("drop", `{"x":"1"}`)).must(t, http.StatusCreated)
	vapInstall(t, ns2, fmt.Sprintf(`{"matchConstraints":%s,"validations":[
		{"expression":"object == null && request.operation == 'DELETE' && !has(oldObject.data.keep)","message":"kept"}]}`, vapRules(ns2, `"DELETE"`)), "")
	r = eventuallyReply(t, func() reply { return call(t, "DELETE", path2+"/keep", nil) },
		func(r reply) bool { return r.code != http.StatusOK })
	r.status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	call(t, "DELETE", path2+"/drop", nil).must(t, http.StatusOK)
}

func TestVAPParamsFromConfigMap(t *testing.T) {
	ns := vapNamespace(t)
	path := "/api/v1/namespaces/" + ns + "/configmaps"
	call(t, "POST", path, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"limits"},"data":{"max":"3"}}`).must(t, http.StatusCreated)
	policy := ns + "-policy"
	vapInstall(t, ns, fmt.Sprintf(`{"paramKind":{"apiVersion":"v1","kind":"ConfigMap"},"matchConstraints":%s,
		"validations":[{"expression":"size(object.data) <= int(params.data.max)","messageExpression":"'at most ' + params.data.max + ' keys'"}]}`,
		vapRules(ns, `"CREATE"`)),
		fmt.Sprintf(`{"policyName":%q,"validationActions":["Deny"],"paramRef":{"name":"limits","parameterNotFoundAction":"Deny"},
			"matchResources":{"namespaceSelector":{"matchLabels":{%q:"true"}},"resourceRules":[{"apiGroups":[""],"apiVersions":["v1"],
			"resources":["configmaps"],"operations":["CREATE"],"resourceNames":["big"]}]}}`, policy, ns))
	r := eventuallyReply(t, func() reply { return call(t, "POST", path, vapCM("big", `{"a":"","b":"","c":"","d":""}`)) },
		func(r reply) bool {
			return r.code != http.StatusCreated || call(t, "DELETE", path+"/big", nil).code < 0
		})
	if st := r.status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid); !strings.HasSuffix(st.Message, "denied request: at most 3 keys") {
		t.Errorf("message %q", st.Message)
	}
	// resourceNames limits the binding to "big".
	call(t, "POST", path, vapCM("other", `{"a":"","b":"","c":"","d":""}`)).must(t, http.StatusCreated)
	call(t, "POST", path, vapCM("big", `{"a":""}`)).must(t, http.StatusCreated)
}
