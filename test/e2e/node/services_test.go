package node

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// webDeployment is two testserver replicas (they answer /hostname on 8080).
func webDeployment(name string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 2
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      terminationGracePeriodSeconds: 2
      automountServiceAccountToken: false
      containers:
      - name: web
        image: minik8s.io/testserver:latest
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 8080
`, name)
}

// httpGet asks once, with a short timeout.
func httpGet(url string) (string, error) {
	// A new connection each time: an established one outlives its Service, as
	// upstream's conntrack-based proxy lets it.
	resp, err := (&http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		// Not a pod of ours: this machine's network answers any address's
		// port 80 it routes out with a 404.
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return strings.TrimSpace(string(b)), err
}

// hostnames asks url n times from the host, each time on a new connection
// (the proxy picks an endpoint per connection), and counts who answered.
func hostnames(t *testing.T, url string, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		var body string
		framework.Eventually(t, 30*time.Second, func() (err error) {
			body, err = httpGet(url)
			return err
		})
		seen[body]++
	}
	return seen
}

// A new user's session: a deployment exposed as a Service answers on its
// ClusterIP from the node, spread over both pods.
func TestExposedDeploymentAnswersOnItsClusterIP(t *testing.T) {
	s := session(t)
	s.Apply(webDeployment("web"))
	s.Run("rollout", "status", "deployment/web", "--timeout=90s")
	framework.Contains(t, s.Run("expose", "deployment", "web", "--port", "80", "--target-port", "8080"), "service/web exposed")
	ip := s.Run("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
	seen := hostnames(t, "http://"+ip+"/hostname", 30)
	if len(seen) != 2 {
		t.Fatalf("30 requests to the ClusterIP were answered by %v, want both pods", seen)
	}
	for name := range seen {
		if !strings.HasPrefix(name, "web-") {
			t.Errorf("unexpected answer %q", name)
		}
	}
	// A deleted Service stops answering new connections: its address is in
	// the service range, whose unallocated addresses the proxy drops.
	s.Run("delete", "svc", "web")
	gone := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if _, err := httpGet("http://" + ip + "/hostname"); err != nil {
			gone = true
			break
		}
	}
	if !gone {
		t.Errorf("the deleted Service's ClusterIP %s still answers 10 s later", ip)
	}
}

// A NodePort Service answers on the node's localhost and its address.
func TestNodePortAnswersOnLocalhost(t *testing.T) {
	s := session(t)
	s.Apply(webDeployment("shop"))
	s.Run("rollout", "status", "deployment/shop", "--timeout=90s")
	s.Run("expose", "deployment", "shop", "--type", "NodePort", "--port", "80", "--target-port", "8080")
	port := s.Run("get", "svc", "shop", "-o", "jsonpath={.spec.ports[0].nodePort}")
	nodeIP := s.Run("get", "node", nodeName, "-o", `jsonpath={.status.addresses[?(@.type=="InternalIP")].address}`)
	for _, host := range []string{"127.0.0.1", nodeIP} {
		seen := hostnames(t, "http://"+host+":"+port+"/hostname", 10)
		for name := range seen {
			if !strings.HasPrefix(name, "shop-") {
				t.Errorf("%s:%s answered %q", host, port, name)
			}
		}
	}
}

// A LoadBalancer Service gets the node's address as its ingress (the built-in
// service load balancer) and answers there on its port.
func TestLoadBalancerServiceGetsTheNodeAddress(t *testing.T) {
	s := session(t)
	s.Apply(webDeployment("front"))
	s.Run("rollout", "status", "deployment/front", "--timeout=90s")
	s.Run("expose", "deployment", "front", "--type", "LoadBalancer", "--port", "8081", "--target-port", "8080")
	nodeIP := s.Run("get", "node", nodeName, "-o", `jsonpath={.status.addresses[?(@.type=="InternalIP")].address}`)
	framework.Eventually(t, 30*time.Second, func() error {
		got := s.Do("get", "svc", "front", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}").Stdout
		if got != nodeIP {
			return fmt.Errorf("ingress %q, want the node's InternalIP %s", got, nodeIP)
		}
		return nil
	})
	framework.Matches(t, s.Run("get", "svc", "front"), `front\s+LoadBalancer\s+10\.\S+\s+`+strings.ReplaceAll(nodeIP, ".", `\.`)+`\s+8081:3\d{4}/TCP`)
	for name := range hostnames(t, "http://"+nodeIP+":8081/hostname", 10) {
		if !strings.HasPrefix(name, "front-") {
			t.Errorf("the load balancer answered %q", name)
		}
	}
	// A loadBalancerClass names another implementation: no ingress from us.
	s.Apply(`apiVersion: v1
kind: Service
metadata:
  name: other-lb
spec:
  type: LoadBalancer
  loadBalancerClass: example.com/other
  selector: {app: front}
  ports:
  - port: 8082
    targetPort: 8080
`)
	time.Sleep(2 * time.Second)
	if got := s.Run("get", "svc", "other-lb", "-o", "jsonpath={.status.loadBalancer.ingress}"); got != "" {
		t.Errorf("a Service of another load balancer class got ingress %s", got)
	}
}
