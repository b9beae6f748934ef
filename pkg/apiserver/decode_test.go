package apiserver

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A body that cannot be decoded is a 400 worded as upstream words it: naming the
// kind it read when it read one, "unrecognized" when it could not.
func TestUndecodableBodies(t *testing.T) {
	yamlPod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n"
	cases := []struct {
		name, path, body string
		want             string // the message, or its start when it ends with "..."
	}{
		{name: "a pod sent to namespaces is named, with the conversion it lacks", path: "/api/v1/namespaces",
			body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}`,
			want: `Pod in version "v1" cannot be handled as a Namespace: converting (v1.Pod) to (core.Namespace): unknown conversion`},
		{name: "a pod sent to deployments names the apps group's internal type", path: deployPath,
			body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}`,
			want: `Pod in version "v1" cannot be handled as a Deployment: converting (v1.Pod) to (apps.Deployment): unknown conversion`},
		{name: "garbage JSON is unrecognized, with the start of the body", path: "/api/v1/namespaces", body: `{garbage`,
			want: `the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: invalid character 'g' looking for beginning of object key string ({garbage)`},
		{name: "YAML sent as JSON is unrecognized, with the start of the body in hex", path: "/api/v1/namespaces", body: yamlPod,
			want: `the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: invalid character 'a' looking for beginning of value (` +
				hex.EncodeToString([]byte(yamlPod[:30])) + ` ...)`},
		{name: "an apiVersion the server does not know is named with the version it read", path: "/api/v1/namespaces",
			body: `{"apiVersion":"v2","kind":"Namespace","metadata":{"name":"x"}}`,
			want: `Namespace in version "v2" cannot be handled as a Namespace: no kind "Namespace" is registered for version "v2" in scheme ...`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := call(t, http.MethodPost, c.path, c.body).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
			if prefix, ok := strings.CutSuffix(c.want, "..."); ok && strings.HasSuffix(c.want, "scheme ...") {
				if !strings.HasPrefix(st.Message, prefix) {
					t.Fatalf("message %q, want it to start %q", st.Message, prefix)
				}
				return
			}
			if st.Message != c.want {
				t.Fatalf("message %q\nwant    %q", st.Message, c.want)
			}
		})
	}
}
