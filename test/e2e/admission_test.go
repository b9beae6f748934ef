package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A LimitRange gives a pod without resources its defaults, records them in
// the pod's annotation, and refuses a pod over its maximum.
func TestALimitRangeDefaultsAPodsRequestsAndRefusesOneOverItsMax(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	s.Apply(`apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 100m, memory: 128Mi}
    max: {cpu: "1"}
`)
	s.Run("run", "plain", "--image=busybox", "--restart=Never")
	out := s.Run("get", "pod", "plain", "-o", `jsonpath={.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.requests.memory} {.spec.containers[0].resources.limits.cpu} {.spec.containers[0].resources.limits.memory}`)
	if out != "100m 128Mi 500m 256Mi" {
		t.Errorf("resources %q, want the LimitRange's defaults", out)
	}
	framework.Contains(t, s.Run("get", "pod", "plain", "-o", `jsonpath={.metadata.annotations.kubernetes\.io/limit-ranger}`),
		"LimitRanger plugin set: cpu, memory request for container plain; cpu, memory limit for container plain")
	framework.Contains(t, s.Fail("run", "big", "--image=busybox", "--restart=Never", "--overrides",
		`{"spec":{"containers":[{"name":"big","image":"busybox","resources":{"limits":{"cpu":"2"}}}]}}`),
		`Error from server (Forbidden): pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2`)
}

// A ResourceQuota counts what exists, refuses the pod that would exceed it
// with upstream's message, and kubectl describes it as upstream's.
func TestAResourceQuotaRefusesAPodOverQuotaAndDescribesItsUsage(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	s.Apply(`apiVersion: v1
kind: ResourceQuota
metadata: {name: compute}
spec:
  hard: {pods: "2", requests.cpu: "1", requests.memory: 1Gi, configmaps: "10"}
`)
	framework.Eventually(t, 30*time.Second, func() error {
		if got := s.Run("get", "quota", "compute", "-o", "jsonpath={.status.used.pods}"); got != "0" {
			return fmt.Errorf("used pods %q", got)
		}
		return nil
	})
	pod := func(name, cpu string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  containers:
  - name: c
    image: busybox
    resources: {requests: {cpu: %s, memory: 256Mi}}
`, name, cpu)
	}
	s.Apply(pod("first", "600m"))
	r := s.DoIn(pod("second", "600m"), "create", "-f", "-")
	if r.Code == 0 {
		t.Fatalf("a pod over the cpu quota was created")
	}
	framework.Contains(t, r.Stderr, `pods "second" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1`)
	// A pod that names no memory cannot be counted against a memory quota.
	framework.Contains(t, s.Fail("run", "bare", "--image=busybox", "--restart=Never"),
		`pods "bare" is forbidden: failed quota: compute: must specify requests.cpu for: bare; requests.memory for: bare`)
	s.Apply(pod("third", "200m"))
	framework.Contains(t, s.Fail("run", "fourth", "--image=busybox", "--restart=Never", "--overrides",
		`{"spec":{"containers":[{"name":"fourth","image":"busybox","resources":{"requests":{"cpu":"100m","memory":"1Mi"}}}]}}`),
		`pods "fourth" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2`)

	framework.Eventually(t, 30*time.Second, func() error {
		out := s.Run("describe", "quota", "compute")
		for _, re := range []string{`(?m)^Name:\s+compute$`, `(?m)^Namespace:\s+` + s.Namespace + `$`, `(?m)^Resource\s+Used\s+Hard$`,
			`(?m)^--------\s+----\s+----$`, `(?m)^configmaps\s+1\s+10$`, `(?m)^pods\s+2\s+2$`, `(?m)^requests\.cpu\s+800m\s+1$`, `(?m)^requests\.memory\s+512Mi\s+1Gi$`} {
			if err := matches(out, re); err != nil {
				return err
			}
		}
		return nil
	})
	// Deleting a pod gives its usage back.
	s.Run("delete", "pod", "third", "--grace-period=0", "--force")
	framework.Eventually(t, 30*time.Second, func() error {
		if got := s.Run("get", "quota", "compute", "-o", "jsonpath={.status.used.pods} {.status.used.requests\\.cpu}"); got != "1 600m" {
			return fmt.Errorf("used %q", got)
		}
		return nil
	})
}

// A namespace enforcing the restricted Pod Security Standard refuses a
// privileged pod with upstream's message; one that only warns admits it with
// a warning; making the enforcement stricter warns about existing pods.
func TestPodSecurityRestrictedRefusesAPrivilegedPodAndWarnModeWarns(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	privileged := `apiVersion: v1
kind: Pod
metadata: {name: priv}
spec:
  containers:
  - name: c
    image: busybox
    securityContext: {privileged: true}
`
	s.Run("label", "namespace", s.Namespace, "pod-security.kubernetes.io/warn=baseline")
	r := s.DoIn(privileged, "create", "-f", "-")
	if r.Code != 0 {
		t.Fatalf("warn mode refused the pod: %s", r.Stderr)
	}
	framework.Contains(t, r.Stderr, `Warning: would violate PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)`)

	r = s.Do("label", "namespace", s.Namespace, "pod-security.kubernetes.io/enforce=restricted")
	if r.Code != 0 {
		t.Fatalf("label: %s", r.Stderr)
	}
	framework.Contains(t, r.Stderr, `Warning: existing pods in namespace "`+s.Namespace+`" violate the new PodSecurity enforce level "restricted:latest"`,
		"Warning: priv: privileged, allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile")

	r = s.DoIn(strings.Replace(privileged, "name: priv", "name: priv2", 1), "create", "-f", "-")
	if r.Code == 0 {
		t.Fatal("a privileged pod was created in a restricted namespace")
	}
	framework.Contains(t, r.Stderr, `Error from server (Forbidden): error when creating "STDIN": pods "priv2" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`)

	// A deployment's template is not refused, only warned about.
	s.Run("label", "namespace", s.Namespace, "pod-security.kubernetes.io/warn=restricted", "--overwrite")
	r = s.Do("create", "deployment", "web", "--image=busybox")
	if r.Code != 0 {
		t.Fatalf("create deployment: %s", r.Stderr)
	}
	framework.Contains(t, r.Stderr, `Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "busybox" must set securityContext.allowPrivilegeEscalation=false)`)
	framework.Contains(t, s.Fail("label", "namespace", s.Namespace, "pod-security.kubernetes.io/enforce=strict", "--overwrite"),
		`metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict"`)
}

// Nothing new is created in a namespace that is being deleted.
func TestCreatingInATerminatingNamespaceIsRefused(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	// A finalizer keeps the namespace terminating while the test looks.
	s.Apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: held, finalizers: [e2e.minik8s.io/hold]}
`)
	s.Run("delete", "namespace", s.Namespace, "--wait=false")
	framework.Eventually(t, 30*time.Second, func() error {
		r := s.Do("create", "configmap", "late")
		if r.Code == 0 {
			return fmt.Errorf("created in a terminating namespace")
		}
		want := `configmaps "late" is forbidden: unable to create new content in namespace ` + s.Namespace + ` because it is being terminated`
		if !strings.Contains(r.Stderr, want) {
			return fmt.Errorf("stderr %q", r.Stderr)
		}
		return nil
	})
	s.Run("patch", "configmap", "held", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
}
