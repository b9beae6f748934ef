package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// labelledPod renders a pod bound to the test node with labels and containers.
func labelledPod(name, labels, containers string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  labels: {%s}
spec:
  nodeName: %s
  terminationGracePeriodSeconds: 2
  automountServiceAccountToken: false
  containers:
%s`, name, labels, nodeName, containers)
}

// A user isolates a web pod with a NetworkPolicy, then lets the client pods
// in on the web port: the others stay out, by pod IP and by ClusterIP, and
// the node itself still reaches the pod (probes).
func TestNetworkPolicyBlocksThenAllows(t *testing.T) {
	s := session(t)
	sleeper := func(name string) string { return container(name, "busybox:1.36", "sleep", "3600") }
	s.Apply(labelledPod("web", "app: web", container("web", "minik8s.io/testserver:latest")+
		"    ports:\n    - {name: http, containerPort: 8080}\n"))
	s.Apply(labelledPod("client", "role: client", sleeper("client")))
	s.Apply(labelledPod("stranger", "role: stranger", sleeper("stranger")))
	s.Run("wait", "--for=condition=Ready", "pod/web", "pod/client", "pod/stranger", "--timeout=90s")
	ip := s.Run("get", "pod", "web", "-o", "jsonpath={.status.podIP}")
	fetch := func(from, addr string) error {
		r := s.Do("exec", from, "--", "timeout", "3", "wget", "-q", "-O-", "http://"+addr+"/hostname")
		if r.Code != 0 || !strings.Contains(r.Stdout, "web") {
			return fmt.Errorf("%s could not fetch %s: exit %d: %s%s", from, addr, r.Code, r.Stdout, r.Stderr)
		}
		return nil
	}
	refused := func(from, addr string) error {
		if fetch(from, addr) == nil {
			return fmt.Errorf("%s still reaches %s", from, addr)
		}
		return nil
	}
	for _, from := range []string{"client", "stranger"} {
		framework.Eventually(t, 30*time.Second, func() error { return fetch(from, ip+":8080") })
	}

	framework.Contains(t, s.Apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
spec:
  podSelector:
    matchLabels: {app: web}
  policyTypes: [Ingress]
`), "networkpolicy.networking.k8s.io/web created")
	framework.Eventually(t, 30*time.Second, func() error { return refused("client", ip+":8080") })
	if err := refused("stranger", ip+":8080"); err != nil {
		t.Error(err)
	}
	if _, err := httpGet("http://" + ip + ":8080/hostname"); err != nil {
		t.Errorf("the node cannot reach an isolated pod: %v", err)
	}

	s.Apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
spec:
  podSelector:
    matchLabels: {app: web}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector:
        matchLabels: {role: client}
    ports:
    - port: http
`)
	framework.Eventually(t, 30*time.Second, func() error { return fetch("client", ip+":8080") })
	if err := refused("stranger", ip+":8080"); err != nil {
		t.Error(err)
	}
	s.Run("expose", "pod", "web", "--port", "80", "--target-port", "8080")
	clusterIP := s.Run("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
	framework.Eventually(t, 30*time.Second, func() error { return fetch("client", clusterIP) })
	if err := refused("stranger", clusterIP); err != nil {
		t.Errorf("through the ClusterIP: %v", err)
	}

	framework.Contains(t, s.Run("delete", "networkpolicy", "web"), `networkpolicy.networking.k8s.io "web" deleted`)
	framework.Eventually(t, 30*time.Second, func() error { return fetch("stranger", ip+":8080") })
}
