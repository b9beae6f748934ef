package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

const detailsPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: busybox
`

// A pod applied client-side and then server-side from the same file keeps what
// admission gave it (service account, token volume, priority): the creator never
// owned those fields, so kubectl's migration of its ownership hands none of them
// to the server-side manager.
func TestApplyClientSideThenServerSide(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	framework.Eventually(t, 30*time.Second, func() error {
		if r := s.Do("get", "serviceaccount", "default"); r.Code != 0 {
			return fmt.Errorf("no default service account yet: %s", r.Stderr)
		}
		return nil
	})
	framework.Contains(t, s.Apply(detailsPod), "pod/web created")
	r := s.DoIn(detailsPod, "apply", "--server-side", "-f", "-")
	if r.Code != 0 {
		t.Fatalf("server-side apply after client-side apply: exit %d\n%s", r.Code, r.Stderr)
	}
	framework.Contains(t, r.Stdout, "pod/web serverside-applied")
	framework.Contains(t, s.Run("get", "pod", "web", "-o", "jsonpath={.spec.serviceAccountName}"), "default")
}

// A patch that leaves an object of the wrong shape is refused as upstream refuses
// it: 422 Invalid against the patch, which kubectl prints as an invalid request.
func TestPatchToTheWrongShape(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	s.Run("create", "configmap", "shape", "--from-literal=a=1")
	r := s.Do("patch", "configmap", "shape", "-p", `{"metadata":{"labels":"invalid"}}`)
	if r.Code != 1 {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if want := `The request is invalid: patch: Invalid value: "map[metadata:map[labels:invalid]]": cannot restore map from string` + "\n"; r.Stderr != want {
		t.Fatalf("stderr %q, want %q", r.Stderr, want)
	}
	r = s.Do("patch", "configmap", "shape", "--type=merge", "-p", `{"data":"invalid"}`)
	if r.Code != 1 {
		t.Fatalf("merge patch: exit %d, want 1\nstderr: %s", r.Code, r.Stderr)
	}
	framework.Matches(t, r.Stderr, `^The request is invalid: patch: Invalid value: "\{.*\}": json: cannot unmarshal string into Go struct field ConfigMap.data of type map\[string\]string\n$`)
	framework.Contains(t, s.Run("get", "configmap", "shape", "-o", "jsonpath={.data.a}"), "1")
}

// A body the server cannot decode is reported as upstream reports it: naming the
// kind it read, or "unrecognized" when it read none.
func TestUndecodableBody(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	dir := t.TempDir()
	jsonPod := filepath.Join(dir, "pod.json")
	if err := os.WriteFile(jsonPod, []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := s.Do("create", "--raw", "/api/v1/namespaces", "-f", jsonPod)
	if r.Code != 1 {
		t.Fatalf("exit %d, want 1\nstderr: %s", r.Code, r.Stderr)
	}
	framework.Contains(t, r.Stderr, `Error from server (BadRequest): Pod in version "v1" cannot be handled as a Namespace: converting (v1.Pod) to (core.Namespace): unknown conversion`)

	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte(`{garbage`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = s.Do("create", "--raw", "/api/v1/namespaces", "-f", garbage)
	if r.Code != 1 {
		t.Fatalf("exit %d, want 1\nstderr: %s", r.Code, r.Stderr)
	}
	framework.Contains(t, r.Stderr, `Error from server (BadRequest): the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: invalid character 'g' looking for beginning of object key string ({garbage)`)
}

const deprecatedCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: sprockets.e2e.example.com
spec:
  group: e2e.example.com
  scope: Namespaced
  names: {plural: sprockets, singular: sprocket, kind: Sprocket}
  versions:
  - name: v1beta1
    served: true
    storage: false
    deprecated: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`

// kubectl prints the warning of a deprecated custom resource version, upstream's
// default text naming the version to use, and none for the current version.
func TestDeprecatedCustomResourceVersion(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	s.Apply(deprecatedCRD)
	t.Cleanup(func() { s.Do("delete", "crd", "sprockets.e2e.example.com", "--wait=false") })
	s.Run("wait", "--for=condition=Established", "--timeout=30s", "crd/sprockets.e2e.example.com")
	warning := "Warning: e2e.example.com/v1beta1 Sprocket is deprecated; use e2e.example.com/v1 Sprocket\n"
	framework.Eventually(t, 30*time.Second, func() error {
		r := s.Do("get", "sprockets.v1beta1.e2e.example.com")
		if r.Code != 0 || r.Stderr != warning+"No resources found in "+s.Namespace+" namespace.\n" {
			return fmt.Errorf("exit %d, stderr %q", r.Code, r.Stderr)
		}
		return nil
	})
	r := s.Do("get", "sprockets.v1.e2e.example.com")
	if r.Code != 0 || r.Stderr != "No resources found in "+s.Namespace+" namespace.\n" {
		t.Fatalf("current version: exit %d, stderr %q", r.Code, r.Stderr)
	}
}
