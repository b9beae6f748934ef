package apiserver

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestConnectOptionsFromTheQuery(t *testing.T) {
	v1 := func(kind string) metav1.TypeMeta { return metav1.TypeMeta{APIVersion: "v1", Kind: kind} }
	cases := []struct {
		name     string
		resource string
		sub      string
		query    string
		rest     []string
		want     runtime.Object
		wantErr  bool
	}{
		{name: "attach carries its streams and container", resource: "pods", sub: "attach",
			query: "stdin=true&stdout=1&stderr=false&tty=true&container=c1",
			want:  &corev1.PodAttachOptions{TypeMeta: v1("PodAttachOptions"), Stdin: true, Stdout: true, TTY: true, Container: "c1"}},
		{name: "exec carries its command in order", resource: "pods", sub: "exec", query: "command=sh&command=-c&command=date&stdout=true",
			want: &corev1.PodExecOptions{TypeMeta: v1("PodExecOptions"), Stdout: true, Command: []string{"sh", "-c", "date"}}},
		{name: "port-forward lists its ports, comma-separated or repeated", resource: "pods", sub: "portforward", query: "ports=80,443&ports=8080",
			want: &corev1.PodPortForwardOptions{TypeMeta: v1("PodPortForwardOptions"), Ports: []int32{80, 443, 8080}}},
		{name: "a pod proxy carries the rest of the path", resource: "pods", sub: "proxy", rest: []string{"a", "b"},
			want: &corev1.PodProxyOptions{TypeMeta: v1("PodProxyOptions"), Path: "a/b"}},
		{name: "a service proxy has its options kind", resource: "services", sub: "proxy",
			want: &corev1.ServiceProxyOptions{TypeMeta: v1("ServiceProxyOptions")}},
		{name: "a node proxy has its options kind", resource: "nodes", sub: "proxy", rest: []string{"metrics"},
			want: &corev1.NodeProxyOptions{TypeMeta: v1("NodeProxyOptions"), Path: "metrics"}},
		{name: "a flag that is not a boolean is refused", resource: "pods", sub: "attach", query: "stdin=maybe", wantErr: true},
		{name: "a port that is not a number is refused", resource: "pods", sub: "portforward", query: "ports=http", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, _ := url.ParseQuery(c.query)
			got, err := connectOptions(c.resource, c.sub, q, c.rest)
			if c.wantErr {
				if err == nil {
					t.Fatalf("no error, got %#v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %#v\nwant %#v", got, c.want)
			}
		})
	}
}

func TestConnectIsAdmittedBeforeItIsServed(t *testing.T) {
	ns := vapNamespace(t)
	policy, binding := vapInstall(t, ns, fmt.Sprintf(`{"matchConstraints":{"namespaceSelector":{"matchLabels":{%q:"true"}},
		"resourceRules":[{"apiGroups":[""],"apiVersions":["v1"],"resources":["pods/attach","pods/exec"],"operations":["CONNECT"]}]},
		"validations":[{"expression":"object.container == 'allowed'","messageExpression":"'no connecting to ' + object.kind + ' of container ' + object.container"}]}`, ns), "")
	attach := "/api/v1/namespaces/" + ns + "/pods/p/attach?stdin=true&container="
	r := eventuallyReply(t, func() reply { return call(t, "POST", attach+"other", nil) },
		func(r reply) bool { return r.code != http.StatusServiceUnavailable && r.code != http.StatusNotFound })
	st := r.status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	want := fmt.Sprintf(`pods "p" is forbidden: ValidatingAdmissionPolicy '%s' with binding '%s' denied request: no connecting to PodAttachOptions of container other`, policy, binding)
	if st.Message != want {
		t.Errorf("message\n %q\nwant\n %q", st.Message, want)
	}
	// exec is admitted the same way, with its own options kind.
	st = call(t, "GET", "/api/v1/namespaces/"+ns+"/pods/p/exec?command=date&container=other", nil).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if want := "no connecting to PodExecOptions of container other"; !strings.Contains(st.Message, want) {
		t.Errorf("message %q lacks %q", st.Message, want)
	}
	// An admitted request goes on to the connector (none in this server).
	if r := call(t, "POST", attach+"allowed", nil); r.code == http.StatusUnprocessableEntity {
		t.Errorf("allowed attach refused: %s", r)
	}
	// pods/log is a read, not a connect: never admitted.
	if r := call(t, "GET", "/api/v1/namespaces/"+ns+"/pods/p/log?container=other", nil); r.code == http.StatusUnprocessableEntity {
		t.Errorf("log refused by a connect policy: %s", r)
	}
}
