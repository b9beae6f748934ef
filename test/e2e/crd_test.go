package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

const gadgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.e2e.example.com
spec:
  group: e2e.example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1, default: 3}
              color: {type: string}
          status:
            type: object
            properties:
              ready: {type: boolean}
`

// A user defines a resource with a CRD, uses it with kubectl, then removes it.
func TestCustomResourceDefinitionThroughKubectl(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	framework.Contains(t, s.Apply(gadgetCRD), "customresourcedefinition.apiextensions.k8s.io/gadgets.e2e.example.com created")
	defer s.Do("delete", "crd", "gadgets.e2e.example.com", "--ignore-not-found")
	s.Run("wait", "--for=condition=Established", "--timeout=30s", "crd/gadgets.e2e.example.com")
	framework.Eventually(t, 10*time.Second, func() error {
		return want(s.Do("api-resources", "--api-group=e2e.example.com").Stdout, "gadgets")
	})

	// The schema is published: kubectl explain reads it from /openapi/v3.
	framework.Eventually(t, 10*time.Second, func() error {
		return want(s.Do("explain", "gadgets.spec").Stdout, "size\t<integer>")
	})

	framework.Contains(t, s.Apply("apiVersion: e2e.example.com/v1\nkind: Gadget\nmetadata:\n  name: g1\nspec:\n  color: red\n"), "gadget.e2e.example.com/g1 created")
	framework.Matches(t, s.Run("get", "gadgets"), `(?m)^NAME\s+SIZE\s+COLOR\s+AGE\ng1\s+3\s+red\s+\d+s`)
	framework.Contains(t, s.Run("get", "gd", "g1", "-o", "jsonpath={.spec.size},{.metadata.generation}"), "3,1")

	// Unknown fields are refused by kubectl's strict validation; invalid values get 422.
	framework.Contains(t, s.DoIn("apiVersion: e2e.example.com/v1\nkind: Gadget\nmetadata:\n  name: g2\nspec:\n  colour: red\n", "apply", "-f", "-").Stderr,
		`unknown field "spec.colour"`)
	framework.Contains(t, s.DoIn("apiVersion: e2e.example.com/v1\nkind: Gadget\nmetadata:\n  name: g2\nspec:\n  size: 0\n", "apply", "-f", "-").Stderr,
		"spec.size: Invalid value: 0")

	framework.Contains(t, s.Run("patch", "gadget", "g1", "--type=merge", "-p", `{"spec":{"size":5}}`), "gadget.e2e.example.com/g1 patched")
	framework.Contains(t, s.Run("patch", "gadget", "g1", "--type=json", "-p", `[{"op":"replace","path":"/spec/color","value":"blue"}]`), "gadget.e2e.example.com/g1 patched")
	framework.Contains(t, s.Fail("patch", "gadget", "g1", "--type=strategic", "-p", `{"spec":{"size":6}}`), "application/strategic-merge-patch+json is not supported")
	framework.Contains(t, s.Run("patch", "gadget", "g1", "--subresource=status", "--type=merge", "-p", `{"status":{"ready":true}}`), "gadget.e2e.example.com/g1 patched")
	framework.Contains(t, s.Run("get", "gadget", "g1", "-o", "jsonpath={.spec.size},{.spec.color},{.status.ready},{.metadata.generation}"), "5,blue,true,3")
	framework.Contains(t, s.Apply("apiVersion: e2e.example.com/v1\nkind: Gadget\nmetadata:\n  name: g3\nspec:\n  color: green\n", "--server-side"), "gadget.e2e.example.com/g3 serverside-applied")

	framework.Contains(t, s.Run("delete", "crd", "gadgets.e2e.example.com"), `customresourcedefinition.apiextensions.k8s.io "gadgets.e2e.example.com" deleted`)
	framework.Eventually(t, 15*time.Second, func() error {
		r := s.Do("get", "gadgets")
		// kubectl's discovery cache may still list it: then the server says 404.
		if r.Code == 0 || !strings.Contains(r.Stderr, "the server doesn't have a resource type") && !strings.Contains(r.Stderr, "NotFound") {
			return errf("gadgets still served: %s %s", r.Stdout, r.Stderr)
		}
		return nil
	})
	// Recreated, the CRD starts empty: its objects went with it.
	s.Apply(gadgetCRD)
	s.Run("wait", "--for=condition=Established", "--timeout=30s", "crd/gadgets.e2e.example.com")
	framework.Eventually(t, 10*time.Second, func() error {
		r := s.Do("get", "gadgets", "-o", "name")
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != "" {
			return errf("after recreation: %q %q", r.Stdout, r.Stderr)
		}
		return nil
	})
}
