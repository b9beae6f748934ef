package node

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// withSpec inserts extra container fields (probes, lifecycle, resources) after a
// container's image lines.
func withSpec(c, extra string) string { return c + extra }

// A failing liveness probe restarts the container, with upstream's events.
func TestLivenessProbeRestarts(t *testing.T) {
	s := session(t)
	c := withSpec(container("c", "busybox:1.36", "sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 600"), `    livenessProbe:
      exec:
        command: ["cat", "/tmp/healthy"]
      periodSeconds: 1
      failureThreshold: 2
`)
	s.Apply(pod("live", "Always", c))
	framework.Eventually(t, 60*time.Second, func() error {
		n := s.Do("get", "pod", "live", "-o", "jsonpath={.status.containerStatuses[0].restartCount}").Stdout
		if v, _ := strconv.Atoi(n); v < 1 {
			return fmt.Errorf("restartCount %q", n)
		}
		return nil
	})
	d := s.Run("describe", "pod", "live")
	framework.Contains(t, d, "Liveness probe failed: cat: can't open '/tmp/healthy'", "Container c failed liveness probe, will be restarted")
}

// Readiness follows an HTTP probe: ready when it answers 2xx, not ready on 404.
func TestReadinessProbe(t *testing.T) {
	s := session(t)
	good := withSpec(container("web", "minik8s.io/testserver:latest"), `    readinessProbe:
      httpGet:
        path: /readyz
        port: 8080
      periodSeconds: 1
`)
	bad := withSpec(container("web", "minik8s.io/testserver:latest"), `    ports:
    - name: http
      containerPort: 8080
    readinessProbe:
      httpGet:
        path: /missing
        port: http
      periodSeconds: 1
`)
	s.Apply(pod("ready", "Always", good))
	s.Apply(pod("unready", "Always", bad))
	s.Run("wait", "--for=condition=Ready", "pod/ready", "--timeout=60s")
	waitField(t, s, "unready", "{.status.phase}", "Running")
	framework.Eventually(t, 30*time.Second, func() error {
		d := s.Do("describe", "pod", "unready").Stdout
		if !strings.Contains(d, "Readiness probe failed: HTTP probe failed with statuscode: 404") {
			return fmt.Errorf("no readiness failure event yet:\n%s", d)
		}
		return nil
	})
	framework.Matches(t, s.Run("get", "pod", "unready"), `unready\s+0/1\s+Running\s+0`)
	framework.Contains(t, s.Run("get", "pod", "unready", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`), "False")
}

// A startup probe holds back readiness until it passes, and restarts a container
// that never passes it.
func TestStartupProbe(t *testing.T) {
	s := session(t)
	passes := withSpec(container("web", "minik8s.io/testserver:latest"), `    startupProbe:
      tcpSocket:
        port: 8080
      periodSeconds: 1
    readinessProbe:
      tcpSocket:
        port: 8080
      periodSeconds: 1
`)
	never := withSpec(container("c", "busybox:1.36", "sleep", "600"), `    startupProbe:
      tcpSocket:
        port: 9999
      periodSeconds: 1
      failureThreshold: 2
`)
	s.Apply(pod("starts", "Always", passes))
	s.Apply(pod("never-starts", "Always", never))
	s.Run("wait", "--for=condition=Ready", "pod/starts", "--timeout=60s")
	framework.Contains(t, s.Run("get", "pod", "starts", "-o", "jsonpath={.status.containerStatuses[0].started}"), "true")
	framework.Eventually(t, 60*time.Second, func() error {
		d := s.Do("describe", "pod", "never-starts").Stdout
		if !strings.Contains(d, "Startup probe failed: dial tcp") || !strings.Contains(d, "failed startup probe, will be restarted") {
			return fmt.Errorf("no startup failure yet:\n%s", d)
		}
		return nil
	})
}

// postStart runs right after the container starts; a failing one kills it.
func TestLifecycleHooks(t *testing.T) {
	s := session(t)
	ok := withSpec(container("c", "busybox:1.36", "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do test -f /tmp/hook && break; sleep 0.5; done; cat /tmp/hook > /dev/termination-log"), `    lifecycle:
      postStart:
        exec:
          command: ["sh", "-c", "echo from-hook > /tmp/hook"]
`)
	failing := withSpec(container("c", "busybox:1.36", "sleep", "600"), `    lifecycle:
      postStart:
        exec:
          command: ["sh", "-c", "exit 7"]
`)
	s.Apply(pod("hooked", "Never", ok))
	s.Apply(pod("bad-hook", "Always", failing))
	waitField(t, s, "hooked", "{.status.containerStatuses[0].state.terminated.message}", "from-hook\n")
	framework.Eventually(t, 60*time.Second, func() error {
		d := s.Do("describe", "pod", "bad-hook").Stdout
		if !strings.Contains(d, "FailedPostStartHook") {
			return fmt.Errorf("no FailedPostStartHook event yet:\n%s", d)
		}
		return nil
	})
}

// Deletion waits for the preStop hook, sends SIGTERM, and SIGKILLs what is left
// when the grace period ends.
func TestGracefulTermination(t *testing.T) {
	s := session(t)
	// PID 1 without a SIGTERM handler ignores SIGTERM: only SIGKILL ends it.
	stubborn := strings.Replace(pod("stubborn", "Always", container("c", "busybox:1.36", "sleep", "600")),
		"terminationGracePeriodSeconds: 2", "terminationGracePeriodSeconds: 3", 1)
	// The test server ends on SIGTERM at once.
	polite := strings.Replace(pod("polite", "Always", container("c", "minik8s.io/testserver:latest")),
		"terminationGracePeriodSeconds: 2", "terminationGracePeriodSeconds: 30", 1)
	prestop := strings.Replace(pod("prestop", "Always", withSpec(container("c", "minik8s.io/testserver:latest"), `    lifecycle:
      preStop:
        sleep:
          seconds: 2
`)), "terminationGracePeriodSeconds: 2", "terminationGracePeriodSeconds: 30", 1)
	s.Apply(stubborn)
	s.Apply(polite)
	s.Apply(prestop)
	s.Run("wait", "--for=condition=Ready", "pod/stubborn", "pod/polite", "pod/prestop", "--timeout=60s")

	timeDelete := func(name string) time.Duration {
		start := time.Now()
		s.Run("delete", "pod", name, "--wait=true")
		return time.Since(start)
	}
	if d := timeDelete("polite"); d > 10*time.Second {
		t.Errorf("a container that ends on SIGTERM took %s to delete with a 30s grace period", d)
	}
	if d := timeDelete("stubborn"); d < 3*time.Second || d > 15*time.Second {
		t.Errorf("a container ignoring SIGTERM with a 3s grace period took %s to delete", d)
	}
	if d := timeDelete("prestop"); d < 2*time.Second || d > 15*time.Second {
		t.Errorf("a 2s preStop sleep took %s to delete", d)
	}
}

// A container over its memory limit is OOMKilled; a command that cannot start
// reports the runtime's error; the agent goes on with other pods.
func TestContainerFailures(t *testing.T) {
	s := session(t)
	hog := withSpec(container("hog", "busybox:1.36", "sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); sleep 5"), `    resources:
      limits:
        memory: 24Mi
`)
	s.Apply(pod("hog", "Never", hog))
	s.Apply(pod("no-binary", "Always", container("c", "busybox:1.36", "/no/such/binary")))
	waitField(t, s, "hog", "{.status.containerStatuses[0].state.terminated.reason}", "OOMKilled")
	framework.Contains(t, s.Run("get", "pod", "hog", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}"), "137")
	framework.Eventually(t, 60*time.Second, func() error {
		out := s.Do("get", "pod", "no-binary", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].lastState.terminated.reason}").Stdout
		if !strings.Contains(out, "RunContainerError") && !strings.Contains(out, "CrashLoopBackOff") && !strings.Contains(out, "StartError") {
			return fmt.Errorf("state %q", out)
		}
		return nil
	})
	framework.Contains(t, s.Run("describe", "pod", "no-binary"), "/no/such/binary")
	s.Apply(pod("fine", "Always", container("c", "busybox:1.36", "sleep", "600")))
	s.Run("wait", "--for=condition=Ready", "pod/fine", "--timeout=60s")
}

// A gRPC liveness probe that cannot reach a health service restarts the
// container, as upstream's conformance test with a wrong port expects.
func TestGRPCLivenessProbeRestarts(t *testing.T) {
	s := session(t)
	c := withSpec(container("c", "busybox:1.36", "sleep", "3600"), `    livenessProbe:
      grpc:
        port: 2333
      initialDelaySeconds: 1
      periodSeconds: 2
      timeoutSeconds: 1
      failureThreshold: 1
`)
	s.Apply(pod("grpc-live", "Always", c))
	framework.Eventually(t, 90*time.Second, func() error {
		n := s.Do("get", "pod", "grpc-live", "-o", "jsonpath={.status.containerStatuses[0].restartCount}").Stdout
		if v, _ := strconv.Atoi(n); v < 1 {
			return fmt.Errorf("restartCount %q", n)
		}
		return nil
	})
	framework.Contains(t, s.Run("describe", "pod", "grpc-live"), "Liveness probe failed: timeout: failed to connect service", "Container c failed liveness probe, will be restarted")
}

// A gRPC liveness probe passes while the health service is SERVING and restarts
// the container once it answers NOT_SERVING.
func TestGRPCLivenessProbeFollowsTheHealthService(t *testing.T) {
	s := session(t)
	c := withSpec(container("c", "minik8s.io/testserver:latest", "/testserver", "grpc-health", "8"), `    ports: [{containerPort: 5000}]
    livenessProbe:
      grpc:
        port: 5000
      periodSeconds: 1
      timeoutSeconds: 2
      failureThreshold: 1
`)
	s.Apply(pod("grpc-health", "Always", c))
	s.Run("wait", "--for=condition=Ready", "pod/grpc-health", "--timeout=60s")
	framework.Contains(t, s.Run("get", "pod", "grpc-health", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"), "0")
	framework.Eventually(t, 90*time.Second, func() error {
		n := s.Do("get", "pod", "grpc-health", "-o", "jsonpath={.status.containerStatuses[0].restartCount}").Stdout
		if v, _ := strconv.Atoi(n); v < 1 {
			return fmt.Errorf("restartCount %q", n)
		}
		return nil
	})
	framework.Contains(t, s.Run("describe", "pod", "grpc-health"), `Liveness probe failed: service unhealthy (responded with "NOT_SERVING")`)
}
