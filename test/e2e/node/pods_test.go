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

func session(t *testing.T) *framework.Session {
	return framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
}

// pod renders a pod manifest bound to the test node.
func pod(name, restart, containers string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  nodeName: %s
  restartPolicy: %s
  terminationGracePeriodSeconds: 2
  automountServiceAccountToken: false
  containers:
%s`, name, nodeName, restart, containers)
}

func container(name, image string, command ...string) string {
	s := fmt.Sprintf("  - name: %s\n    image: %s\n    imagePullPolicy: IfNotPresent\n", name, image)
	if len(command) > 0 {
		s += "    command: [" + quoteAll(command) + "]\n"
	}
	return s
}

func quoteAll(ss []string) string {
	var q []string
	for _, s := range ss {
		q = append(q, fmt.Sprintf("%q", s))
	}
	return strings.Join(q, ", ")
}

// jsonpath polls a pod field until it equals want.
func waitField(t *testing.T, s *framework.Session, name, path, want string) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, func() error {
		got := s.Do("get", "pod", name, "-o", "jsonpath="+path).Stdout
		if got != want {
			return fmt.Errorf("%s = %q, want %q", path, got, want)
		}
		return nil
	})
}

// The node registers itself Ready with its capacity, addresses and runtime.
func TestNodeIsReady(t *testing.T) {
	s := &framework.Session{T: t, C: cluster, Kubectl: framework.KubectlPath(t, "")}
	framework.Eventually(t, 30*time.Second, func() error {
		out := s.Do("get", "nodes", "-o", "wide").Stdout
		if !strings.Contains(out, nodeName) || !strings.Contains(out, " Ready ") {
			return fmt.Errorf("node not ready:\n%s", out)
		}
		return nil
	})
	out := s.Run("get", "nodes", "-o", "wide")
	framework.Matches(t, out, `(?m)^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME`)
	framework.Matches(t, out, nodeName+`\s+Ready\s+control-plane\s+\S+\s+v1\.\d+\.\d+\+minik8s\s+10\.250\.\d+\.1\s+<none>\s+.+containerd://`)
	d := s.Run("describe", "node", nodeName)
	framework.Contains(t, d, "Capacity:", "cpu:", "memory:", "pods:", "110", "Allocatable:", "PodCIDR:", "KubeletReady")
	framework.Contains(t, s.Run("-n", "kube-node-lease", "get", "lease", nodeName, "-o", "jsonpath={.spec.holderIdentity}"), nodeName)
}

// A pod runs a real container that answers on its pod IP.
func TestPodRunsAndAnswers(t *testing.T) {
	s := session(t)
	s.Apply(pod("web", "Always", container("web", "minik8s.io/testserver:latest")))
	s.Run("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
	out := s.Run("get", "pod", "web", "-o", "wide")
	framework.Matches(t, out, `web\s+1/1\s+Running\s+0\s+\S+\s+10\.250\.\d+\.\d+\s+`+nodeName)
	ip := s.Run("get", "pod", "web", "-o", "jsonpath={.status.podIP}")
	var body string
	framework.Eventually(t, 20*time.Second, func() error {
		resp, err := http.Get("http://" + ip + ":8080/hostname")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = strings.TrimSpace(string(b))
		return nil
	})
	if body != "web" {
		t.Fatalf("the pod answered %q, want its host name web", body)
	}
	d := s.Run("describe", "pod", "web")
	framework.Contains(t, d, "Status:", "Running", "Created container: web", "Started container web")
	framework.Contains(t, s.Run("delete", "pod", "web"), `pod "web" deleted`)
	framework.Contains(t, s.Fail("get", "pod", "web"), "NotFound")
}

// Containers of one pod share localhost.
func TestContainersShareLocalhost(t *testing.T) {
	s := session(t)
	client := container("client", "busybox:1.36", "sh", "-c",
		"for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do wget -q -O- http://127.0.0.1:8080/hostname && exit 0; sleep 0.5; done; exit 1")
	s.Apply(pod("pair", "Never", container("server", "minik8s.io/testserver:latest")+client))
	waitField(t, s, "pair", `{.status.containerStatuses[?(@.name=="client")].state.terminated.reason}`, "Completed")
}

// Init containers run one by one, in order, before the app container.
func TestInitContainersRunInOrder(t *testing.T) {
	s := session(t)
	m := pod("init", "Always", container("app", "busybox:1.36", "sleep", "3600")) +
		"  initContainers:\n" + container("first", "busybox:1.36", "sleep", "1") + container("second", "busybox:1.36", "true")
	s.Apply(m)
	out := s.Run("get", "pod", "init")
	_ = out
	waitField(t, s, "init", "{.status.phase}", "Running")
	first := s.Run("get", "pod", "init", "-o", `jsonpath={.status.initContainerStatuses[0].state.terminated.finishedAt}`)
	second := s.Run("get", "pod", "init", "-o", `jsonpath={.status.initContainerStatuses[1].state.terminated.startedAt}`)
	if first == "" || second == "" || second < first {
		t.Fatalf("second init container started %q, before the first finished %q", second, first)
	}
	framework.Matches(t, s.Run("get", "pod", "init"), `init\s+1/1\s+Running`)
	// Init containers that ran to completion are ready, as upstream reports them.
	framework.Contains(t, s.Run("get", "pod", "init", "-o", `jsonpath={.status.initContainerStatuses[*].ready}`), "true true")
}

// Restart policies decide what happens after a container exits.
func TestRestartPolicies(t *testing.T) {
	s := session(t)
	s.Apply(pod("never-fails", "Never", container("c", "busybox:1.36", "sh", "-c", "exit 3")))
	s.Apply(pod("onfailure-ok", "OnFailure", container("c", "busybox:1.36", "true")))
	s.Apply(pod("always-crash", "Always", container("c", "busybox:1.36", "sh", "-c", "exit 1")))
	waitField(t, s, "never-fails", "{.status.phase}", "Failed")
	framework.Contains(t, s.Run("get", "pod", "never-fails", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.reason}"), "3 Error")
	framework.Matches(t, s.Run("get", "pod", "never-fails"), `never-fails\s+0/1\s+Error\s+0`)
	waitField(t, s, "onfailure-ok", "{.status.phase}", "Succeeded")
	framework.Matches(t, s.Run("get", "pod", "onfailure-ok"), `onfailure-ok\s+0/1\s+Completed\s+0`)
	framework.Eventually(t, 60*time.Second, func() error {
		out := s.Do("get", "pod", "always-crash").Stdout
		if !strings.Contains(out, "CrashLoopBackOff") {
			return fmt.Errorf("not in CrashLoopBackOff:\n%s", out)
		}
		return nil
	})
	framework.Contains(t, s.Run("get", "pod", "always-crash", "-o", "jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode}"), "1")
	framework.Contains(t, s.Run("describe", "pod", "always-crash"), "Back-off restarting failed container")
}

// Missing images are reported with upstream's reasons, and the agent carries on.
func TestMissingImages(t *testing.T) {
	s := session(t)
	s.Apply(pod("no-such-image", "Always", container("c", "example.invalid/nothing:1")))
	never := strings.Replace(container("c", "example.invalid/nothing:1"), "IfNotPresent", "Never", 1)
	s.Apply(pod("never-pull", "Always", never))
	framework.Eventually(t, 60*time.Second, func() error {
		out := s.Do("get", "pod", "no-such-image").Stdout
		if !strings.Contains(out, "ErrImagePull") && !strings.Contains(out, "ImagePullBackOff") {
			return fmt.Errorf("no pull error yet:\n%s", out)
		}
		return nil
	})
	framework.Contains(t, s.Run("describe", "pod", "no-such-image"), `Failed to pull image "example.invalid/nothing:1"`)
	waitField(t, s, "never-pull", "{.status.containerStatuses[0].state.waiting.reason}", "ErrImageNeverPull")
	s.Apply(pod("still-works", "Always", container("c", "busybox:1.36", "sleep", "3600")))
	s.Run("wait", "--for=condition=Ready", "pod/still-works", "--timeout=60s")
}

// Deleting a pod stops its containers within the grace period; --force removes it at once.
func TestDeletion(t *testing.T) {
	s := session(t)
	s.Apply(pod("stop-me", "Always", container("c", "busybox:1.36", "sleep", "3600")))
	s.Apply(pod("force-me", "Always", container("c", "busybox:1.36", "sleep", "3600")))
	s.Run("wait", "--for=condition=Ready", "pod/stop-me", "pod/force-me", "--timeout=60s")
	start := time.Now()
	s.Run("delete", "pod", "stop-me")
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("a 2s grace period took %s", d)
	}
	framework.Contains(t, s.Run("delete", "pod", "force-me", "--grace-period=0", "--force"), `pod "force-me" force deleted`)
	framework.Contains(t, s.Fail("get", "pod", "force-me"), "NotFound")
}

// A hostNetwork pod uses the node's address.
func TestHostNetwork(t *testing.T) {
	s := session(t)
	m := strings.Replace(pod("hostnet", "Always", container("c", "busybox:1.36", "sleep", "3600")), "  containers:", "  hostNetwork: true\n  containers:", 1)
	s.Apply(m)
	s.Run("wait", "--for=condition=Ready", "pod/hostnet", "--timeout=60s")
	ip := s.Run("get", "pod", "hostnet", "-o", "jsonpath={.status.podIP}")
	hostIP := s.Run("get", "pod", "hostnet", "-o", "jsonpath={.status.hostIP}")
	if ip == "" || ip != hostIP {
		t.Fatalf("podIP %q, hostIP %q", ip, hostIP)
	}
}

// A running pod whose activeDeadlineSeconds is set (here by an update) is
// stopped at the deadline and fails with upstream's reason.
func TestActiveDeadlineStopsAPod(t *testing.T) {
	s := session(t)
	s.Apply(pod("deadline", "Always", container("c", "busybox:1.36", "sleep", "3600")))
	s.Run("wait", "--for=condition=Ready", "pod/deadline", "--timeout=60s")
	s.Run("patch", "pod", "deadline", "-p", `{"spec":{"activeDeadlineSeconds":3}}`)
	framework.Eventually(t, 60*time.Second, func() error {
		got := s.Run("get", "pod", "deadline", "-o", "jsonpath={.status.phase} {.status.reason}")
		if got != "Failed DeadlineExceeded" {
			return fmt.Errorf("phase and reason %q, want Failed DeadlineExceeded", got)
		}
		return nil
	})
	framework.Contains(t, s.Run("get", "pod", "deadline", "-o", "jsonpath={.status.message}"),
		"Pod was active on the node longer than the specified deadline")
	framework.Contains(t, s.Run("get", "events", "--field-selector=reason=DeadlineExceeded"), "pod/deadline")
}
