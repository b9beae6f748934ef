package e2e

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A user creates simulated nodes, runs a pod on one, deletes it, stops one node's
// heartbeat and brings it back, then removes them all.
func TestSimulatedNodes(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	const prefix = "e2esim-"
	sim := func(args ...string) string {
		t.Helper()
		args = append(append([]string{"sim"}, args...), "--kubeconfig", cluster.Kubeconfig)
		out, err := exec.Command(cluster.Binary, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("minik8s %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	framework.Contains(t, sim("nodes", "--count", "3", "--zones", "3", "--prefix", prefix), "3 simulated nodes created, 0 already existed")
	t.Cleanup(func() {
		exec.Command(cluster.Binary, "sim", "nodes", "--delete", "--prefix", prefix, "--kubeconfig", cluster.Kubeconfig).Run()
	})
	framework.Contains(t, sim("nodes", "--count", "3", "--prefix", prefix), "0 simulated nodes created, 3 already existed")

	nodes := s.Run("get", "nodes", "-l", "node.minik8s.io/simulated=true", "-L", "topology.kubernetes.io/zone")
	for i := 0; i < 3; i++ {
		framework.Matches(t, nodes, fmt.Sprintf(`(?m)^%s%d\s+Ready\s+<none>\s+\S+\s+v1\.\S+\s+zone-%d$`, prefix, i, i))
	}
	lease := func(node string) string {
		return s.Run("get", "lease", "-n", "kube-node-lease", node, "-o", "jsonpath={.spec.renewTime}")
	}
	framework.Eventually(t, 10*time.Second, func() error {
		if r := s.Do("get", "lease", "-n", "kube-node-lease", prefix+"2"); r.Code != 0 {
			return fmt.Errorf("no lease yet: %s", r.Stderr)
		}
		return nil
	})
	// Stop a node's heartbeat now, so its lease has time to go stale while the pod runs.
	framework.Contains(t, sim("nodes", "fail", prefix+"2"), "node/"+prefix+"2 stopped heartbeating")
	failedAt := time.Now()
	time.Sleep(time.Second) // a renewal already on its way may still land
	stale, live := lease(prefix+"2"), lease(prefix+"0")

	node := prefix + "1"
	s.Apply(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: %s
  containers: [{name: web, image: nginx}]
`, node))
	var wide string
	framework.Eventually(t, 10*time.Second, func() error {
		wide = s.Run("get", "pods", "-o", "wide")
		return want(wide, "Running")
	})
	framework.Matches(t, wide, `(?m)^web\s+1/1\s+Running\s+0\s+\S+\s+(\S+)\s+`+node+`\s`)
	ip := netip.MustParseAddr(strings.Fields(strings.Split(wide, "\n")[1])[5])
	cidr := netip.MustParsePrefix(s.Run("get", "node", node, "-o", "jsonpath={.spec.podCIDR}"))
	if !cidr.Contains(ip) {
		t.Fatalf("pod IP %s is outside its node's pod CIDR %s", ip, cidr)
	}
	// Nothing runs there: the API server does not dial the made-up addresses.
	framework.Contains(t, s.Fail("logs", "web"), `node "`+node+`" is simulated: it has no kubelet to connect to`)
	framework.Contains(t, s.Fail("get", "--raw", "/api/v1/namespaces/"+s.Namespace+"/pods/web/proxy/"), "runs on simulated node")
	start := time.Now()
	s.Run("delete", "pod", "web", "--timeout=10s")
	framework.Contains(t, s.Do("get", "pods").Stderr, "No resources found")
	t.Logf("deletion completed in %s", time.Since(start).Round(time.Millisecond))

	// A lease is renewed every 10s: after 11s a live one has moved, the failed one not.
	time.Sleep(time.Until(failedAt.Add(11 * time.Second)))
	if got := lease(prefix + "2"); got != stale {
		t.Errorf("the failed node's lease was renewed: %s then %s", stale, got)
	}
	if got := lease(prefix + "0"); got == live {
		t.Errorf("a live node's lease was not renewed in 11s: still %s", got)
	}
	framework.Contains(t, sim("nodes"), prefix+"2   zone-2   100.64.")
	framework.Matches(t, sim("nodes"), `(?m)^`+prefix+`2\s.*failed$`)
	framework.Contains(t, sim("nodes", "recover", prefix+"2"), "heartbeating again")
	framework.Eventually(t, 5*time.Second, func() error {
		if lease(prefix+"2") == stale {
			return fmt.Errorf("lease not renewed after recovery")
		}
		return nil
	})

	framework.Contains(t, sim("nodes", "--delete", "--prefix", prefix), "3 simulated nodes deleted")
	framework.Contains(t, s.Do("get", "nodes", "-l", "node.minik8s.io/simulated=true").Stderr, "No resources found")
	if r := s.Do("get", "lease", "-n", "kube-node-lease", prefix+"0"); r.Code == 0 {
		t.Errorf("the lease of a deleted node is still there:\n%s", r.Stdout)
	}
}

// Bad flags get a plain error and create nothing.
func TestSimulatedNodesRefuseBadFlags(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"--count 1 --pods 300", "--pods 300: a simulated node's pod range is a /24, which holds at most 253 pods"},
		{"--count 1 --cpu lots", `invalid argument "lots" for "--cpu" flag: not a quantity`},
		{"--count 1 --taints gpu=true:Never", `unsupported effect "Never"`},
		{"--count 1 --prefix Bad_", "does not make valid node names"},
		{"--count 1 --delete", "--count and --delete cannot be used together"},
		{"fail", "requires at least 1 arg"},
	} {
		args := append(append([]string{"sim", "nodes"}, strings.Fields(c.args)...), "--kubeconfig", cluster.Kubeconfig)
		out, err := exec.Command(cluster.Binary, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("minik8s %s: %v\n%s\nwant %q", strings.Join(args, " "), err, out, c.want)
		}
	}
}
