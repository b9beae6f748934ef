package e2e

import (
	"strings"
	"testing"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// Bad input gets upstream's errors and changes nothing.
func TestInvalidInput(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))

	t.Run("an invalid name is rejected with the field that is wrong", func(t *testing.T) {
		out := s.Fail("create", "configmap", "Bad_Name")
		framework.Contains(t, out, `error: failed to create configmap: ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain`)
	})
	t.Run("an unknown field is refused by strict validation", func(t *testing.T) {
		r := s.DoIn("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ncolour: blue\n", "create", "-f", "-")
		if r.Code == 0 {
			t.Fatalf("created an object with an unknown field")
		}
		framework.Contains(t, r.Stderr, `Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "colour"`)
		framework.Contains(t, s.Fail("get", "cm", "x"), "NotFound")
	})
	t.Run("malformed YAML is reported", func(t *testing.T) {
		r := s.DoIn("apiVersion: v1\nkind: ConfigMap\nmetadata: [\n", "create", "-f", "-")
		if r.Code == 0 {
			t.Fatal("malformed YAML accepted")
		}
		framework.Contains(t, r.Stderr, "error")
	})
	t.Run("an oversize request is refused with 413 before decoding", func(t *testing.T) {
		big := strings.Repeat("x", 3*1024*1024+10)
		r := s.DoIn("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  k: "+big+"\n", "create", "-f", "-")
		if r.Code == 0 {
			t.Fatal("oversize object accepted")
		}
		framework.Contains(t, r.Stderr, "Request entity too large")
	})
	t.Run("a ConfigMap over 1 MiB is invalid", func(t *testing.T) {
		big := strings.Repeat("x", 1024*1024+1)
		r := s.DoIn("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  k: "+big+"\n", "create", "-f", "-")
		if r.Code == 0 {
			t.Fatal("ConfigMap over 1 MiB accepted")
		}
		framework.Contains(t, r.Stderr, `The ConfigMap "big" is invalid`, "Too long")
	})
	t.Run("a stale resourceVersion is a conflict", func(t *testing.T) {
		s.Run("create", "cm", "cas", "--from-literal=a=1")
		stale := s.Run("get", "cm", "cas", "-o", "yaml")
		s.Run("patch", "cm", "cas", "-p", `{"data":{"a":"2"}}`)
		r := s.DoIn(strings.Replace(stale, `a: "1"`, `a: "3"`, 1), "replace", "-f", "-")
		if r.Code == 0 {
			t.Fatal("stale update accepted")
		}
		framework.Contains(t, r.Stderr, "the object has been modified; please apply your changes to the latest version and try again")
		framework.Contains(t, s.Run("get", "cm", "cas", "-o", "jsonpath={.data.a}"), "2")
	})
	t.Run("creating twice is AlreadyExists", func(t *testing.T) {
		s.Run("create", "cm", "twice")
		framework.Contains(t, s.Fail("create", "cm", "twice"), `error: failed to create configmap: configmaps "twice" already exists`)
	})
	t.Run("an unknown resource type is reported by kubectl", func(t *testing.T) {
		framework.Contains(t, s.Fail("get", "frobnicators"), `the server doesn't have a resource type "frobnicators"`)
	})
}
