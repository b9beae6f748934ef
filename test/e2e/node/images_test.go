package node

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// minik8s runs the binary's own subcommands against the test node.
func minik8s(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(cluster.Binary, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("minik8s %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// `minik8s image ls` and `image import` reach the node's containerd; an imported
// image runs with imagePullPolicy Never.
func TestImageCommands(t *testing.T) {
	const nginx = "docker.io/library/nginx:latest"
	dataDir := "--data-dir=" + cluster.DataDir
	// The agent imports its images dir in the background after it starts.
	var ls string
	framework.Eventually(t, 60*time.Second, func() error {
		out, err := exec.Command(cluster.Binary, "image", "ls", dataDir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("image ls: %v\n%s", err, out)
		}
		ls = string(out)
		for _, want := range []string{"docker.io/library/busybox", "minik8s.io/testserver", "docker.io/library/nginx", "registry.k8s.io/pause"} {
			if !strings.Contains(ls, want) {
				return fmt.Errorf("%s not listed yet:\n%s", want, ls)
			}
		}
		return nil
	})
	framework.Matches(t, ls, `(?m)^IMAGE\s+TAG\s+IMAGE ID\s+SIZE`)

	// Remove the nginx stand-in behind the node's back, then import it again.
	sock := filepath.Join(cluster.DataDir, "agent", "containerd", "containerd.sock")
	if out, err := exec.Command("ctr", "-a", sock, "-n", "k8s.io", "images", "rm", nginx).CombinedOutput(); err != nil {
		t.Fatalf("ctr images rm: %v\n%s", err, out)
	}
	if strings.Contains(minik8s(t, "image", "ls", dataDir), "docker.io/library/nginx") {
		t.Fatal("nginx still listed after removal")
	}
	out := minik8s(t, "image", "import", dataDir, filepath.Join(cluster.DataDir, "agent", "images", "nginx.tar"))
	framework.Contains(t, out, "imported "+nginx)
	framework.Contains(t, minik8s(t, "image", "ls", dataDir), "docker.io/library/nginx")

	s := session(t)
	never := strings.Replace(container("web", "nginx:latest"), "IfNotPresent", "Never", 1)
	s.Apply(pod("imported", "Always", never))
	s.Run("wait", "--for=condition=Ready", "pod/imported", "--timeout=60s")
	framework.Contains(t, s.Run("describe", "pod", "imported"), `Container image "nginx:latest" already present on machine`)
}

// A hostPort reaches the container through the node's address.
func TestHostPort(t *testing.T) {
	s := session(t)
	c := withSpec(container("web", "minik8s.io/testserver:latest"), `    ports:
    - containerPort: 8080
      hostPort: 18080
`)
	s.Apply(pod("hostport", "Always", c))
	s.Run("wait", "--for=condition=Ready", "pod/hostport", "--timeout=60s")
	nodeIP := s.Run("get", "node", nodeName, "-o", `jsonpath={.status.addresses[?(@.type=="InternalIP")].address}`)
	if nodeIP == "" {
		t.Fatal("the node has no InternalIP")
	}
	var got string
	framework.Eventually(t, 30*time.Second, func() error {
		got = httpGetText(t, fmt.Sprintf("http://%s:18080/hostname", nodeIP))
		if got != "hostport" {
			return fmt.Errorf("answer %q", got)
		}
		return nil
	})
	// A second pod bound to the node with the same host port is refused by
	// the node, as upstream's kubelet refuses it.
	s.Apply(pod("hostport-twin", "Always", c))
	framework.Eventually(t, 30*time.Second, func() error {
		got := s.Run("get", "pod", "hostport-twin", "-o", "jsonpath={.status.phase} {.status.reason} {.status.message}")
		if want := "Failed NodePorts Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports"; got != want {
			return fmt.Errorf("twin pod status %q, want %q", got, want)
		}
		return nil
	})
}
