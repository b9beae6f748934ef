package e2e

import (
	"testing"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// The node's NetworkPolicy enforcer watches as the service proxy's user:
// the bootstrap policy lets it read what it enforces and nothing more.
func TestRBACNetworkPolicyEnforcerMayWatchWhatItEnforces(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	for _, resource := range []string{"networkpolicies.networking.k8s.io", "pods", "namespaces"} {
		for _, verb := range []string{"list", "watch"} {
			if r := s.Do("auth", "can-i", verb, resource, "-A", "--as", "system:kube-proxy"); r.Stdout != "yes\n" {
				t.Errorf("system:kube-proxy may not %s %s: %q %q", verb, resource, r.Stdout, r.Stderr)
			}
		}
	}
	for _, args := range [][]string{{"create", "networkpolicies.networking.k8s.io"}, {"get", "secrets"}, {"delete", "pods"}} {
		if r := s.Do(append([]string{"auth", "can-i"}, append(args, "-A", "--as", "system:kube-proxy")...)...); r.Stdout != "no\n" {
			t.Errorf("system:kube-proxy may %v: %q", args, r.Stdout)
		}
	}
	framework.Contains(t, s.Run("get", "clusterrolebinding", "system:minik8s:network-policy", "-o", "wide"), "system:kube-proxy")
}
